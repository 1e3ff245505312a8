"""`python manage.py suggester fit|predict|evaluate` on files. Fit and predict run as a user runs
them: a separate process with neither DATABASE_URL nor REDIS_URL set; the rest calls the same
entry point in this process (a process costs seconds, mostly importing scikit-learn)."""

import csv
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from suggestions.cli import main
from tests.suggestions.corpus import UNSEEN, rows

ROOT = Path(__file__).resolve().parents[2]


def suggester(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "manage.py", "suggester", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suggester")
    train = folder / "train.csv.gz"
    with gzip.open(train, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label", "other"])
        writer.writerows([i, text, label, "ignored"] for i, (text, label) in enumerate(rows()))
    test = folder / "test.csv"
    with open(test, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "id"])  # any column order
        writer.writerows([text, f"t{i}"] for i, (_, text) in enumerate(UNSEEN))
    return folder, train, test


def test_fit_then_predict_writes_the_three_best_labels_of_each_row(files):
    folder, train, test = files
    model, out = folder / "model.bin", folder / "out.csv"
    fitted = suggester("fit", "--csv", train, "--model", model)
    assert fitted.returncode == 0, fitted.stderr
    predicted = suggester("predict", "--model", model, "--csv", test, "--out", out)
    assert predicted.returncode == 0, predicted.stderr
    with open(out, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["id", "label1", "label2", "label3", "score1"]
    assert [line[0] for line in lines[1:]] == ["t0", "t1", "t2"]
    assert [line[1] for line in lines[1:]] == [label for label, _ in UNSEEN]
    for line in lines[1:]:
        assert sorted(line[1:4]) == ["garbage", "heating", "road"]
        assert 0.34 < float(line[4]) <= 1


def test_evaluate_prints_top1_and_top3_per_label_and_overall(files, capsys):
    _, train, _ = files
    assert main(["evaluate", "--csv", str(train), "--folds", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["label", "rows", "top-1", "top-3"]
    assert {line.split()[0] for line in lines[1:4]} == {"heating", "garbage", "road"}
    overall = lines[-1].split()
    assert overall[:2] == ["overall", "30"] and float(overall[2]) >= 0.8 and float(overall[3]) == 1.0


def test_bad_files_get_one_line_and_exit_status_2(files, tmp_path, capsys):
    _, train, test = files

    def refusal(*args):
        status = main([str(arg) for arg in args])
        return status, capsys.readouterr().err

    no_label = tmp_path / "no_label.csv"
    no_label.write_text("text,kind\n暖气不热,heat\n", encoding="utf-8")
    status, said = refusal("fit", "--csv", no_label, "--model", tmp_path / "m.bin")
    assert status == 2 and "lacks the column(s) label" in said and not (tmp_path / "m.bin").exists()
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,label\n暖气,heat\n".encode("gbk"))
    assert refusal("fit", "--csv", latin, "--model", tmp_path / "m.bin")[0] == 2
    status, said = refusal("predict", "--model", tmp_path / "nothing.bin", "--csv", test, "--out", tmp_path / "o.csv")
    assert status == 2 and "no such model file" in said
    not_a_model = tmp_path / "junk.bin"
    not_a_model.write_bytes(b"junk")
    status, said = refusal("predict", "--model", not_a_model, "--csv", test, "--out", tmp_path / "o.csv")
    assert status == 2 and "not a model" in said
    status, said = refusal("evaluate", "--csv", train, "--folds", "11")
    assert status == 2 and "--folds" in said
