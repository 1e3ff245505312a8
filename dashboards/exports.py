"""Exports: any table of the platform as .xlsx or .csv, with the page's filters and the reader's scope.

`TABLES` lists what can be exported. A table's `source(user, params)` checks that the user may
read it (Http404 otherwise: the same answer as for a page that is not theirs), parses the page's
own parameters (InvalidInput for a bad one: an export never silently drops a filter) and answers a
`Source`: a quick count, and the rows, streamed from the database in chunks. Small exports are
written during the request; larger ones become an `ExportJob` that the Celery task
`dashboards.export` writes to MEDIA_ROOT/exports/, showing its progress as it goes (docs/exports.md).
"""

import codecs
import csv
import datetime
import io
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from django.core.files import File
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Greatest
from django.http import Http404
from django.utils import timezone, translation
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.errors import InvalidInput
from cases.models import Case
from cases.moves import RowMove, rows_move, stamp_now
from cases.replica import replica_reads
from dashboards import selectors
from dashboards.forms import PeriodForm
from dashboards.forms_insights import RankingForm
from dashboards.models import ExportJob
from dashboards.rankings import ranking
from feedback import metrics
from feedback.forms import MetricsForm
from feedback.selectors import metric_codes_for
from grids.models import Region
from mediation import figures as mediation_figures
from routing.filters import CaseFilterSet
from routing.models import Assignment
from routing.selectors import cases_for
from units.models import Unit
from units.permissions import may_open
from units.selectors import region_prefixes_for

logger = logging.getLogger(__name__)

# Up to this many rows the file is written during the request; more go to a Celery task. 5,000
# case rows take about a second to write as .xlsx, well inside a request's patience.
EXPORT_AT_ONCE = 5000
# Rows read from the database at a time, and how often a running job writes its progress.
CHUNK = 2000
# A queued job older than this was not picked up (Redis down when it was queued): the sweep runs it.
STALLED_AFTER = datetime.timedelta(minutes=1)
# A running job writes its progress every CHUNK rows, seconds apart; one silent this long lost
# its worker (a restart, a crash) and is marked failed rather than run a second time.
LOST_AFTER = datetime.timedelta(minutes=10)
# Jobs and their files are deleted after this long.
KEEP_FOR = datetime.timedelta(days=7)
# How many stalled jobs one run of the sweep takes on; the next minute's run takes the rest.
SWEEP_BATCH = 5

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# Parameters that choose the export itself, not the table's rows.
OWN_PARAMS = ("table", "format", "csrfmiddlewaretoken")


# --- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # a lazy translation, read in the language of the export
    # text | code (digits kept as text) | int | number | rate (a fraction) | datetime | bool
    kind: str = "text"


@dataclass
class Source:
    """What an export reads: `count()` is cheap (one COUNT or a list of places); `rows()` yields
    one tuple per row, in the columns' order, reading the database CHUNK rows at a time."""

    count: Callable[[], int]
    rows: Callable[[], Iterator[tuple]]


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    source: Callable[..., Source]  # (user, params: MultiValueDict) -> Source


def _one(params, name) -> str:
    return (params.get(name) or "").strip()


def _form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {text}" if label else text)
    return _("Check the filters: %(errors)s") % {"errors": "; ".join(parts)}


CASE_COLUMNS = (
    Column("number", gettext_lazy("Number")),
    Column("status", gettext_lazy("Status")),
    Column("category", gettext_lazy("Category")),
    Column("grid_code", gettext_lazy("Grid code"), "code"),
    Column("grid_name", gettext_lazy("Grid")),
    Column("lead_unit", gettext_lazy("Lead unit")),
    Column("created_at", gettext_lazy("Registered"), "datetime"),
    Column("closed_at", gettext_lazy("Closed at"), "datetime"),
    Column("overdue", gettext_lazy("Overdue"), "bool"),
)


def _lead_unit():
    """The name of the unit leading the case, or that led it to the end: the latest lead
    assignment neither returned nor withdrawn (re-dispatched elsewhere)."""
    return Subquery(
        Assignment.objects.filter(case=OuterRef("pk"), role=Assignment.Role.LEAD)
        .exclude(state__in=(Assignment.State.RETURNED, Assignment.State.WITHDRAWN))
        .order_by("-dispatched_at", "-id")
        .values("unit__name")[:1]
    )


