"""manage.py import_regions FILE [--dry-run] [--replace]: add and update streets, communities and
grids from a .csv or .xlsx file (format in docs/grids.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.services import RegionFileError, RegionImportError, region_import, rows_from_file


class Command(BaseCommand):
    help = "Import streets, communities and grids from a .csv or .xlsx file; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", type=Path, help="a .csv or .xlsx file: code,name,parent_code[,latitude,longitude,boundary]"
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count what would change; write nothing")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="delete the grids of the communities in the file that the file does not list",
        )

    def handle(self, *args, file, dry_run, replace, **options):
        if not file.is_file():
            raise CommandError(_("%(name)s: no such file") % {"name": file})
        try:
            rows = rows_from_file(file)
            result = region_import(rows=rows, replace=replace, dry_run=dry_run, progress=self.progress)
        except RegionFileError as error:
            raise CommandError(str(error)) from None
        except RegionImportError as error:
            for line, field, message in error.errors:
                self.stderr.write(
                    _("line %(line)d: %(field)s: %(message)s") % {"line": line, "field": field, "message": message}
                )
            raise CommandError(str(error)) from None
        counts = {
            "created": result.created,
            "updated": result.updated,
            "deleted": result.deleted,
            "unchanged": result.unchanged,
        }
        self.stdout.write(
            _("%(created)d created, %(updated)d updated, %(deleted)d deleted, %(unchanged)d unchanged") % counts
        )
        if result.dry_run:
            self.stdout.write(_("dry run: nothing was written"))

    def progress(self, stage, done, total):
        messages = {
            "check": _("checked %(done)d of %(total)d rows"),
            "write": _("wrote %(done)d of %(total)d changes"),
        }
        self.stdout.write(messages[stage] % {"done": done, "total": total})
