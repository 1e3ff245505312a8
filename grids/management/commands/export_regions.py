"""manage.py export_regions FILE [--level grid] [--under CODE]: write regions to a .csv or .xlsx
file in the format import_regions reads, so that the file imports back unchanged."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.models import Region
from grids.services import RegionFileError, regions_export, rows_to_file


class Command(BaseCommand):
    help = "Export regions to a .csv or .xlsx file (chosen by the extension) in the import format."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the file to write: .csv or .xlsx")
        parser.add_argument("--level", choices=Region.Level.values, help="only regions of this level")
        parser.add_argument("--under", metavar="CODE", help="only this region and the regions below it")

    def handle(self, *args, file, level, under, **options):
        if file.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError(_("%(name)s: only .csv and .xlsx files are supported") % {"name": file.name})
        regions = Region.objects.all()
        if under:
            if not Region.objects.filter(code=under).exists():
                raise CommandError(_("unknown region %(code)s") % {"code": under})
            regions = regions.filter(code__startswith=under)
        if level:
            regions = regions.filter(level=level)
        rows = regions_export(queryset=regions)
        try:
            with file.open("wb") as output:
                rows_to_file(rows, output, file.name)
        except (RegionFileError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(_("exported %(count)d regions to %(name)s") % {"count": len(rows), "name": file})
