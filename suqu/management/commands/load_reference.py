import time

from django.core.management.base import BaseCommand, CommandError

from cases.services import categories_load
from deadlines.worktime import calendar_seed, office_hours_seed
from grids.boundaries import boundaries_generate
from grids.services import regions_load_sujiatun
from routing.services import (
    CategoriesNotLoaded,
    RegionsNotLoaded,
    UnitsNotLoaded,
    rules_load_sujiatun,
    sla_policies_load,
    units_load_sujiatun,
)

# The order matters: units hang off the regions, rules off categories and units.
REFERENCE_STEPS = [
    ("regions", regions_load_sujiatun),
    # Generated inside the published outline until the district's GIS data is imported (docs/maps.md).
    ("boundaries", lambda progress: {"generated": boundaries_generate(progress=progress).regenerated}),
    ("categories", lambda progress: {"created": categories_load()}),
    ("units and pairings", units_load_sujiatun),
    ("routing rules", rules_load_sujiatun),
    ("SLA policies", sla_policies_load),
    ("work calendar", lambda progress: {**calendar_seed(), "office hours": office_hours_seed()}),
]


def run_steps(command, steps):
    """Run loader steps, printing counts and the loaders' own progress; a loader's refusal ends
    the command with its message."""

    def progress(stage, done, total):
        command.stdout.write(f"  {stage}: {done}" if done == total else f"  {stage}: {done}/{total}")

    try:
        for label, load in steps:
            started = time.monotonic()
            counts = load(progress=progress)
            summary = ", ".join(f"{key} {value}" for key, value in counts.items())
            command.stdout.write(f"{label}: {summary} ({time.monotonic() - started:.1f} s)")
    except (RegionsNotLoaded, UnitsNotLoaded, CategoriesNotLoaded) as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "Load the reference data every installation needs: the district's places and their boundaries, "
        "categories, units and "
        "pairings, routing rules, SLA policies and the work calendar. Creates what is missing and never "
        "overwrites an administrator's changes, so it is safe to run again (and after each November's "
        "holiday announcement, once chinese-calendar covers the new year)."
    )

    def handle(self, *args, **options):
        run_steps(self, REFERENCE_STEPS)
        self.stdout.write(self.style.SUCCESS("reference data ready"))
