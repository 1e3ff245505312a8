"""Exports (`/dashboards/export/`): the case list, a dashboard's children and the assessment table
as .xlsx or .csv with the page's filters and the reader's scope; large ones through a job."""

import codecs
import csv
import io
import re
import subprocess
import sys

import openpyxl
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext

from cases.models import Case, Category
from dashboards import exports, selectors
from dashboards.exports_tasks import export as export_task
from dashboards.models import ExportJob
from dashboards.rankings import ranking
from dashboards.services import rollups_refresh
from feedback import metrics
from routing import dispatch
from routing.filters import CaseFilterSet
from routing.selectors import cases_for
from suqu.celery import app
from tests.factories import UserFactory, open_case
from tests.handling.helpers import dispatched_case

pytestmark = pytest.mark.django_db

EXPORT = "/dashboards/export/"
CALLER_NAME, CALLER_PHONE = "张三", "13800138000"


def zh(text):
    """What the page shows for `text` in Chinese (the English msgid while the catalogue lacks it)."""
    with translation.override("zh-hans"):
        return gettext(text)


def xlsx_rows(content):
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(content):
    assert content.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def listed(user, **filters):
    """The case numbers the case list shows the user with these filters, in its order."""
    params = MultiValueDict({name: [value] for name, value in filters.items()})
    queryset = cases_for(user).order_by("-created_at")
    return list(CaseFilterSet(params or None, queryset=queryset).qs.values_list("number", flat=True))


@pytest.fixture
def cases(world, clock):
    """Four cases a minute apart (so the list's order is fixed), read at 13:00: one overdue (its
    sign-for was due at 12:00), one signed for and contacted in time, one never dispatched, and
    one in 民主村 (outside grid A)."""
    late = dispatched_case(world)
    clock.shift(60)
    on_time = dispatched_case(world, description="楼道堆放杂物")
    dispatch.case_sign(case=on_time, actor=world.community_clerk)
    clock.shift(60)
    registered = open_case(world, category_code="0101", description="违章搭建")
    clock.shift(60)
    elsewhere = open_case(world, grid=world.grid_c, description="村口路灯不亮")
    clock.shift(3 * 3600)
    return {"late": late, "on_time": on_time, "registered": registered, "elsewhere": elsewhere}


# --- answered at once ------------------------------------------------------------------------


