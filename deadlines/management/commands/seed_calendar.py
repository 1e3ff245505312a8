"""manage.py seed_calendar [--year 2026 ...]: China's holidays and worked weekends (调休) from the
chinese-calendar package, and the default office hours when there are none. Rows that exist are
kept as they are, so it is safe to run again (and after an admin has corrected a day)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from deadlines.worktime import YearNotCovered, calendar_seed, office_hours_seed


class Command(BaseCommand):
    help = "Add China's holidays and worked weekends from chinese-calendar, and default office hours."

    def add_arguments(self, parser):
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            dest="years",
            metavar="YEAR",
            help="only this year (repeatable); default: every year the package covers",
        )

    def handle(self, *args, years, **options):
        try:
            counts = calendar_seed(years=years)
        except YearNotCovered as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_("calendar exceptions: %(created)d created, %(kept)d kept as they were") % counts)
        created = office_hours_seed()
        if created:
            self.stdout.write(_("office hours: %(count)d periods created") % {"count": created})
        else:
            self.stdout.write(_("office hours: already set, kept as they were"))
