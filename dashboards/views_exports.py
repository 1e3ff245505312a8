"""Exports: `GET /dashboards/export/?table=…&format=xlsx|csv&<the page's filters>` answers the file
at once, or starts a job and shows its progress until the file can be downloaded."""

import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cases.errors import InvalidInput
from dashboards import exports
from dashboards.models import ExportJob


def _refused(request, message):
    return render(request, "dashboards/export_refused.html", {"message": message}, status=400)


@login_required
@require_GET
def export(request):
    """The table the page shows, with the page's filters, as a file. Up to EXPORT_AT_ONCE rows
    the file is the answer; more become a job written by a Celery task."""
    name = request.GET.get("table", "")
    format = request.GET.get("format", "")
    if name not in exports.TABLES:
        choices = ", ".join(exports.TABLES)
        return _refused(request, _("There is no table “%(table)s” to export. Choose one of: %(choices)s.") % {
            "table": name, "choices": choices,
        })  # fmt: skip
    if format not in ExportJob.Format.values:
        return _refused(request, _("Choose the file format: xlsx (Excel) or csv."))
    params = exports.params_from_query(request.GET)
    try:
        source = exports.source_for(user=request.user, table=name, params=params)
        total = source.count()
    except InvalidInput as error:
        return _refused(request, str(error))
    if total <= exports.EXPORT_AT_ONCE:
        buffer = io.BytesIO()
        exports.write(exports.TABLES[name], format, source.rows(), buffer)
        response = HttpResponse(buffer.getvalue(), content_type=exports.CONTENT_TYPES[format])
        response["Content-Disposition"] = exports.attachment(*exports.download_name(name, format))
        return response
    job = exports.export_job_create(
        actor=request.user, table=name, params=params, format=format, rows_total=total, language=get_language()
    )
    return redirect("dashboards:export-job", job.pk)


def _own_job(request, pk, **conditions):
    # Another person's job answers 404, alike for "no such job" and "not yours".
    return get_object_or_404(ExportJob, pk=pk, user=request.user, **conditions)


@login_required
@require_GET
def export_job(request, pk):
    """A job's progress; htmx polls the partial every 2 s until the job is done or failed."""
    job = _own_job(request, pk)
    table = exports.TABLES.get(job.table)
    context = {"job": job, "title": table.title if table else job.table, "keep_days": exports.KEEP_FOR.days}
    template = "dashboards/_export_progress.html" if request.htmx else "dashboards/export_job.html"
    return render(request, template, context)


@login_required
@require_GET
def export_download(request, pk):
    job = _own_job(request, pk, state=ExportJob.State.DONE)
    if not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=exports.CONTENT_TYPES[job.format])
    response["Content-Disposition"] = exports.attachment(*exports.download_name(job.table, job.format, job.created_at))
    return response
