import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from scale.generator import CHUNK, GenerationRefused, Generator, check_empty, check_room, check_size


class Command(BaseCommand):
    help = (
        "Fill the database with N realistic cases over the real hierarchy (arrivals shaped like a year of "
        "311 traffic, every fate, complete timelines), loaded with COPY. Refuses a database that holds cases "
        "unless --reset is given. See docs/performance.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", required=True, help="how many cases, e.g. 1000000")
        parser.add_argument("--seed", type=int, default=1, help="the same seed and end give the same data")
        parser.add_argument(
            "--end", help="the moment the generated history reaches, ISO 8601 with a time zone (default: now)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            help="processes computing the cases, and connections for the work after the load "
            "(default: the CPUs, at most 4); same data",
        )
        parser.add_argument(
            "--days", type=int, help="the days the history covers (default: 900 cases a day, at least 30 days)"
        )
        parser.add_argument("--chunk", type=int, default=CHUNK, help="cases per COPY round and per worker task")
        parser.add_argument("--reset", action="store_true", help="delete every case (and what hangs off it) first")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the database already holds cases (make run)"
        )
        parser.add_argument(
            "--check", action="store_true", help="only check the size, the database and the disk; write nothing"
        )

    def handle(self, *args, **options):
        self.started = time.monotonic()
        if options["if_empty"] and Case.objects.exists():
            self.stdout.write("the database already holds cases: none generated")
            return
        for name in ("workers", "chunk", "days"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name}: must be at least 1, got {options[name]}")
        try:
            size = check_size(options["size"])
            end = _moment(options["end"]) if options["end"] else None
            if options["check"]:
                check_empty(reset=options["reset"])
                check_room(size)
                self.stdout.write(f"{size:,} cases can be generated here")
                return
            chosen = {name: options[name] for name in ("seed", "days", "workers", "chunk")}
            generator = Generator(size=size, end=end, progress=self._say, **chosen)
            counts = generator.run(reset=options["reset"])
        except GenerationRefused as exc:
            raise CommandError(str(exc)) from None
        summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"generated: {summary}"))

    def _say(self, text):
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f} s] {text}")
        self.stdout.flush()


def _moment(text):
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--end: expected a moment like 2026-03-31T18:00+08:00, got {text!r}") from None
    if moment.tzinfo is None:
        raise CommandError(f"--end: give a time zone, like 2026-03-31T18:00+08:00 (got {text!r})")
    return moment