def cases_source(user, params) -> Source:
    """The case list (`/cases/`): `cases_for(user)` through the page's own filter set and order.
    Never the caller's name or phone: a file leaves the platform, and nothing masks it there."""
    filterset = CaseFilterSet(params or None, queryset=cases_for(user).order_by("-created_at"))
    if filterset.is_bound and not filterset.is_valid():
        raise InvalidInput(_form_errors(filterset.form))
    cases = filterset.qs

    def rows():
        labels = dict(Case.Status.choices)
        overdue = Exists(selectors.late_leads(timezone.now()).filter(case=OuterRef("pk")))
        values = cases.annotate(lead_unit=_lead_unit(), is_overdue=overdue).values_list(
            "number", "status", "category__name", "grid_id", "grid__name", "lead_unit", "created_at", "closed_at",
            "is_overdue",
        )  # fmt: skip
        for number, status, *rest in values.iterator(chunk_size=CHUNK):
            yield (number, labels.get(status, status), *rest)

    return Source(count=cases.count, rows=rows)


FIGURE_COLUMNS = (
    Column("received", gettext_lazy("Received"), "int"),
    Column("dispatched", gettext_lazy("Dispatched"), "int"),
    Column("signed_on_time", gettext_lazy("Signed on time"), "int"),
    Column("contacted_on_time", gettext_lazy("Contacted on time"), "int"),
    Column("response_due", gettext_lazy("Response due"), "int"),
    Column("responded_on_time", gettext_lazy("Responded on time"), "int"),
    Column("resolved", gettext_lazy("Resolved"), "int"),
    Column("resolved_on_time", gettext_lazy("Resolved on time"), "int"),
    Column("overdue_unresolved", gettext_lazy("Overdue unresolved"), "int"),
    Column("callbacks", gettext_lazy("Callbacks"), "int"),
    Column("callbacks_solved", gettext_lazy("Callbacks solved"), "int"),
    Column("satisfied", gettext_lazy("Satisfied"), "int"),
    Column("basically", gettext_lazy("Basically satisfied"), "int"),
    Column("unsatisfied", gettext_lazy("Unsatisfied"), "int"),
    Column("unreachable_attempts", gettext_lazy("Unreachable attempts"), "int"),
    Column("closed_unreachable", gettext_lazy("Closed unreachable"), "int"),
    Column("exempted", gettext_lazy("Exempted"), "int"),
    Column("returns", gettext_lazy("Returns"), "int"),
    Column("redos", gettext_lazy("Redos"), "int"),
    Column("answered", gettext_lazy("Answered directly"), "int"),
    Column("closed", gettext_lazy("Closed"), "int"),
    Column("response_rate", gettext_lazy("Response rate"), "rate"),
    Column("resolution_rate", gettext_lazy("Resolution rate"), "rate"),
    Column("satisfaction_rate", gettext_lazy("Satisfaction rate"), "rate"),
    Column("on_time_rate", gettext_lazy("On-time rate"), "rate"),
    Column("return_rate", gettext_lazy("Return rate"), "rate"),
    Column("redo_rate", gettext_lazy("Redo rate"), "rate"),
    Column("mean_handling_hours", gettext_lazy("Mean handling hours"), "number"),
    Column("composite", gettext_lazy("Composite score"), "number"),
)
PLACE_COLUMNS = (Column("code", gettext_lazy("Code"), "code"), Column("name", gettext_lazy("Name")))
LIVE_COLUMNS = (
    Column("open", gettext_lazy("Open now"), "int"),
    Column("overdue_now", gettext_lazy("Overdue now"), "int"),
    Column("supervised", gettext_lazy("Supervised now"), "int"),
)


def _figures(figures) -> tuple:
    values = figures.as_dict()
    return tuple(values[column.key] for column in FIGURE_COLUMNS)


def period_from_params(params, *, today=None) -> metrics.Period:
    """The dashboards' period, read by the overview page's own form (`dashboards.forms.PeriodForm`):
    `period=today|week|month|custom` and `from`/`to` for custom; nothing given is this month."""
    form = PeriodForm(params, today=today)
    if not form.is_valid() or form.chosen is None:
        raise InvalidInput(_form_errors(form))
    return form.chosen


