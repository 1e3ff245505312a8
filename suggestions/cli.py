"""`python manage.py suggester fit|predict|evaluate`: the learner on labelled files, no database.

manage.py hands `suggester` here before Django is set up, so the command works with neither
DATABASE_URL nor REDIS_URL set (docs/suggestions.md):

    python manage.py suggester fit --csv TRAIN.csv --model PATH
    python manage.py suggester predict --model PATH --csv TEST.csv --out OUT.csv
    python manage.py suggester evaluate --csv FILE --folds 5

TRAIN.csv (or .csv.gz) is UTF-8 with a header and the columns `text` and `label`; TEST.csv has
`id` and `text`; other columns are ignored. OUT.csv has `id`, `label1`, `label2`, `label3` (most
likely first) and `score1`.
"""

import argparse
import csv
import gzip
import io
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

csv.field_size_limit(10_000_000)


class InputError(Exception):
    """A file the command cannot use: said in one line, exit status 2."""


def _open_text(path: str):
    if not Path(path).is_file():
        raise InputError(f"{path}: no such file")
    raw = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_rows(path: str, columns: tuple[str, ...]) -> list[dict]:
    try:
        with _open_text(path) as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in columns if name not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: the header lacks the column(s) {', '.join(missing)}")
            rows = [{name: row[name] or "" for name in columns} for row in reader]
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    except (OSError, csv.Error) as error:
        raise InputError(f"{path}: {error}") from None
    if not rows:
        raise InputError(f"{path}: no rows after the header")
    return rows


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fit(args) -> None:
    from suggestions.learner import Learner, NotEnoughData

    rows = read_rows(args.csv, ("text", "label"))
    rows = [row for row in rows if row["label"].strip()]
    started = time.monotonic()
    _say(f"fitting on {len(rows):,} rows, {len({row['label'] for row in rows})} labels …")
    try:
        learner = Learner().fit([row["text"] for row in rows], [row["label"].strip() for row in rows])
    except NotEnoughData as error:
        raise InputError(f"{args.csv}: {error}") from None
    Path(args.model).write_bytes(learner.dumps())
    _say(f"fitted in {time.monotonic() - started:.1f} s; model written to {args.model}")


def predict(args) -> None:
    from suggestions.learner import Learner

    if not Path(args.model).is_file():
        raise InputError(f"{args.model}: no such model file")
    try:
        learner = Learner.loads(Path(args.model).read_bytes())
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same one-line answer
        raise InputError(f"{args.model}: not a model written by `suggester fit` ({error})") from None
    rows = read_rows(args.csv, ("id", "text"))
    with open(args.out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label1", "label2", "label3", "score1"])
        batch = 2000
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            for row, best in zip(part, learner.predict([row["text"] for row in part], k=3), strict=True):
                labels = [label for label, _ in best] + [""] * (3 - len(best))
                writer.writerow([row["id"], *labels, f"{best[0][1]:.4f}"])
    _say(f"{len(rows):,} predictions written to {args.out}")


def evaluate(args) -> None:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from suggestions.learner import Learner

    rows = [row for row in read_rows(args.csv, ("text", "label")) if row["label"].strip()]
    texts = [row["text"] for row in rows]
    labels = np.array([row["label"].strip() for row in rows])
    smallest = min(Counter(labels).values())
    if args.folds < 2 or args.folds > smallest:
        raise InputError(f"--folds: between 2 and {smallest} (the rarest label's count) for this file")
    first = np.zeros(len(rows), dtype=bool)
    within = np.zeros(len(rows), dtype=bool)
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    for number, (train, test) in enumerate(folds.split(texts, labels), start=1):
        started = time.monotonic()
        learner = Learner().fit([texts[i] for i in train], labels[train])
        predicted = learner.predict([texts[i] for i in test], k=3)
        for i, best in zip(test, predicted, strict=True):
            names = [name for name, _ in best]
            first[i], within[i] = names[0] == labels[i], labels[i] in names
        _say(
            f"fold {number}/{args.folds}: {len(train):,} to learn, {len(test):,} to judge, "
            f"{time.monotonic() - started:.1f} s"
        )
    print(f"{_padded('label')} {'rows':>6} {'top-1':>7} {'top-3':>7}")
    for label in sorted(set(labels), key=lambda name: -Counter(labels)[name]):
        mask = labels == label
        print(f"{_padded(label)} {mask.sum():>6} {first[mask].mean():>7.4f} {within[mask].mean():>7.4f}")
    print(f"{_padded('overall')} {len(labels):>6} {first.mean():>7.4f} {within.mean():>7.4f}")


def _padded(label, width=24):
    """The label and spaces up to `width` columns of a terminal (a Chinese character takes two)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in label)
    return label + " " * max(1, width - columns)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py suggester", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("fit", help="learn from a labelled CSV (text, label)")
    command.add_argument("--csv", required=True)
    command.add_argument("--model", required=True)
    command.set_defaults(run=fit)
    command = commands.add_parser("predict", help="the three most likely labels of each row (id, text)")
    command.add_argument("--model", required=True)
    command.add_argument("--csv", required=True)
    command.add_argument("--out", required=True)
    command.set_defaults(run=predict)
    command = commands.add_parser("evaluate", help="top-1 and top-3 accuracy by cross-validation")
    command.add_argument("--csv", required=True)
    command.add_argument("--folds", type=int, default=5)
    command.add_argument("--seed", type=int, default=0)
    command.set_defaults(run=evaluate)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except InputError as error:
        print(f"suggester {args.command}: {error}", file=sys.stderr)
        return 2
    return 0
