from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import DEMO_PASSWORD, DemoDataRefused, demo_user_ensure


class Command(BaseCommand):
    help = "Load the demo data and demo accounts (DEBUG only). Safe to run again: it keeps existing data."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("refusing to create demo accounts with a known password: DEBUG is off")
        try:
            demo_user_ensure(username="admin", real_name="系统管理员", superuser=True)
        except DemoDataRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"demo data ready; demo accounts use the password {DEMO_PASSWORD}"))
