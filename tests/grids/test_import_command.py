import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from grids.models import Region
from grids.services import rows_from_file


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(path, *lines):
    path.write_text("\n".join(["code,name,parent_code", *lines]) + "\n", encoding="utf-8")
    return path


def test_the_command_prints_line_numbered_errors_and_fails(cast, tmp_path):
    path = write(
        tmp_path / "bad.csv",
        "210111001015003,金山社区第3网格,210111001015",
        "210111001099001,某网格,210111001099",
        "210111001015004,,210111001015",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="errors found: 2; nothing was written"), translation.override("en"):
        call_command("import_regions", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        "line 3: parent_code: unknown parent 210111001099",
        "line 4: name: name is empty",
    ]
    assert not Region.objects.filter(code="210111001015003").exists()


def test_progress_lines_appear_for_a_large_file(cast, tmp_path):
    path = write(tmp_path / "big.csv", *(f"210111001015{n:03d},金山社区第{n}网格,210111001015" for n in range(1, 601)))
    out, _err = run("import_regions", str(path))
    lines = out.splitlines()
    assert "checked 600 of 600 rows" in lines
    assert [line for line in lines if line.startswith("wrote")] == [
        "wrote 100 of 598 changes",
        "wrote 200 of 598 changes",
        "wrote 300 of 598 changes",
        "wrote 400 of 598 changes",
        "wrote 500 of 598 changes",
        "wrote 598 of 598 changes",
    ]
    assert lines[-1] == "598 created, 0 updated, 0 deleted, 2 unchanged"
    assert cast.community.children.count() == 600


def test_a_dry_run_counts_and_writes_nothing(cast, tmp_path):
    path = write(tmp_path / "grids.csv", "210111001015003,金山社区第3网格,210111001015")
    out, _err = run("import_regions", str(path), "--dry-run")
    assert "1 created, 0 updated, 0 deleted, 0 unchanged" in out
    assert "dry run: nothing was written" in out
    assert not Region.objects.filter(code="210111001015003").exists()


def test_running_the_command_twice_is_safe(cast, tmp_path):
    path = write(tmp_path / "grids.csv", "210111001015003,金山社区第3网格,210111001015")
    run("import_regions", str(path))
    out, _err = run("import_regions", str(path))
    assert out.splitlines()[-1] == "0 created, 0 updated, 0 deleted, 1 unchanged"


def test_replace_from_the_command_deletes_the_grids_left_out(cast, tmp_path):
    path = write(tmp_path / "grids.csv", "210111003201002,民主村第2网格,210111003201")
    out, _err = run("import_regions", str(path), "--replace")
    assert out.splitlines()[-1] == "1 created, 0 updated, 1 deleted, 0 unchanged"
    assert list(cast.other_community.children.values_list("code", flat=True)) == ["210111003201002"]


def test_a_txt_file_is_refused(db, tmp_path):
    path = tmp_path / "grids.txt"
    path.write_text("code,name,parent_code\n")
    with pytest.raises(CommandError, match=r"grids.txt: only .csv and .xlsx files are supported"):
        run("import_regions", str(path))


def test_a_missing_file_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import_regions", str(tmp_path / "nowhere.csv"))


def test_an_export_of_a_street_imports_back_unchanged(cast, tmp_path):
    path = tmp_path / "jiefang.xlsx"
    out, _err = run("export_regions", str(path), "--under", "210111001")
    assert out.strip() == f"exported 4 regions to {path}"
    out, _err = run("import_regions", str(path))
    assert out.splitlines()[-1] == "0 created, 0 updated, 0 deleted, 4 unchanged"


def test_the_export_can_keep_to_one_level(cast, tmp_path):
    path = tmp_path / "grids.csv"
    run("export_regions", str(path), "--level", "grid")
    assert [row["code"] for row in rows_from_file(path)] == ["210111001015001", "210111001015002", "210111003201001"]


def test_the_export_refuses_an_unknown_region_and_an_unknown_format(cast, tmp_path):
    with pytest.raises(CommandError, match="unknown region 210111099"):
        run("export_regions", str(tmp_path / "x.csv"), "--under", "210111099")
    with pytest.raises(CommandError, match=r"only \.csv and \.xlsx"):
        run("export_regions", str(tmp_path / "x.json"))
