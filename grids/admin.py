import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.boundaries import DEFAULT_TOLERANCE, BoundaryError, boundaries_import, features_from_file
from grids.models import GridPosting, Region
from grids.services import (
    RegionFileError,
    RegionImportError,
    region_import,
    regions_export,
    rows_from_file,
    rows_to_csv,
    rows_to_xlsx,
)


class StreetFilter(admin.SimpleListFilter):
    """Narrow a list to one street, by code prefix (a street's places all start with its code)."""

    title = _("street")
    parameter_name = "street"
    code_field = "code"

    def lookups(self, request, model_admin):
        return list(Region.objects.filter(level=Region.Level.STREET).order_by("code").values_list("code", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.code_field}__startswith": self.value()})
        return queryset


class GridStreetFilter(StreetFilter):
    code_field = "grid__code"


class RegionImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "A .csv or .xlsx file with the columns code, name, parent_code and optionally latitude, "
            "longitude, boundary."
        ),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Check the file and show what would change; write nothing.")
    )
    replace = forms.BooleanField(
        label=_("Replace"),
        required=False,
        help_text=_("Delete the grids of the communities in the file that the file does not list."),
    )


def _export_response(queryset, extension):
    rows = regions_export(queryset=queryset)
    content_types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(content_type=content_types[extension])
    response["Content-Disposition"] = f'attachment; filename="regions-{timezone.localdate():%Y%m%d}.{extension}"'
    (rows_to_xlsx if extension == "xlsx" else rows_to_csv)(rows, response)
    return response


class BoundaryImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "One level of places: a GeoJSON FeatureCollection (.geojson, .json), or a Shapefile (.zip of "
            ".shp, .dbf, .prj), in longitude/latitude."
        ),
    )
    code_field = forms.CharField(
        label=_("Code field"), initial="code", max_length=40, help_text=_("The property holding each place's code.")
    )
    tolerance = forms.FloatField(
        label=_("Tolerance"),
        initial=DEFAULT_TOLERANCE,
        min_value=0,
        max_value=0.5,
        help_text=_("Share of a place's area allowed outside its parent or over a neighbour."),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Check the file and show what would change; write nothing.")
    )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "community_kind", "area_km2", "boundary_generated"]
    list_filter = ["level", "community_kind", "boundary_generated", StreetFilter]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    # A search of digits is a code prefix (see get_search_results); anything else searches names.
    search_fields = ["name"]
    search_help_text = _("Digits search by code prefix (210111001 is everything in 解放街道); text searches names.")
    actions = ["export_xlsx", "export_csv"]
    change_list_template = "admin/grids/region/change_list.html"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isascii() and term.isdigit():
            # startswith, not istartswith: the varchar_pattern_ops index serves only the former.
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=_("Export selected as XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return _export_response(queryset, "xlsx")

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return _export_response(queryset, "csv")

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="grids_region_import"),
            path(
                "import-boundaries/",
                self.admin_site.admin_view(self.import_boundaries_view),
                name="grids_region_import_boundaries",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        errors, result = [], None
        form = RegionImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            replace = form.cleaned_data["replace"]
            if replace and not self.has_delete_permission(request):
                raise PermissionDenied
            upload = form.cleaned_data["file"]
            try:
                rows = rows_from_file(upload, upload.name)
                result = region_import(rows=rows, replace=replace, dry_run=form.cleaned_data["dry_run"])
            except RegionFileError as error:
                form.add_error("file", str(error))
            except RegionImportError as error:
                errors = error.errors
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import regions"),
            "form": form,
            "errors": errors,
            "result": result,
        }
        return TemplateResponse(request, "admin/grids/region/import.html", context)

    def import_boundaries_view(self, request):
        """The district's real boundaries, one level at a time (docs/maps.md)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        problems, report = [], None
        form = BoundaryImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            suffix = Path(upload.name).suffix.lower()
            try:
                with tempfile.NamedTemporaryFile(suffix=suffix) as copy:
                    for chunk in upload.chunks():
                        copy.write(chunk)
                    copy.flush()
                    features = features_from_file(Path(copy.name), code_field=form.cleaned_data["code_field"])
                report = boundaries_import(
                    features, tolerance=form.cleaned_data["tolerance"], dry_run=form.cleaned_data["dry_run"]
                )
            except BoundaryError as error:
                problems = error.problems
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import boundaries"),
            "form": form,
            "problems": problems,
            "report": report,
        }
        return TemplateResponse(request, "admin/grids/region/import_boundaries.html", context)


@admin.register(GridPosting)
class GridPostingAdmin(admin.ModelAdmin):
    list_display = ["user", "grid", "grid_code", "created_at"]
    list_filter = [GridStreetFilter]
    list_select_related = ["user", "grid"]
    autocomplete_fields = ["user", "grid"]
    search_fields = ["user__username", "user__real_name", "^grid__code", "grid__name"]

    @admin.display(description=_("grid code"), ordering="grid__code")
    def grid_code(self, posting):
        return posting.grid.code