def children_source(user, params) -> Source:
    """A dashboard's children table: the streets of the district, the communities of a street or
    the grids of a community (`region`, the person's own dashboard when absent), for the period,
    with every figure and rate and the live counts. Only a dashboard the person may open."""
    roots = selectors.dashboard_roots_for(user)
    code = _one(params, "region") or (roots[0].code if roots else "")
    region = Region.objects.filter(code=code).first() if code else None
    if region is None or not selectors.may_open(user, region):
        raise Http404
    if region.level not in selectors.CHILD_LEVEL:
        raise InvalidInput(_("A grid has no smaller places to list."), "region")
    period = period_from_params(params)

    def rows():
        for child in selectors.children(region=region, period=period):
            yield (child.code, child.name, *_figures(child.figures), child.open, child.overdue, child.supervised)

    return Source(count=Region.objects.filter(parent=region).count, rows=rows)


LEVEL_OF_PREFIX = {length: level for level, length in metrics.REGION_LEVELS.items()}


def metrics_source(user, params) -> Source:
    """The assessment table (`/feedback/metrics/`): `level` and `month` read by the page's own
    form, the rows the person may judge (`metric_codes_for`)."""
    if not may_open(user, "feedback:metrics"):
        raise Http404
    # The page's default level: streets for district-wide people, else the level of their own area.
    prefixes = region_prefixes_for(user)
    default = LEVEL_OF_PREFIX.get(min(len(p) for p in prefixes), "street") if prefixes else "street"
    form = MetricsForm(params, default_level=default)
    if not form.is_valid():
        raise InvalidInput(_form_errors(form))
    period = form.period()
    level = form.cleaned_data["level"]
    codes = metric_codes_for(user, level)
    if level == "unit":
        places = Unit.objects.filter(is_active=True).exclude(kind__in=metrics.UNRANKED_KINDS)
    else:
        places = Region.objects.filter(level=level)
    if codes is not None:
        places = places.filter(code__in=codes)

    def rows():
        for row in metrics.rows_for(level, period=period, codes=codes):
            yield (row.code, row.name, *_figures(row.figures))

    return Source(count=places.count, rows=rows)


RANKING_COLUMNS = (
    Column("rank", gettext_lazy("Rank"), "int"),
    *PLACE_COLUMNS,
    Column("composite", gettext_lazy("Composite score"), "number"),
    Column("change", gettext_lazy("Change from the same days of last month"), "number"),
    *(column for column in FIGURE_COLUMNS if column.kind == "rate"),
    Column("exempted", gettext_lazy("Exempted"), "int"),
    Column("list", gettext_lazy("Red or black list")),
)


def ranking_source(user, params) -> Source:
    """The month's ranking (`/dashboards/ranking/`): `level` (street or department) and `month`
    read by the page's own form, every unit in rank order, units without a score last."""
    if not may_open(user, "dashboards:ranking"):
        raise Http404
    form = RankingForm(params)
    if not form.is_valid():
        raise InvalidInput(_form_errors(form))
    level, month = form.cleaned_data["level"], form.cleaned_data["month"]
    metrics.Period.month(month)  # a bad month is refused here, before anything is counted
    units = Unit.objects.filter(is_active=True, kind__in=selectors.RANKED_UNIT_KINDS[level])

    def rows():
        result = ranking(level, month)
        red = {row.unit.pk for row in result.red}
        black = {row.unit.pk for row in result.black}
        rates = [column.key for column in FIGURE_COLUMNS if column.kind == "rate"]
        for row in result.rows:
            listed = _("Red list") if row.unit.pk in red else _("Black list") if row.unit.pk in black else ""
            yield (
                row.rank, row.unit.code, row.name, row.composite, row.change["composite"],
                *(getattr(row.figures, name) for name in rates), row.exemptions, listed,
            )  # fmt: skip

    return Source(count=units.count, rows=rows)


MEDIATION_COLUMNS = (
    Column("group", gettext_lazy("Group")),
    *PLACE_COLUMNS,
    Column("accepted", gettext_lazy("Accepted"), "int"),
    Column("sessions", gettext_lazy("Sessions held"), "int"),
    Column("agreements", gettext_lazy("Agreements"), "int"),
    Column("no_agreements", gettext_lazy("No agreement"), "int"),
    Column("success_rate", gettext_lazy("Success rate"), "rate"),
    Column("referred_up", gettext_lazy("Referred up"), "int"),
    Column("referred_out", gettext_lazy("Referred out"), "int"),
    Column("broken", gettext_lazy("Agreements broken"), "int"),
    Column("meetings", gettext_lazy("Meetings held"), "int"),
    Column("items_decided", gettext_lazy("Items decided"), "int"),
    Column("cases_opened", gettext_lazy("Cases opened from decisions"), "int"),
    Column("cases_closed", gettext_lazy("Of those, closed"), "int"),
)


