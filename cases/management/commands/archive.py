import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.partitions import ArchiveRefused, archive_plan, partitions_archive, partitions_ensure, partitions_restore


def _month(text):
    try:
        return datetime.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise CommandError(f"--before: expected a month like 2024-01, got {text!r}") from None


class Command(BaseCommand):
    help = (
        "Archive the months before --before of every partitioned table (case events, alerts) into "
        "--to DIR: each month detached, written to a gzipped COPY file listed in DIR/manifest.json "
        "(rows, sha256) and dropped. `archive restore DIR` attaches them back. `archive ensure` makes "
        "the months ahead (beat does it daily). See docs/operations.md, Partitions and archive."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", nargs="?", choices=["restore", "ensure"], help="restore DIR, or ensure")
        parser.add_argument("directory", nargs="?", help="the archive directory to restore from")
        parser.add_argument("--before", help="archive the months before this one, YYYY-MM")
        parser.add_argument("--to", dest="target", help="the archive directory to write")
        parser.add_argument("--dry-run", action="store_true", help="list the months that would be archived")

    def handle(self, *args, action, directory, before, target, dry_run, **options):
        say = self.stdout.write
        try:
            if action == "ensure":
                made = partitions_ensure()
                say(self.style.SUCCESS(f"{len(made)} partition(s) made: {', '.join(made) or 'none needed'}"))
            elif action == "restore":
                if not directory:
                    raise CommandError("archive restore DIR: name the archive directory")
                restored = partitions_restore(directory=Path(directory), say=say)
                say(self.style.SUCCESS(f"{len(restored)} month(s) restored from {directory}"))
            else:
                if not before or not (target or dry_run):
                    raise CommandError("archive --before YYYY-MM --to DIR (or --dry-run)")
                if dry_run:
                    for _table, _when, name in archive_plan(before=_month(before)):
                        say(name)
                    return
                archived = partitions_archive(before=_month(before), directory=Path(target), say=say)
                rows = sum(entry["rows"] for entry in archived)
                say(self.style.SUCCESS(f"{len(archived)} month(s), {rows:,} rows archived to {target}"))
        except ArchiveRefused as error:
            raise CommandError(f"stopped (the months said above are done):\n{error}") from None
