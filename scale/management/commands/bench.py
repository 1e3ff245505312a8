from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scale.bench import SCENARIOS, Bench, BenchError, Options, report_write, table
from scale.city import CityDay, report_lines

DEFAULT_OUT = Path(settings.BASE_DIR) / "benchmarks" / "results"


class Command(BaseCommand):
    help = (
        "Time logging a call, the queue, case, list, dashboard and metrics pages (through a gunicorn started "
        "for the run), the deadline sweep and a large export, each beside the same work in bare SQL, on the "
        "current database (fill it first: manage.py generate_cases --size N). Prints a table and writes the "
        "figures as JSON to benchmarks/results/. It changes the data as the real work would: run it on "
        "generated data only."
    )

    def add_arguments(self, parser):
        # Read as text and checked in handle(), so that call_command() gets the same messages.
        parser.add_argument("--requests", default=30, help="timed requests per scenario (default 30)")
        parser.add_argument("--clients", default=4, help="concurrent clients logging calls (default 4)")
        parser.add_argument(
            "--export-rows", default=100_000, help="rows of the export, at most (default 100000; whole days)"
        )
        parser.add_argument(
            "--sweep-active",
            default=Options.sweep_active,
            help=f"open and dispatch cases until this many assignments are active before the sweeps, so that "
            f"the largest can have that many due (default {Options.sweep_active}; a district has about 4,400)",
        )
        parser.add_argument("--out", default=str(DEFAULT_OUT), help="the directory of the JSON file")
        parser.add_argument("--label", default="", help="a note kept in the JSON file, e.g. 'after the index'")
        parser.add_argument(
            "--city-day",
            action="store_true",
            help="instead of the scenarios: the city's busy minute of calls, paced, and ten times it "
            "(docs/scale-out.md)",
        )
        parser.add_argument("--city-seconds", default=60, help="how long each paced run of --city-day lasts")
        parser.add_argument(
            "--only",
            default="",
            help="run these scenarios only, by name, comma-separated (e.g. call,case); default: all of them",
        )

    def handle(self, *args, **options):
        bench_options = Options(
            requests=_whole_number(options, "requests"),
            clients=_whole_number(options, "clients"),
            export_rows=_whole_number(options, "export_rows"),
            sweep_active=_whole_number(options, "sweep_active"),
            label=options["label"],
            only=_scenario_names(options["only"]),
        )
        if options["city_day"]:
            seconds = _whole_number(options, "city_seconds")
            bench, lines = CityDay(bench_options, seconds=seconds, say=self._say), report_lines
        else:
            bench, lines = Bench(bench_options, say=self._say), table
        try:
            report = bench.run()
        except BenchError as error:
            raise CommandError(str(error)) from None
        path = report_write(report, Path(options["out"]))
        self.stdout.write("")
        for line in lines(report):
            self.stdout.write(line)
        self.stdout.write(f"\nwritten to {path}")
        if report["errors"]:
            raise CommandError(f"{report['errors']} operations failed (see the errors above and in {path})")

    def _say(self, text):
        self.stdout.write(text)
        self.stdout.flush()


def _whole_number(options, name) -> int:
    value = options[name]
    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CommandError(f"{flag}: expected a whole number, got {value!r}")
    try:
        number = int(str(value).replace("_", ""))
    except ValueError:
        raise CommandError(f"{flag}: expected a whole number, got {value!r}") from None
    if number < 1:
        raise CommandError(f"{flag}: must be at least 1, got {number}")
    return number


def _scenario_names(text) -> tuple:
    names = tuple(dict.fromkeys(name.strip() for name in str(text).split(",") if name.strip()))
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise CommandError(f"--only: unknown scenario {', '.join(unknown)}; the scenarios are {', '.join(SCENARIOS)}")
    return names
