"""manage.py generate_boundaries [--seed S]: give every place without a real boundary a generated one
inside the district's published outline (docs/maps.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from grids.boundaries import DEFAULT_SEED, BoundaryError, boundaries_generate


class Command(BaseCommand):
    help = "Generate the boundaries of streets, communities and grids that have no real one; reproducible."

    def add_arguments(self, parser):
        parser.add_argument("--seed", default=DEFAULT_SEED, help="the same seed always gives the same shapes")

    def handle(self, *args, seed, **options):
        try:
            report = boundaries_generate(seed=seed, progress=self.progress)
        except BoundaryError as error:
            for code, reason in error.problems:
                self.stderr.write(f"{code}: {reason}")
            raise CommandError(str(error)) from None
        self.stdout.write(
            _("%(count)d places have generated boundaries (boundaries version %(version)d)")
            % {"count": report.regenerated, "version": report.version}
        )

    def progress(self, stage, done, total):
        self.stdout.write(_("shared out %(done)d of %(total)d places") % {"done": done, "total": total})
