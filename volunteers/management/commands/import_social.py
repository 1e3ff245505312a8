"""manage.py import_social teams|volunteers|pairings FILE [--dry-run] [--replace]: teams, volunteers
or 结邻共建 pairings from a .xlsx or .csv file, all or nothing (formats in docs/volunteers.md)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.services import RegionFileError, rows_from_file
from volunteers import imports

KINDS = {"teams": imports.teams_import, "volunteers": imports.volunteers_import, "pairings": imports.pairings_import}


class Command(BaseCommand):
    help = "Import volunteer teams, volunteers or pairings (结邻共建) from a .xlsx or .csv file; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file", type=Path, help="a .xlsx or .csv file with the columns of docs/volunteers.md")
        parser.add_argument("--dry-run", action="store_true", help="check and count what would change; write nothing")
        parser.add_argument(
            "--replace", action="store_true", help="pairings: each community in the file keeps only the file's agencies"
        )

    def handle(self, *args, kind, file, dry_run, replace, **options):
        if not file.is_file():
            raise CommandError(_("%(name)s: no such file") % {"name": file})
        if replace and kind != "pairings":
            raise CommandError("--replace is for pairings only")
        extra = {"replace": replace} if kind == "pairings" else {}
        try:
            result = KINDS[kind](rows=rows_from_file(file), dry_run=dry_run, **extra)
        except RegionFileError as error:
            raise CommandError(str(error)) from None
        except imports.ImportProblems as error:
            for line, field, message in error.errors:
                self.stderr.write(
                    _("line %(line)d: %(field)s: %(message)s") % {"line": line, "field": field, "message": message}
                )
            raise CommandError(str(error)) from None
        r = result
        self.stdout.write(f"{r.created} created, {r.updated} updated, {r.deleted} deleted, {r.unchanged} unchanged")
        if result.dry_run:
            self.stdout.write(_("dry run: nothing was written"))
