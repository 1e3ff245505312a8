from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import DEMO_PASSWORD, DemoDataRefused, demo_user_ensure
from integrations.services import demo_systems_load
from routing.services import demo_people_load
from suqu.management.commands.load_reference import REFERENCE_STEPS, run_steps


class Command(BaseCommand):
    help = (
        "Load the reference data, then the demo accounts and people (DEBUG only). Safe to run again: "
        "it keeps existing data."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("refusing to create demo accounts with a known password: DEBUG is off")
        try:
            demo_user_ensure(username="admin", real_name="系统管理员", superuser=True)
            run_steps(self, [*REFERENCE_STEPS, ("demo people", demo_people_load), ("demo systems", demo_systems_load)])
        except DemoDataRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"demo data ready; demo accounts use the password {DEMO_PASSWORD}"))