def mediation_source(user, params) -> Source:
    """评理说事 and 议事会's figures (`/dashboards/mediation/<region>/`): `region` (the person's own
    dashboard when absent) and the dashboards' period; the page's rows — the place's total, each
    level of point, each kind of dispute and, for the district, each street — with the councils'
    figures on the total's and the streets' rows."""
    roots = selectors.dashboard_roots_for(user)
    code = _one(params, "region") or (roots[0].code if roots else "")
    region = Region.objects.filter(code=code).exclude(level=Region.Level.GRID).first() if code else None
    if region is None or not selectors.may_open(user, region):
        raise Http404
    period = period_from_params(params)
    seen = mediation_figures.figures(region=region, period=period)
    tables = mediation_figures.tables_of(seen, region)
    blank = (None,) * len(mediation_figures.DELIBERATION_FIGURES)

    def values(figures, names):
        return tuple(getattr(figures, name) if figures is not None else 0 for name in names)

    def mediation(figures):
        return values(figures, mediation_figures.MEDIATION_FIGURES)

    councils = {key: figures for key, _name, figures in tables["council"]}
    lines = [
        (
            _("Total"),
            region.code,
            region.name,
            *mediation(seen.total),
            *values(seen.deliberation, mediation_figures.DELIBERATION_FIGURES),
        )
    ]
    lines += [(_("Level"), key, str(label), *mediation(f), *blank) for key, label, f in tables["level"]]
    lines += [(_("Kind"), key, str(label), *mediation(f), *blank) for key, label, f in tables["kind"]]
    lines += [
        (_("Street"), key, name, *mediation(f), *values(councils.get(key), mediation_figures.DELIBERATION_FIGURES))
        for key, name, f in tables["street"]
    ]
    return Source(count=lambda: len(lines), rows=lambda: iter(lines))


TABLES = {
    "cases": Table(gettext_lazy("Cases"), CASE_COLUMNS, cases_source),
    "children": Table(gettext_lazy("Dashboard places"), PLACE_COLUMNS + FIGURE_COLUMNS + LIVE_COLUMNS, children_source),
    "metrics": Table(gettext_lazy("Assessment"), PLACE_COLUMNS + FIGURE_COLUMNS, metrics_source),
    "ranking": Table(gettext_lazy("Ranking"), RANKING_COLUMNS, ranking_source),
    "mediation": Table(gettext_lazy("Mediation and councils"), MEDIATION_COLUMNS, mediation_source),
}


def params_from_query(query) -> dict[str, list[str]]:
    """A request's query string as the JSON an ExportJob keeps: name → list of values."""
    return {name: values for name, values in query.lists() if name not in OWN_PARAMS and name != "page"}


def source_for(*, user, table: str, params: dict[str, list[str]]) -> Source:
    return TABLES[table].source(user, MultiValueDict(params))


# --- writing files -----------------------------------------------------------------------------


def _safe_text(value: str) -> str:
    # A cell starting with one of these is a formula to Excel (CSV injection): keep it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _csv_value(column: Column, value) -> str:
    if value is None:
        return ""
    if column.kind == "datetime":
        return f"{_local(value):%Y-%m-%d %H:%M}"
    if column.kind == "bool":
        return _("yes") if value else _("no")
    if column.kind == "rate":
        return f"{value * 100:.1f}%"
    if column.kind == "number":
        return f"{value:.1f}"
    if column.kind == "int":
        return str(value)
    return _safe_text(str(value))