def test_a_small_export_is_an_xlsx_of_the_case_list(client, world, cases):
    client.force_login(world.dispatcher)
    response = client.get(EXPORT, {"table": "cases", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
    assert response["Content-Disposition"].startswith('attachment; filename="cases-')
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    header, *rows = xlsx_rows(response.content)
    assert len(header) == len(exports.CASE_COLUMNS)
    assert [row[0] for row in rows] == listed(world.dispatcher)
    late = next(row for row in rows if row[0] == cases["late"].number)
    assert late[3:6] == ["210111001015001", "金山社区第1网格", "金山社区居委会"]
    assert late[6].strftime("%Y-%m-%d %H:%M") == "2026-03-10 10:00"  # Shanghai time, not UTC
    assert late[7] is None  # not closed


def test_a_csv_export_has_a_byte_order_mark_and_the_same_rows(client, world, cases):
    client.force_login(world.dispatcher)
    response = client.get(EXPORT, {"table": "cases", "format": "csv"})
    assert response.status_code == 200
    _header, *rows = csv_rows(response.content)
    assert [row[0] for row in rows] == listed(world.dispatcher)
    late = next(row for row in rows if row[0] == cases["late"].number)
    assert late[3] == "210111001015001" and late[6] == "2026-03-10 10:00" and late[7] == ""


def test_the_page_filters_are_applied(client, world, cases):
    client.force_login(world.dispatcher)
    response = client.get(EXPORT, {"table": "cases", "format": "csv", "overdue": "true"})
    _header, *rows = csv_rows(response.content)
    assert [row[0] for row in rows] == listed(world.dispatcher, overdue="true") == [cases["late"].number]
    assert rows[0][-1] == exports._("yes")
    response = client.get(EXPORT, {"table": "cases", "format": "xlsx", "region": "210111003"})
    assert [row[0] for row in xlsx_rows(response.content)[1:]] == [cases["elsewhere"].number]


def test_a_grid_worker_exports_only_the_cases_of_their_grid(client, world, cases):
    client.force_login(world.gridworker)
    response = client.get(EXPORT, {"table": "cases", "format": "csv"})
    numbers = [row[0] for row in csv_rows(response.content)[1:]]
    assert cases["elsewhere"].number not in numbers
    assert sorted(numbers) == sorted(c.number for name, c in cases.items() if name != "elsewhere")
    assert numbers == listed(world.gridworker)


def test_no_column_holds_the_callers_name_or_phone(client, world, cases):
    assert Case.objects.filter(caller_name=CALLER_NAME, caller_phone=CALLER_PHONE).count() == 4
    client.force_login(world.dispatcher)
    for format in ("csv", "xlsx"):
        response = client.get(EXPORT, {"table": "cases", "format": format})
        cells = [str(cell) for row in (xlsx_rows if format == "xlsx" else csv_rows)(response.content) for cell in row]
        assert not [cell for cell in cells if CALLER_NAME in cell or CALLER_PHONE in cell], format


def test_the_cases_export_reads_no_query_per_row(client, world, cases):
    client.force_login(world.dispatcher)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(EXPORT, {"table": "cases", "format": "xlsx"}).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(3):
        open_case(world, description="又一件")
    assert queries() == few


def test_a_dashboards_children_export_holds_every_figure(client, world, example):
    month = metrics.Period.month("2026-03")
    rollups_refresh(first=month.first, last=month.last)
    client.force_login(world.official)
    period = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}
    response = client.get(EXPORT, {"table": "children", "format": "xlsx", "region": "210111", **period})
    assert response.status_code == 200
    header, *rows = xlsx_rows(response.content)
    children = selectors.children(region=world.district, period=month)
    assert [row[:2] for row in rows] == [[child.code, child.name] for child in children]
    received = header.index(str(exports.FIGURE_COLUMNS[0].header))
    assert [row[received] for row in rows] == [child.figures.received for child in children]
    assert len(header) == 2 + len(exports.FIGURE_COLUMNS) + 3


def test_a_dashboard_outside_ones_own_area_answers_404(client, world):
    client.force_login(world.street_clerk)  # 解放街道's office: not 民主街道's dashboard
    assert client.get(EXPORT, {"table": "children", "format": "csv", "region": "210111003"}).status_code == 404
    assert client.get(EXPORT, {"table": "children", "format": "csv", "region": "210111001"}).status_code == 200
    client.force_login(world.gridworker)  # grid workers have no dashboard
    assert client.get(EXPORT, {"table": "children", "format": "csv"}).status_code == 404


def test_the_assessment_export_has_the_rows_the_person_may_judge(client, world, example):
    client.force_login(world.street_clerk)
    response = client.get(EXPORT, {"table": "metrics", "format": "csv", "level": "community", "month": "2026-03"})
    assert response.status_code == 200
    assert [row[:2] for row in csv_rows(response.content)[1:]] == [["210111001015", "金山社区"]]
    client.force_login(world.gridworker)
    assert client.get(EXPORT, {"table": "metrics", "format": "csv"}).status_code == 404


def test_the_ranking_export_lists_the_units_in_rank_order(client, world, example):
    month = metrics.Period.month("2026-03")
    rollups_refresh(first=month.first, last=month.last)
    client.force_login(world.dispatcher)
    response = client.get(EXPORT, {"table": "ranking", "format": "xlsx", "level": "street", "month": "2026-03"})
    assert response.status_code == 200
    _header, *rows = xlsx_rows(response.content)
    expected = ranking("street", "2026-03")
    assert [(row[0], row[1], row[3]) for row in rows] == [(r.rank, r.unit.code, r.composite) for r in expected.rows]
    # A street is named as on the page: the street counted by place, not its office.
    assert [row[2] for row in rows] == [world.street.name, world.other_street_office.region.name]
    client.force_login(world.street_clerk)  # the ranking is the centre's and the leadership's
    assert client.get(EXPORT, {"table": "ranking", "format": "csv"}).status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"table": "callers", "format": "csv"}, "callers"),
        ({"format": "csv"}, "cases, children, metrics, ranking"),
        ({"table": "cases", "format": "pdf"}, "xlsx"),
        ({"table": "cases", "format": "csv", "status": "lost"}, "lost"),
        (
            {"table": "children", "format": "csv", "period": "custom", "from": "2026-03-01"},
            "Choose a start and an end date.",
        ),
        ({"table": "ranking", "format": "csv", "month": "March"}, "YYYY-MM"),
    ],
)
def test_a_bad_table_format_or_filter_answers_400_with_a_message(client, world, query, message):
    client.force_login(world.dispatcher)
    response = client.get(EXPORT, query)
    assert response.status_code == 400
    assert zh(message) in response.context["message"] or message in response.context["message"]
    assert 'id="export-refused"' in response.text


