"""A city on paper (docs/scale-out.md): what 沈阳市 (13 districts, about 9 million people) brings,
from the generator's Boston-shaped arrivals scaled from 苏家屯区 by population, and
`manage.py bench --city-day`: the city's busiest minute of calls through the real call API,
paced as they would arrive, while the new cases are routed beside them.

The paced run is open-loop: each call has its moment of arrival (a Poisson process at the
minute's rate), and its latency is counted from that moment, so a machine that falls behind shows
it as waiting (the backlog) rather than hiding it by sending fewer calls. The routing of the new
cases runs in two threads of this process through the function the dispatch worker's task calls
(`routing.dispatch.case_route_auto`): a Celery worker would take the shared Redis's `dispatch`
queue, which holds other runs' and tests' case ids.
"""

import datetime
import json
import math
import os
import random
import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.db.models.functions import Mod
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from routing.dispatch import case_route_auto
from routing.models import AutoRouteAttempt
from scale.bench import (
    CALL_FIELDS,
    Bench,
    BenchError,
    Failure,
    Options,
    Server,
    _ms,
    git_state,
    machine_facts,
    percentile,
    session_close,
    static_check,
    world_pick,
)
from scale.generator import ARRIVALS, PER_DAY

# ../shared/data/README.md: 苏家屯区 had 524,300 residents at the 2020 census, and the generator's
# 900 cases a day are that district's. The city's figure is the (13 districts).
DISTRICT_POPULATION = 524_300
CITY_POPULATION = 9_000_000
YEAR = 2026  # the year whose calendar the day factors and weekdays are laid on
BUSY_SHARE = 0.999  # the busy minute: one minute in a thousand of the peak hour brings more
HEADROOM = 10  # the second paced run: this many times the busy minute
CLIENTS = 10  # as many as gunicorn's 5 workers × 2 threads take at once
ROUTERS = 2  # a dispatch worker's processes on this 2-core machine (Celery's default: one a core)
DRAIN_SECONDS = 120  # how long the routing may take to catch up after a paced minute
# The tables that grow with the cases (what a year of them costs on disk).
CASE_TABLES = (
    "cases_case",
    "cases_caseevent",
    "intake_call",
    "routing_assignment",
    "routing_alert",
    "routing_supervision",
    "routing_autorouteattempt",
    "dashboards_dailyrollup",
)


def poisson_quantile(mean, share) -> int:
    """The least k with P(X <= k) >= share for X ~ Poisson(mean)."""
    term = cumulative = math.exp(-mean)
    k = 0
    while cumulative < share:
        k += 1
        term *= mean / k
        cumulative += term
    return k


def city_load(population=CITY_POPULATION) -> dict:
    """Calls a day, on the peak day, in the peak hour and minute for `population` people, by the
    generator's shapes: the district's PER_DAY cases scaled by population, spread over a year by
    the weekday's share times the day of the year's factor, and over a day by the hour's share."""
    factor = population / DISTRICT_POPULATION
    per_day = PER_DAY * factor
    first = datetime.date(YEAR, 1, 1)
    days = [first + datetime.timedelta(days=n) for n in range(365)]
    factors, weekdays = ARRIVALS["day_factors"], ARRIVALS["weekday_weights"]
    weights = [weekdays[day.weekday()] * factors[(day.timetuple().tm_yday - 1) % len(factors)] for day in days]
    mean = sum(weights) / len(weights)
    peak_weight = max(weights)
    peak_day = per_day * peak_weight / mean
    peak_hour_share = max(ARRIVALS["hour_weights"])
    peak_minute = peak_day * peak_hour_share / 60
    return {
        "population": population,
        "district_population": DISTRICT_POPULATION,
        "factor": round(factor, 3),
        "calls_per_day": round(per_day),
        "calls_per_year": round(per_day * 365),
        "peak_day": days[weights.index(peak_weight)].isoformat(),
        "peak_day_calls": round(peak_day),
        "peak_hour_calls": round(peak_day * peak_hour_share),
        "peak_minute_mean": round(peak_minute, 1),
        "busy_minute_calls": poisson_quantile(peak_minute, BUSY_SHARE),
        "busy_share": BUSY_SHARE,
    }


