"""Derive the shape of resident traffic from a year of real 311 requests, once.

    python -m scale.derive_arrivals ../shared/data/boston311_2015_121k.csv.gz

writes `scale/data/arrivals.json`, which the generator reads. The source is the City of Boston's
311 requests opened in 2015 (open data, 121,145 rows; see ../shared/data/README.md). Only shapes
are kept, never the rows: how arrivals spread over the hours of a day and the days of a week, the
factor of each day of the year against its weekday's mean (storms, holidays, seasons), the share
of each channel, the spread of request types, and how long requests took against their deadline.
The file is committed: the generator needs no access to the source data.
"""

import csv
import datetime
import gzip
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "arrivals.json"
# Boston's sources, as our channels.
CHANNELS = {
    "Constituent Call": "hotline",
    "Citizens Connect App": "online",
    "Self Service": "online",
    "Twitter": "online",
    "City Worker App": "patrol",
    "Employee Generated": "patrol",
    "Maximo Integration": "patrol",
}
QUANTILES = 100


def _parse(text):
    return datetime.datetime.fromisoformat(text) if text else None


def derive(path) -> dict:
    hours, weekdays, days, channels, types = Counter(), Counter(), Counter(), Counter(), Counter()
    ratios = []
    with gzip.open(path, "rt", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            opened = _parse(row["OPEN_DT"])
            hours[opened.hour] += 1
            days[opened.date()] += 1
            channels[CHANNELS.get(row["Source"], "walk_in")] += 1
            types[row["TYPE"]] += 1
            target, closed = _parse(row["TARGET_DT"]), _parse(row["CLOSED_DT"])
            if target and closed and target > opened and closed >= opened:
                ratios.append((closed - opened) / (target - opened))
    total = sum(hours.values())
    for day, count in days.items():
        weekdays[day.weekday()] += count
    weeks_of = Counter(day.weekday() for day in days)
    weekday_mean = {weekday: weekdays[weekday] / weeks_of[weekday] for weekday in weeks_of}
    # Each day against the mean of its weekday: 1.0 is an ordinary day, 2.0 a storm.
    year = sorted(days)
    day_factors = [round(days[day] / weekday_mean[day.weekday()], 3) for day in year]
    ratios.sort()
    late = sum(ratio > 1 for ratio in ratios) / len(ratios)
    on_time = [ratio for ratio in ratios if ratio <= 1]
    over = [ratio for ratio in ratios if ratio > 1]
    return {
        "source": "City of Boston 311 requests opened in 2015 (../shared/data/boston311_2015_121k.csv.gz)",
        "requests": total,
        "days": len(days),
        "mean_per_day": round(total / len(days), 1),
        "peak_day": max(days.values()),
        "hour_weights": [round(hours[hour] / total, 5) for hour in range(24)],
        "weekday_weights": [round(weekdays[day] / total, 5) for day in range(7)],
        "day_factors": day_factors,
        "channel_weights": {name: round(count / total, 4) for name, count in channels.most_common()},
        # Shares of the request types, largest first: the generator gives them to our categories.
        "type_weights": [round(count / total, 5) for _name, count in types.most_common()],
        "late_share": round(late, 4),
        # Time taken / time allowed, as quantiles, for requests done in time and those done late.
        "on_time_ratio_quantiles": _quantiles(on_time),
        "late_ratio_quantiles": _quantiles(over),
        "median_ratio": round(statistics.median(ratios), 4),
    }


def _quantiles(values):
    step = (len(values) - 1) / QUANTILES
    return [round(values[round(index * step)], 4) for index in range(QUANTILES + 1)]


if __name__ == "__main__":
    OUT.write_text(json.dumps(derive(sys.argv[1]), indent=1) + "\n")
    print(f"wrote {OUT}")