# --- large exports: a job -------------------------------------------------------------------


@pytest.fixture
def at_once_3(monkeypatch):
    """Exports of more than 3 rows become jobs (configuration, so the tests need few cases)."""
    monkeypatch.setattr(exports, "EXPORT_AT_ONCE", 3)


def test_a_large_export_becomes_a_job_whose_file_holds_every_row(
    client, world, cases, at_once_3, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(exports, "CHUNK", 2)  # progress written every 2 rows
    client.force_login(world.dispatcher)
    with django_capture_on_commit_callbacks() as queued:
        response = client.get(EXPORT, {"table": "cases", "format": "xlsx", "region": "210111"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboards/exports/{job.pk}/"
    assert len(queued) == 1  # the task, after commit
    assert (job.user, job.table, job.format, job.state) == (world.dispatcher, "cases", "xlsx", "queued")
    assert job.params == {"region": ["210111"]} and job.rows_total == 4

    page = client.get(f"/dashboards/exports/{job.pk}/")
    assert 'hx-trigger="every 2s"' in page.text and "export-download" not in page.text

    assert exports.export_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.state == "done" and job.rows_done == job.rows_total == 4 and job.percent == 100
    assert job.file.name.startswith("exports/")
    _header, *rows = xlsx_rows(job.file.read())
    assert [row[0] for row in rows] == listed(world.dispatcher, region="210111")

    partial = client.get(f"/dashboards/exports/{job.pk}/", headers={"HX-Request": "true"})
    assert partial.text.startswith('<div id="export-progress" data-state="done">')  # polling stops
    assert f'href="/dashboards/exports/{job.pk}/download/"' in partial.text
    download = client.get(f"/dashboards/exports/{job.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == job.file.open("rb").read()
    assert "filename*=UTF-8''" in download["Content-Disposition"]


def test_only_the_person_who_asked_sees_the_job_and_its_file(client, world, cases, at_once_3):
    client.force_login(world.dispatcher)
    client.get(EXPORT, {"table": "cases", "format": "csv"})
    job = ExportJob.objects.get()
    exports.export_job_run(job_id=job.pk)
    other = UserFactory()
    client.force_login(world.official)  # reads every case, but did not ask for this file
    assert client.get(f"/dashboards/exports/{job.pk}/").status_code == 404
    assert client.get(f"/dashboards/exports/{job.pk}/download/").status_code == 404
    client.force_login(other)
    assert client.get(f"/dashboards/exports/{job.pk}/download/").status_code == 404
    client.force_login(world.dispatcher)
    assert client.get(f"/dashboards/exports/{job.pk}/download/").status_code == 200


def test_running_the_task_twice_does_not_redo_the_job(client, world, cases, at_once_3, clock):
    client.force_login(world.dispatcher)
    client.get(EXPORT, {"table": "cases", "format": "csv"})
    client.get(EXPORT, {"table": "cases", "format": "csv"})  # a double click: the same job
    job = ExportJob.objects.get()
    assert exports.export_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    clock.shift(60)
    assert export_task(job.pk) == "skipped"
    again = ExportJob.objects.get()
    assert (again.file.name, again.finished_at, again.updated_at) == (job.file.name, job.finished_at, job.updated_at)


def test_a_job_the_reader_may_no_longer_see_fails_with_a_reason(client, world):
    # Asked for while a dispatcher, say; the person is a grid worker only by the time it runs.
    job = ExportJob.objects.create(
        user=world.gridworker, table="children", params={"region": ["210111"]}, format="csv", rows_total=9
    )
    assert exports.export_job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == "failed" and job.error and not job.file
    client.force_login(world.gridworker)
    page = client.get(f"/dashboards/exports/{job.pk}/")
    assert 'id="export-error"' in page.text and job.error in page.text
    # A failed job's progress stops polling (the header's inbox badge polls on every page).
    progress = re.search(r'<div id="export-progress"[^>]*>', page.text).group(0)
    assert "hx-trigger" not in progress


def test_the_sweep_runs_stalled_jobs_gives_up_lost_ones_and_deletes_old_files(client, world, cases, clock):
    stalled = ExportJob.objects.create(user=world.dispatcher, table="cases", format="csv", rows_total=4)
    lost = ExportJob.objects.create(user=world.dispatcher, table="cases", format="xlsx", rows_total=4)
    ExportJob.objects.filter(pk=lost.pk).update(state="running")
    clock.shift(30)
    assert exports.export_jobs_sweep() == {"deleted": 0, "lost": 0, "run": 0}  # queued 30 s: not stalled yet
    clock.shift(11 * 60)
    assert exports.export_jobs_sweep() == {"deleted": 0, "lost": 1, "run": 1}
    stalled.refresh_from_db()
    lost.refresh_from_db()
    assert stalled.state == "done" and stalled.rows_done == 4
    assert lost.state == "failed" and lost.error
    storage = stalled.file.storage
    assert storage.exists(stalled.file.name)
    clock.shift(8 * 24 * 3600)
    assert exports.export_jobs_sweep()["deleted"] == 2
    assert not ExportJob.objects.exists() and not storage.exists(stalled.file.name)


# --- through the real Redis to a real worker -------------------------------------------------


def _plain_cases(cast, count):
    """Cases written straight to the table: no dispatch task is queued for the worker to pick up."""
    category = Category.objects.get(code="0201")
    for n in range(count):
        Case.objects.create(
            number=f"SJT-EXPORT-{n:04d}",
            channel="hotline",
            category=category,
            grid=cast.grid_a,
            title="垃圾",
            description="小区门口垃圾堆放",
            caller_name=CALLER_NAME,
            caller_phone=CALLER_PHONE,
            created_by=cast.dispatcher,
        )


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_a_queued_job(client, cast, categories, at_once_3):
    _plain_cases(cast, 7)
    client.force_login(cast.dispatcher)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # The page queues the job through Redis after commit; asking again by hand queues a second
        # message, which the worker takes after the first and skips.
        response = client.get(EXPORT, {"table": "cases", "format": "csv"})
        job = ExportJob.objects.get()
        assert response["Location"] == f"/dashboards/exports/{job.pk}/"
        assert export_task.delay(job.pk).get(timeout=30) == "skipped"
    job.refresh_from_db()
    assert job.state == "done" and job.rows_done == job.rows_total == 7
    assert len(csv_rows(job.file.read())) == 1 + 7


def test_a_worker_process_knows_the_export_tasks():
    # Celery's autodiscovery imports `dashboards.tasks` only, which must import the export tasks.
    # A fresh process: this one imported them already, above.
    script = (
        "import django; django.setup(); from suqu.celery import app; app.loader.import_default_modules(); "
        "print(sorted(name for name in app.tasks if name.startswith('dashboards.')))"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "'dashboards.export'" in found and "'dashboards.export_stalled'" in found
