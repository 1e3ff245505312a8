import time

from django.core.management.base import BaseCommand, CommandError

from scale.volunteers import TasksRefused, check_size, tasks_generate


class Command(BaseCommand):
    help = (
        "Fill the database with N volunteer tasks over the demo's teams and volunteers (a year back and a month "
        "ahead), with their sign-ups and points lines, and bookings of the teams' services, loaded with COPY, beside "
        "the tasks already there (--reset: instead of them). See docs/performance.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", required=True, help="how many tasks, e.g. 100000")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same tasks")
        parser.add_argument("--reset", action="store_true", help="delete every task, sign-up and booking first")

    def handle(self, *args, **options):
        self.started = time.monotonic()
        try:
            size = check_size(options["size"])
            counts = tasks_generate(size=size, seed=options["seed"], reset=options["reset"], say=self._say)
        except TasksRefused as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"generated: {summary}"))

    def _say(self, text):
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f} s] {text}")
        self.stdout.flush()
