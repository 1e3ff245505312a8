import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import DEMO_PASSWORD, DemoDataRefused, demo_user_ensure
from cases.services import categories_load
from grids.services import regions_load_sujiatun
from routing.services import RegionsNotLoaded, UnitsNotLoaded, demo_people_load, units_load_sujiatun


class Command(BaseCommand):
    help = "Load the demo data and demo accounts (DEBUG only). Safe to run again: it keeps existing data."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("refusing to create demo accounts with a known password: DEBUG is off")
        # The order matters: units hang off the regions, people off the units and grids.
        steps = [
            ("regions", regions_load_sujiatun),
            ("categories", lambda progress: {"created": categories_load()}),
            ("units and pairings", units_load_sujiatun),
            ("demo people", demo_people_load),
        ]
        try:
            demo_user_ensure(username="admin", real_name="系统管理员", superuser=True)
            for label, load in steps:
                started = time.monotonic()
                counts = load(progress=self.progress)
                summary = ", ".join(f"{key} {value}" for key, value in counts.items())
                self.stdout.write(f"{label}: {summary} ({time.monotonic() - started:.1f} s)")
        except (DemoDataRefused, RegionsNotLoaded, UnitsNotLoaded) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"demo data ready; demo accounts use the password {DEMO_PASSWORD}"))

    def progress(self, stage, done, total):
        # Called by the loaders (see grids.services.Progress): a long stage reports as it goes.
        self.stdout.write(f"  {stage}: {done}" if done == total else f"  {stage}: {done}/{total}")
