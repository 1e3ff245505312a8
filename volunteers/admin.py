"""The social half's configuration screens. Each part of issue 20 registers its own models here."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.errors import InvalidInput
from grids.services import RegionFileError, rows_from_file
from units.models import Pairing, Unit
from volunteers import imports
from volunteers.models import Booking, PointEntry, PointRule, Reward, Service, ServiceDay, Team, TeamMember, Volunteer
from volunteers.teams import (
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    area_problem,
    home_problem,
    leader_follow,
    phone_problem,
    skills_parse,
    volunteer_username,
)

# --- Teams and volunteers (Teams and volunteers, docs/volunteers.md) -------------------------------

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _export_response(kind, rows, extension):
    response = HttpResponse(content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'attachment; filename="{kind}-{timezone.localdate():%Y%m%d}.{extension}"'
    columns = imports.COLUMNS[kind]
    if extension == "xlsx":
        imports.rows_to_xlsx(rows, columns, response, sheet_name=kind)
    else:
        imports.rows_to_csv(rows, columns, response)
    return response


class SkillsField(forms.CharField):
    """Skills typed one per line (or separated by 、 or commas)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        try:
            return skills_parse(super().to_python(value))
        except InvalidInput as error:
            raise forms.ValidationError(str(error)) from None


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("A .xlsx or .csv file with the columns below."))
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, help_text=_("Check the file and show what would change; write nothing.")
    )


class PairingImportForm(ImportForm):
    replace = forms.BooleanField(
        label=_("Replace"),
        required=False,
        help_text=_("Each community in the file keeps only the agencies the file pairs it with."),
    )


# What each admin's export action writes, by its `import_kind`.
EXPORTERS = {"teams": imports.teams_export, "volunteers": imports.volunteers_export}


