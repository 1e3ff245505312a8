"""manage.py import_boundaries FILE [--code-field code] [--tolerance 0.01] [--dry-run]: replace one
level of generated boundaries with the district's real ones, from GeoJSON or a Shapefile
(docs/maps.md). All or nothing: a refusal lists every problem with its region code."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.boundaries import DEFAULT_TOLERANCE, BoundaryError, boundaries_import, features_from_file


class Command(BaseCommand):
    help = "Import real boundaries of one level of places from a .geojson/.json, .shp or .zip (Shapefile)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="a GeoJSON FeatureCollection, a .shp (with its .dbf), or a .zip")
        parser.add_argument("--code-field", default="code", help="the property holding each place's region code")
        parser.add_argument(
            "--tolerance",
            type=float,
            default=DEFAULT_TOLERANCE,
            help="share of a place's area allowed outside its parent or over a neighbour (default 0.01)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check everything; write nothing")

    def handle(self, *args, file, code_field, tolerance, dry_run, **options):
        if not file.is_file():
            raise CommandError(_("%(name)s: no such file") % {"name": file})
        if not 0 <= tolerance < 0.5:
            raise CommandError(_("--tolerance: give a share between 0 and 0.5"))
        try:
            features = features_from_file(file, code_field=code_field)
            report = boundaries_import(features, tolerance=tolerance, dry_run=dry_run)
        except BoundaryError as error:
            for code, reason in error.problems:
                self.stderr.write(f"{code or _('the file')}: {reason}")
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("%(imported)d real boundaries imported, %(generated)d places generated anew around them")
            % {"imported": len(report.imported), "generated": report.regenerated}
        )
        if report.dry_run:
            self.stdout.write(_("dry run: nothing was written"))
