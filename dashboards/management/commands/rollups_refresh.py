import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboards.services import rollups_refresh


def _date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"expected a date like 2026-03-01, got {text!r}") from None


class Command(BaseCommand):
    help = "Recompute the dashboards' daily rollups for a range of days, a month at a time (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")

    def handle(self, *args, first, last, **options):
        first = _date(first)
        last = _date(last) if last else timezone.localdate()
        if last < first:
            raise CommandError("--to is before --from")
        total_days = (last - first).days + 1
        done = 0
        start = first
        while start <= last:
            end = min(last, start + datetime.timedelta(days=30))
            rows = rollups_refresh(first=start, last=end)
            done += (end - start).days + 1
            self.stdout.write(f"{start}–{end}: {rows} rows ({100 * done // total_days}%)")
            start = end + datetime.timedelta(days=1)
        self.stdout.write(self.style.SUCCESS(f"rollups refreshed for {total_days} days"))