class ImportExportMixin:
    """Import from a spreadsheet (all or nothing, with a report of every problem) and export the
    selected rows, as the places are (grids/admin.py)."""

    import_kind = ""  # a key of EXPORTERS
    actions = ["export_xlsx", "export_csv"]

    def export_rows(self, queryset):
        return EXPORTERS[self.import_kind](queryset=queryset)

    @admin.action(description=_("Export selected as XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return _export_response(self.import_kind, self.export_rows(queryset), "xlsx")

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return _export_response(self.import_kind, self.export_rows(queryset), "csv")

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def import_page(self, request, *, kind, run, form_class=ImportForm, title, back):
        """The upload form, and after a post the report: the problems by line and column (nothing
        written), or what was (or, in a dry run, would be) created and updated."""
        errors, result = [], None
        form = form_class(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                rows = rows_from_file(upload, upload.name)
                result = run(rows, form.cleaned_data, request.user)
            except RegionFileError as error:
                form.add_error("file", str(error))
            except imports.ImportProblems as error:
                errors = error.errors
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "errors": errors,
            "result": result,
            "kind": kind,
            "columns": imports.COLUMNS[kind],
            "back": back,
        }
        return TemplateResponse(request, "admin/volunteers/import.html", context)


class TeamForm(forms.ModelForm):
    """A team and its unit together: the unit's code (fixed once made) and name."""

    code = forms.CharField(label=_("code"), max_length=CODE_MAX_LENGTH)
    name = forms.CharField(label=_("name"), max_length=NAME_MAX_LENGTH)
    skills = SkillsField(label=_("skills"), required=False)

    class Meta:
        model = Team
        fields = ["code", "name", "level", "home", "area", "leader", "skills", "sponsor"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].initial = self.instance.unit.code
            self.fields["code"].disabled = True
            self.fields["name"].initial = self.instance.unit.name

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not self.instance.pk:
            if not imports.TEAM_CODE.fullmatch(code):
                raise forms.ValidationError(_("Letters, digits, - _ and . only."))
            if Unit.objects.filter(code=code).exists():
                raise forms.ValidationError(_("The code %(code)s is already a unit's.") % {"code": code})
        return code

    def clean(self):
        cleaned = super().clean()
        level, home, area = cleaned.get("level"), cleaned.get("home"), cleaned.get("area")
        if level and home and (problem := home_problem(level, home)):
            self.add_error("home", problem)
        if home and area and (problem := area_problem(home, area)):
            self.add_error("area", problem)
        return cleaned


class VolunteerForm(forms.ModelForm):
    skills = SkillsField(label=_("skills"), required=False)

    class Meta:
        model = Volunteer
        fields = ["name", "phone", "home", "skills", "availability"]

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if problem := phone_problem(phone):
            raise forms.ValidationError(problem)
        if Volunteer.objects.filter(phone=phone).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("A volunteer with the phone %(phone)s exists already.") % {"phone": phone})
        return phone


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    autocomplete_fields = ["team"]
    readonly_fields = ["joined_at"]


def _members_count():
    return Coalesce(
        Subquery(
            TeamMember.objects.filter(team=OuterRef("pk")).order_by().values("team").annotate(n=Count("id")).values("n")
        ),
        0,
    )


@admin.register(Team)
class TeamAdmin(ImportExportMixin, admin.ModelAdmin):
    form = TeamForm
    import_kind = "teams"
    list_display = ["code", "name", "level", "home", "area", "leader", "members", "sponsor"]
    list_filter = ["level"]
    list_select_related = ["unit", "home", "area", "leader", "sponsor"]
    search_fields = ["unit__code", "unit__name"]
    autocomplete_fields = ["home", "area", "leader", "sponsor"]
    change_list_template = "admin/volunteers/team/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members_count=_members_count())

    @admin.display(description=_("code"), ordering="unit__code")
    def code(self, team):
        return team.unit.code

    @admin.display(description=_("name"), ordering="unit__name")
    def name(self, team):
        return team.unit.name

    @admin.display(description=_("volunteers"), ordering="members_count")
    def members(self, team):
        return team.members_count

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        name = form.cleaned_data["name"]
        if change:
            obj.unit.name, obj.unit.region = name, obj.home
            obj.unit.save(update_fields=["name", "region"])
        else:
            obj.unit = Unit.objects.create(
                code=form.cleaned_data["code"], name=name, kind=Unit.Kind.SOCIAL, region=obj.home
            )
        super().save_model(request, obj, form, change)
        leader_follow(obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="volunteers_team_import"),
            path("import-pairings/", view(self.import_pairings_view), name="volunteers_pairing_import"),
            path("export-pairings/<str:extension>/", view(self.export_pairings_view), name="volunteers_pairing_export"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return self.import_page(
            request,
            kind="teams",
            run=lambda rows, data, user: imports.teams_import(rows=rows, dry_run=data["dry_run"], actor=user),
            title=_("Import volunteer teams"),
            back=reverse("admin:volunteers_team_changelist"),
        )

    def import_pairings_view(self, request):
        """结邻共建's pairings (units.Pairing), agency ↔ community, from a spreadsheet."""
        if not (request.user.has_perm("units.add_pairing") and request.user.has_perm("units.change_pairing")):
            raise PermissionDenied

        def run(rows, data, user):
            if data["replace"] and not user.has_perm("units.delete_pairing"):
                raise PermissionDenied
            return imports.pairings_import(rows=rows, replace=data["replace"], dry_run=data["dry_run"], actor=user)

        return self.import_page(
            request,
            kind="pairings",
            run=run,
            form_class=PairingImportForm,
            title=_("Import pairings (结邻共建)"),
            back=reverse("admin:units_pairing_changelist"),
        )

    def export_pairings_view(self, request, extension):
        if not request.user.has_perm("units.view_pairing") or extension not in CONTENT_TYPES:
            raise PermissionDenied
        return _export_response("pairings", imports.pairings_export(queryset=Pairing.objects.all()), extension)


@admin.register(Volunteer)
class VolunteerAdmin(ImportExportMixin, admin.ModelAdmin):
    form = VolunteerForm
    import_kind = "volunteers"
    list_display = ["name", "phone", "home", "availability", "joined_at"]
    list_select_related = ["home"]
    list_filter = ["teams__level"]
    # A phone is searched from its start (the index serves it), a name anywhere in it.
    search_fields = ["name", "^phone", "user__username"]
    search_help_text = _("A name, or the start of a phone number.")
    autocomplete_fields = ["home"]
    readonly_fields = ["user", "joined_at"]
    inlines = [TeamMemberInline]
    change_list_template = "admin/volunteers/volunteer/change_list.html"

    def get_fields(self, request, obj=None):
        fields = ["name", "phone", "home", "skills", "availability"]
        return [*fields, "user", "joined_at"] if obj else fields

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        if change:
            User.objects.filter(pk=obj.user_id).update(real_name=obj.name)
        else:
            # An account of their own that cannot sign in until someone sets a password.
            taken = set(User.objects.filter(username__startswith=f"v{obj.phone}").values_list("username", flat=True))
            obj.user = User.objects.create_user(
                username=volunteer_username(obj.phone, taken), real_name=obj.name, phone=obj.phone
            )
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("import/", view(self.import_view), name="volunteers_volunteer_import"), *super().get_urls()]

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return self.import_page(
            request,
            kind="volunteers",
            run=lambda rows, data, user: imports.volunteers_import(rows=rows, dry_run=data["dry_run"], actor=user),
            title=_("Import volunteers"),
            back=reverse("admin:volunteers_volunteer_changelist"),
        )


# --- Points and rewards, bookings (Points and rewards; Bookings, docs/volunteers.md) --------------


@admin.register(PointRule)
class PointRuleAdmin(admin.ModelAdmin):
    """How many points a kind of work earns; the next earning uses the rule as it is then. A kind
    without a row earns the default (volunteers.points.DEFAULT_RULES)."""

    list_display = ["kind", "points"]
    list_editable = ["points"]
    list_display_links = ["kind"]


@admin.register(PointEntry)
class PointEntryAdmin(admin.ModelAdmin):
    """The ledger, read-only: a line is never edited or deleted. Corrections are new lines, made on
    the staff's page (/volunteers/points/volunteers/) by the district centre or the volunteer's
    community committee."""

    list_display = ["created_at", "volunteer", "kind", "points", "reason", "created_by"]
    list_filter = ["kind"]
    list_select_related = ["volunteer", "created_by"]
    search_fields = ["volunteer__name", "^volunteer__phone", "reason"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = ["community", "name", "cost", "stock", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The stock the page showed travels with the form: the change is applied as a difference.
        self.fields["stock"].show_hidden_initial = True

    def stock_shown(self) -> int:
        try:
            return int(self.data.get(self.add_initial_prefix("stock"), ""))
        except ValueError:
            return self.initial.get("stock", 0)


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    """A community's rewards. A change of stock is applied as a difference from the figure the form
    showed (`stock + (new - shown)`, never below zero), so a redemption made while the form was
    open is not undone."""

    form = RewardForm
    list_display = ["name", "community", "cost", "stock", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["community"]
    search_fields = ["name", "community__name"]
    autocomplete_fields = ["community"]

    def save_model(self, request, obj, form, change):
        if change:
            # Saved whole, the row would write back the stock read when the form was posted.
            obj.stock = Greatest(F("stock") + (obj.stock - form.stock_shown()), Value(0))
        super().save_model(request, obj, form, change)
        obj.refresh_from_db()


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    """A team's standing services; a new capacity applies to the days not booked yet."""

    list_display = ["name", "team", "capacity", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["team__unit"]
    search_fields = ["name", "team__unit__name"]
    autocomplete_fields = ["team"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that move only through their services (places taken, the table of moves)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceDay)
class ServiceDayAdmin(ReadOnlyAdmin):
    list_display = ["service", "day", "booked", "capacity"]
    list_select_related = ["service"]
    date_hierarchy = "day"


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "day", "resident_name", "state", "served_by"]
    list_filter = ["state"]
    list_select_related = ["day__service", "served_by"]
    search_fields = ["resident_name", "^resident_phone"]
    show_full_result_count = False