def case_measures() -> dict:
    """What one case brings, measured on this database: its events, assignments and alerts over a
    whole life (cases opened 60 days or more before the newest, else all), and the bytes of the
    tables that grow with the cases (data and indexes), per case."""
    newest = Case.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    cutoff = newest - datetime.timedelta(days=60)
    if not Case.objects.filter(created_at__lte=cutoff).exists():
        cutoff = newest
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH mature AS (SELECT id FROM cases_case WHERE created_at <= %s)
            SELECT (SELECT count(*) FROM mature),
                (SELECT count(*) FROM cases_caseevent e JOIN mature m ON m.id = e.case_id),
                (SELECT count(*) FROM routing_assignment a JOIN mature m ON m.id = a.case_id),
                (SELECT count(*) FROM routing_alert l JOIN routing_assignment a ON a.id = l.assignment_id
                 JOIN mature m ON m.id = a.case_id)
            """,
            [cutoff],
        )
        cases, events, assignments, alerts = cursor.fetchone()
        # A partitioned table (the events, the alerts) is empty itself: its partitions hold the
        # rows. pg_partition_tree gives a plain table no row, hence the table itself beside it.
        cursor.execute(
            """
            SELECT sum(pg_total_relation_size(part)) FROM unnest(%s::regclass[]) t,
                LATERAL (SELECT relid FROM pg_partition_tree(t) UNION SELECT t) parts (part)
            """,
            [list(CASE_TABLES)],
        )
        (size,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM dashboards_dailyrollup")
        (rollups,) = cursor.fetchone()
    total = Case.objects.count()
    return {
        "cases": total,
        "mature_cases": cases,
        "events_per_case": round(events / cases, 2),
        "assignments_per_case": round(assignments / cases, 2),
        "alerts_per_case": round(alerts / cases, 2),
        "rollup_rows_per_case": round(rollups / total, 2),
        "bytes_per_case": round(size / total),
    }


def city_year(load, measures) -> dict:
    """The city's day and year in rows and bytes, at this database's measures per case."""
    per_day, per_year = load["calls_per_day"], load["calls_per_year"]
    return {
        "cases_per_day": per_day,
        "events_per_day": round(per_day * measures["events_per_case"]),
        "assignments_per_day": round(per_day * measures["assignments_per_case"]),
        "alerts_per_day": round(per_day * measures["alerts_per_case"]),
        "rollup_rows_per_day": round(per_day * measures["rollup_rows_per_case"]),
        "gib_per_year": round(per_year * measures["bytes_per_case"] / 1024**3, 1),
    }


class Router(threading.Thread):
    """Routes the run's new cases as they come, as one process of the dispatch worker would: the
    cases whose id leaves `share` (of `of`) when divided by `of`, so that routers never race."""

    def __init__(self, prefix, share=0, of=1):
        super().__init__(daemon=True)
        self.prefix, self.share, self.of = prefix, share, of
        self.stopping = threading.Event()
        self.routed = 0
        self.errors = []

    def waiting(self):
        return (
            Case.objects.filter(status=Case.Status.REGISTERED, calls__idempotency_key__startswith=self.prefix)
            .annotate(share=Mod("pk", self.of))
            .filter(share=self.share)
            .exclude(Exists(AutoRouteAttempt.objects.filter(case=OuterRef("pk"))))
            .order_by("created_at")
            .values_list("pk", flat=True)
        )

    def run(self):
        try:
            while True:
                ids = list(self.waiting()[:200])
                if not ids and self.stopping.is_set():
                    return
                for case_id in ids:
                    try:
                        case_route_auto(case_id=case_id)
                        self.routed += 1
                    except Exception as error:  # noqa: BLE001 - reported, and the others are routed
                        self.errors.append(f"{case_id}: {type(error).__name__}: {error}"[:300])
                if not ids:
                    time.sleep(0.1)
        finally:
            connection.close()


class CityDay:
    """`run()` measures the paced minutes and answers the report (what the JSON file holds)."""

    def __init__(self, options: Options, *, seconds=60, say=print):
        self.bench = Bench(options, say=say)
        self.seconds = seconds
        self.say = say

    def run(self) -> dict:
        bench = self.bench
        if not Case.objects.exists():
            raise BenchError("the database holds no cases: generate data first (manage.py generate_cases --size N)")
        static_check()
        started = timezone.now()
        load = city_load()
        measures = case_measures()
        bench.world = world_pick(bench.rng)
        report = {
            "kind": "city-day",
            "label": bench.options.label,
            "timestamp": started.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git": git_state(),
            "size": {"cases": measures["cases"]},
            "machine": {**machine_facts(), "load_average_before": os.getloadavg()},
            "debug": settings.DEBUG,
            "city": load,
            "measures": measures,
            "city_year": city_year(load, measures),
            "runs": {},
        }
        busy = load["busy_minute_calls"]
        try:
            with Server() as server:
                bench.port = server.port
                report["server"] = {"workers": server.workers, "threads": server.threads}
                for name, per_minute in (("busy_minute", busy), ("headroom", busy * HEADROOM)):
                    report["runs"][name] = self.paced(name, per_minute)
        finally:
            for key in bench.sessions:
                session_close(key)
        report["machine"]["load_average_after"] = os.getloadavg()
        report["errors"] = sum(run["errors"] for run in report["runs"].values())
        report["seconds"] = round((timezone.now() - started).total_seconds(), 1)
        return report

    def paced(self, name, per_minute) -> dict:
        """`per_minute` calls a minute for `self.seconds`, each sent at its moment of arrival by
        the first of CLIENTS free connections, the new cases routed beside them."""
        bench = self.bench
        count = max(1, round(per_minute * self.seconds / 60))
        rng = random.Random(f"{name}-{per_minute}")
        moments, at = [], 0.0
        for _call in range(count):
            at += rng.expovariate(per_minute / 60)
            moments.append(at)
        # The last arrival closes the window: the run lasts about `seconds`, whatever the draw.
        window = moments[-1]
        self.say(f"{name}: {count} calls in {window:.1f} s ({per_minute} a minute), {CLIENTS} connections")
        prefix = f"city-{bench.run_id}-{name}-"
        path = reverse("api:calls")
        open_client = bench._client_for(bench.world.dispatcher)
        lock = threading.Lock()
        queue = iter(range(count))
        answered, errors = [], []  # (arrival, sent, answered) in seconds from the start; failures
        load_before = os.getloadavg()[0]
        routers = [Router(prefix, share, ROUTERS) for share in range(ROUTERS)]
        for router in routers:
            router.start()

        def client():
            http = open_client()
            try:
                while True:
                    with lock:
                        i = next(queue, None)
                    if i is None:
                        return
                    delay = start + moments[i] - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    sent = time.perf_counter()
                    fields = bench._call_fields(i)
                    body = json.dumps({"channel": "hotline", **{key: fields[key] for key in CALL_FIELDS}})
                    headers = {"Content-Type": "application/json", "Idempotency-Key": f"{prefix}{i}"}
                    try:
                        status, answer = http.request("POST", path, body, headers)
                        if status != 201:
                            raise Failure(f"POST {path}: HTTP {status} {answer[:300]!r}")
                    except Exception as error:  # noqa: BLE001 - counted, and the run goes on
                        with lock:
                            errors.append(f"{type(error).__name__}: {error}"[:300])
                        continue
                    done = time.perf_counter()
                    with lock:
                        answered.append((moments[i], sent - start, done - start))
            finally:
                http.close()

        threads = [threading.Thread(target=client, daemon=True) for _client in range(CLIENTS)]
        start = time.perf_counter() + 0.5
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        waits = [done - arrival for arrival, _sent, done in answered]
        last_answer = max((done for *_times, done in answered), default=window)
        for router in routers:
            router.stopping.set()
        for router in routers:
            router.join(DRAIN_SECONDS)
        routed = sum(router.routed for router in routers)
        routing_errors = [error for router in routers for error in router.errors]
        routed_after = time.perf_counter() - start - window
        lags = list(
            Case.objects.filter(calls__idempotency_key__startswith=prefix)
            .annotate(routed_at=AutoRouteAttempt.objects.filter(case=OuterRef("pk")).values("at")[:1])
            .values_list(F("routed_at") - F("created_at"), flat=True)
        )
        lags = [lag.total_seconds() for lag in lags if lag is not None]
        result = {
            "per_minute": per_minute,
            "load_average_before": round(load_before, 2),
            "calls": count,
            "window_s": round(window, 1),
            "clients": CLIENTS,
            "answered": len(answered),
            "errors": len(errors) + len(routing_errors),
            "error_samples": (errors + routing_errors)[:5],
            # From each call's moment of arrival to its answer: what the caller's taker waits.
            "p50_ms": _ms(percentile(waits, 0.5)),
            "p95_ms": _ms(percentile(waits, 0.95)),
            "max_ms": _ms(max(waits, default=None)),
            # From arrival to sending: waiting for a free connection, all of them busy.
            "queued_p95_ms": _ms(percentile([sent - arrival for arrival, sent, _done in answered], 0.95)),
            # From sending to the answer: the server's own time for one call.
            "service_p50_ms": _ms(percentile([done - sent for _arrival, sent, done in answered], 0.5)),
            "service_p95_ms": _ms(percentile([done - sent for _arrival, sent, done in answered], 0.95)),
            # When the last call arrives: the calls that arrived before it and were not sent yet
            # (the backlog), and those sent and not answered yet.
            "backlog_at_window_end": sum(1 for arrival, sent, _done in answered if arrival < window < sent),
            "in_flight_at_window_end": sum(1 for _arrival, sent, done in answered if sent <= window < done),
            "answered_within_s_of_window_end": round(max(0.0, last_answer - window), 2),
            # What the machine did: calls answered a second from the start to the last answer.
            "answered_per_s": round(len(answered) / max(last_answer, window), 2),
            "routers": ROUTERS,
            "routed": routed,
            "routing_lag_p50_ms": _ms(percentile(lags, 0.5)),
            "routing_lag_p95_ms": _ms(percentile(lags, 0.95)),
            "routing_done_s_after_window_end": round(max(0.0, routed_after), 2),
            "routed_per_s": round(routed / max(window + routed_after, window), 2),
        }
        self.say(
            f"    p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms from arrival; backlog "
            f"{result['backlog_at_window_end']}; routed {routed}, lag p95 {result['routing_lag_p95_ms']} ms; "
            f"{result['errors']} errors"
        )
        return result


def report_lines(report) -> list[str]:
    load, year, machine = report["city"], report["city_year"], report["machine"]
    lines = [
        f"city: {load['population']:,} people = {load['factor']} × the district's; "
        f"{load['calls_per_day']:,} calls a day, {load['peak_day_calls']:,} on the peak day, "
        f"{load['peak_hour_calls']:,} in its peak hour, {load['peak_minute_mean']} a minute "
        f"({load['busy_minute_calls']} in a busy minute)",
        f"a day: {year['events_per_day']:,} case events, {year['assignments_per_day']:,} assignments, "
        f"{year['rollup_rows_per_day']:,} rollup rows; a year: {year['gib_per_year']} GiB "
        f"({report['measures']['bytes_per_case']:,} bytes a case here)",
        f"machine: {machine['cpu_model']}, {machine['cpu_cores']} cores; load average "
        f"{machine['load_average_before'][0]:.2f} before, {machine['load_average_after'][0]:.2f} after",
    ]
    for name, run in report["runs"].items():
        lines.append(
            f"{name}: {run['answered']}/{run['calls']} calls at {run['per_minute']} a minute: p50 {run['p50_ms']} ms, "
            f"p95 {run['p95_ms']} ms from arrival (server p95 {run['service_p95_ms']} ms); backlog at the "
            f"window's end {run['backlog_at_window_end']} waiting and {run['in_flight_at_window_end']} in flight, "
            f"{run['answered_per_s']} answered a second; routing lag "
            f"p95 {run['routing_lag_p95_ms']} ms; {run['errors']} errors (load average {run['load_average_before']})"
        )
    return lines
