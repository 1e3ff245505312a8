"""manage.py export_social teams|volunteers|pairings FILE: write them to a .xlsx or .csv file in the
format import_social reads, so that the file imports back unchanged."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from units.models import Pairing
from volunteers import imports
from volunteers.models import Team, Volunteer

EXPORTS = {
    "teams": lambda: imports.teams_export(queryset=Team.objects.all()),
    "volunteers": lambda: imports.volunteers_export(queryset=Volunteer.objects.all()),
    "pairings": lambda: imports.pairings_export(queryset=Pairing.objects.all()),
}


class Command(BaseCommand):
    help = "Export every volunteer team, volunteer or pairing (结邻共建) to a .xlsx or .csv file (by the extension)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(EXPORTS))
        parser.add_argument("file", type=Path, help="the file to write: .xlsx or .csv")

    def handle(self, *args, kind, file, **options):
        suffix = file.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise CommandError(_("%(name)s: only .csv and .xlsx files are supported") % {"name": file.name})
        rows = EXPORTS[kind]()
        columns = imports.COLUMNS[kind]
        try:
            with file.open("wb") as output:
                if suffix == ".xlsx":
                    imports.rows_to_xlsx(rows, columns, output, sheet_name=kind)
                else:
                    imports.rows_to_csv(rows, columns, output)
        except OSError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"exported {len(rows)} {kind} to {file}")