def write_csv(columns, rows: Iterable[tuple], fileobj, progress=None) -> int:
    """CSV, UTF-8 with a byte-order mark (without it Excel reads the file as GBK); one row in
    memory at a time. Returns the number of rows written."""
    fileobj.write(codecs.BOM_UTF8)
    text = io.TextIOWrapper(fileobj, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([str(column.header) for column in columns])
    written = 0
    for row in rows:
        writer.writerow([_csv_value(column, value) for column, value in zip(columns, row, strict=True)])
        written += 1
        if progress and written % CHUNK == 0:
            progress(written)
    text.flush()
    text.detach()
    return written


XLSX_FORMATS = {"datetime": "yyyy-mm-dd hh:mm", "rate": "0.0%", "number": "0.0", "code": "@"}
XLSX_WIDTHS = {"datetime": 17, "code": 18, "text": 16, "int": 10, "number": 10, "rate": 10, "bool": 8}


def write_xlsx(columns, rows: Iterable[tuple], fileobj, progress=None, title="") -> int:
    """An .xlsx workbook in openpyxl's write-only mode (rows go to a temporary file as they come:
    memory stays flat whatever the size). Codes are text cells, so Excel never shows
    210111001015001 as 2.10111E+14; times are Shanghai times; rates are numbers shown as %."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    # A sheet title has at most 31 characters and none of []:*?/\ .
    sheet = workbook.create_sheet(title=str(title)[:31].translate(str.maketrans("", "", "[]:*?/\\")) or "export")
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = XLSX_WIDTHS.get(column.kind, 14)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [XLSX_FORMATS.get(column.kind) for column in columns]
    written = 0
    for row in rows:
        cells = []
        for column, number_format, value in zip(columns, formats, row, strict=True):
            if value is not None:
                if column.kind == "datetime":
                    value = _local(value)
                elif column.kind == "bool":
                    value = _("yes") if value else _("no")
                elif column.kind in ("text", "code"):
                    value = _safe_text(str(value))
            if number_format and value is not None:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        written += 1
        if progress and written % CHUNK == 0:
            progress(written)
    workbook.save(fileobj)
    return written


def write(table: Table, format: str, rows: Iterable[tuple], fileobj, progress=None) -> int:
    if format == ExportJob.Format.XLSX:
        return write_xlsx(table.columns, rows, fileobj, progress, title=table.title)
    return write_csv(table.columns, rows, fileobj, progress)


def download_name(table: str, format: str, moment=None) -> tuple[str, str]:
    """(the name a person sees, e.g. 案件-20260310-1000.xlsx; its ASCII stand-in for old clients)."""
    stamp = f"{timezone.localtime(moment or timezone.now()):%Y%m%d-%H%M}"
    title = TABLES[table].title if table in TABLES else table
    return f"{title}-{stamp}.{format}", f"{table}-{stamp}.{format}"


def attachment(name: str, fallback: str) -> str:
    """A Content-Disposition for a Chinese file name: RFC 5987's filename* for every current
    browser, and a plain ASCII filename for the clients that know only that."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


# --- jobs --------------------------------------------------------------------------------------


def export_job_create(*, actor, table: str, params: dict, format: str, rows_total: int, language: str) -> ExportJob:
    """Record a large export and queue its task after commit. The same person asking for the same
    file while it is still being written gets that job back (a double click writes one file).
    If Redis is down the job stays queued, and `dashboards.export_stalled` runs it."""
    with transaction.atomic():
        job = ExportJob.objects.filter(
            user=actor,
            table=table,
            params=params,
            format=format,
            language=language,
            state__in=(ExportJob.State.QUEUED, ExportJob.State.RUNNING),
        ).first()
        if job is not None:
            return job
        job = ExportJob.objects.create(
            user=actor, table=table, params=params, format=format, rows_total=rows_total, language=language
        )
        transaction.on_commit(lambda: _queue(job.pk))
    return job


def _queue(job_id):
    from dashboards.exports_tasks import export

    try:
        export.delay(job_id)
    except Exception:
        logger.warning("could not queue export job %s; dashboards.export_stalled will run it", job_id, exc_info=True)


J = ExportJob.State
# An export job's moves (`cases.moves`): a worker claims a queued job, then finishes or fails it;
# the sweep gives up a running job whose worker was lost. Nothing else writes `state`.
EXPORT_JOB_MOVES = {
    "start": RowMove(frozenset({J.QUEUED}), J.RUNNING, (("updated_at", stamp_now),)),
    "finish": RowMove(frozenset({J.RUNNING}), J.DONE, (("finished_at", stamp_now), ("updated_at", stamp_now))),
    "fail": RowMove(frozenset({J.RUNNING}), J.FAILED, (("finished_at", stamp_now), ("updated_at", stamp_now))),
}


def export_job_run(*, job_id) -> str:
    """Write a queued job's file. Safe to run twice and beside itself: a conditional UPDATE moves
    the job from queued to running, and only the run that moved it writes; a job running, done
    or failed is left alone. The table is read with the requester's scope as it is now (a person
    moved to another grid since asking gets the new grid's rows, or a failure). Returns
    "done", "failed" or "skipped"."""
    claimed = rows_move(ExportJob.objects.filter(pk=job_id), EXPORT_JOB_MOVES, "start")
    if not claimed:
        return "skipped"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    with translation.override(job.language):
        try:
            name, written = _job_write(job)
        except Exception as error:
            logger.exception("export job %s failed", job_id)
            message = _("You may no longer read this table.") if isinstance(error, Http404) else str(error)
            rows_move(
                ExportJob.objects.filter(pk=job_id), EXPORT_JOB_MOVES, "fail", error=message or error.__class__.__name__
            )
            return "failed"
    now = timezone.now()
    finished = rows_move(
        ExportJob.objects.filter(pk=job_id),
        EXPORT_JOB_MOVES,
        "finish",
        now=now,
        file=name,
        rows_done=written,
        rows_total=written,
    )
    if not finished:
        # The sweep gave this job up as lost meanwhile; its failure stands, the file goes.
        job.file.storage.delete(name)
        return "failed"
    return "done"


def _job_write(job) -> tuple[str, int]:
    table = TABLES[job.table]
    jobs = ExportJob.objects.filter(pk=job.pk)

    def progress(done):
        # The count was taken a moment before the rows: never let the bar pass its end.
        jobs.update(rows_done=done, rows_total=Greatest("rows_total", done), updated_at=timezone.now())

    # The table is read from the read replica when there is one (the job's own row and its
    # progress are written to the primary all the same): an export of 100,000 rows is the
    # longest read the site makes, and a few seconds of replication lag do not matter to it.
    with replica_reads(), tempfile.TemporaryFile() as scratch:
        source = source_for(user=job.user, table=job.table, params=job.params)
        jobs.update(rows_total=source.count(), rows_done=0, updated_at=timezone.now())
        written = write(table, job.format, source.rows(), scratch, progress)
        scratch.seek(0)
        name = job.file.storage.save(f"exports/{job.table}-{job.pk}.{job.format}", File(scratch))
    return name, written


def export_jobs_sweep(*, now=None) -> dict:
    """The stalled-jobs sweep (beat, every minute): delete jobs and files older than KEEP_FOR,
    give up running jobs whose worker was lost, and run the queued jobs nobody picked up. Safe
    beside itself and beside the jobs' own tasks: every move is a conditional UPDATE."""
    now = now or timezone.now()
    outcome = {"deleted": _delete_old(now - KEEP_FOR), "lost": 0, "run": 0}
    for job in ExportJob.objects.filter(state=ExportJob.State.RUNNING, updated_at__lt=now - LOST_AFTER):
        with translation.override(job.language):
            message = _("The export stopped before it finished (the server restarted). Please export again.")
        outcome["lost"] += rows_move(
            ExportJob.objects.filter(pk=job.pk, updated_at__lt=now - LOST_AFTER),
            EXPORT_JOB_MOVES,
            "fail",
            now=now,
            error=message,
        )
    stalled = ExportJob.objects.filter(state=ExportJob.State.QUEUED, created_at__lt=now - STALLED_AFTER)
    for job_id in stalled.order_by("created_at").values_list("pk", flat=True)[:SWEEP_BATCH]:
        if export_job_run(job_id=job_id) != "skipped":
            outcome["run"] += 1
    return outcome


def _delete_old(before) -> int:
    storage = ExportJob._meta.get_field("file").storage
    old = ExportJob.objects.filter(created_at__lt=before)
    for name in old.exclude(file="").values_list("file", flat=True):
        storage.delete(name)
    deleted, _by_model = old.delete()
    # Files no row points at (a run that died between writing and recording) go by their age.
    try:
        names = storage.listdir("exports")[1]
    except FileNotFoundError:
        names = []
    for name in names:
        path = f"exports/{name}"
        if storage.get_modified_time(path) < before:
            storage.delete(path)
    return deleted
