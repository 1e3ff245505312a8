from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases.admin import CategoryClassFilter
from cases.models import Category
from deadlines.policies import NoDefaultSlaPolicy, sla_policy_for
from grids.models import Region
from routing.models import RoutingRule
from routing.rules import route_for
from units.models import Unit


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["category", "region", "level", "unit", "note", "is_active"]

    def clean(self):
        # The database's check constraint would refuse these too, but with a message naming the
        # constraint rather than what to change.
        cleaned = super().clean()
        level, unit = cleaned.get("level"), cleaned.get("unit")
        if level == RoutingRule.Level.UNIT and unit is None:
            self.add_error("unit", _("Name the unit that handles these cases."))
        elif level == RoutingRule.Level.UNIT and unit.kind not in RULE_UNIT_KINDS:
            self.add_error(
                "unit", _("A rule names a department, a public utility or a social force; this unit cannot lead cases.")
            )
        elif level and level != RoutingRule.Level.UNIT and unit is not None:
            self.add_error(
                "unit",
                _("Leave empty: community and street rules go to the committee or street office of the case's grid."),
            )
        return cleaned


# Units a rule may name as the handler of a category district-wide.
RULE_UNIT_KINDS = (Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY, Unit.Kind.SOCIAL)


class RoutingPreviewForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("category"), queryset=Category.objects.filter(is_active=True).select_related("parent")
    )
    grid = forms.CharField(
        label=_("grid code"), max_length=15, help_text=_("The 15-digit code, e.g. 210111001015001 (金山社区第1网格).")
    )

    def clean_grid(self):
        grid = Region.objects.filter(code=self.cleaned_data["grid"].strip(), level=Region.Level.GRID).first()
        if grid is None:
            raise forms.ValidationError(_("No grid has this code."))
        return grid


# Kept here rather than in a template file: the page is one form and one answer.
PREVIEW_TEMPLATE = """{% extends "admin/base_site.html" %}
{% load i18n static %}
{% block extrastyle %}{{ block.super }}<link rel="stylesheet" href="{% static 'admin/css/forms.css' %}">{% endblock %}
{% block bodyclass %}{{ block.super }} app-{{ opts.app_label }} model-{{ opts.model_name }}{% endblock %}
{% block breadcrumbs %}
<ol class="breadcrumbs">
  <li><a href="{% url 'admin:index' %}">{% translate 'Home' %}</a></li>
  <li><a href="{% url 'admin:app_list' app_label=opts.app_label %}">{{ opts.app_config.verbose_name }}</a></li>
  <li><a href="{% url 'admin:routing_routingrule_changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a></li>
  <li aria-current="page">{{ title }}</li>
</ol>
{% endblock %}
{% block content %}
<div id="content-main">
  {% if decision %}
    <div id="routing-preview" class="module">
      <h2>{% if decision.unit %}{{ decision.unit.name }}{% else %}{{ catch_all }}{% endif %}</h2>
      <p>{{ decision.explanation }}</p>
      {% if policy %}<p>{{ policy_label }}: {{ policy }}</p>{% endif %}
    </div>
  {% endif %}
  <form method="get" novalidate>
    <fieldset class="module aligned">
      {% for field in form %}
        <div class="form-row{% if field.errors %} errors{% endif %}">
          {{ field.errors }}
          <div class="flex-container">{{ field.label_tag }} {{ field }}</div>
          {% if field.help_text %}<div class="help">{{ field.help_text }}</div>{% endif %}
        </div>
      {% endfor %}
    </fieldset>
    <div class="submit-row"><input type="submit" class="default" value="{{ submit }}"></div>
  </form>
</div>
{% endblock %}
"""


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["number", "category", "region", "level", "unit", "is_active"]
    list_display_links = ["number", "category"]
    list_filter = ["level", "is_active", CategoryClassFilter]
    search_fields = ["category__name", "^category__code", "unit__name", "unit__code", "region__name"]
    list_select_related = ["category", "region", "unit"]
    autocomplete_fields = ["category", "region", "unit"]
    ordering = ["category__code", "region__code"]

    @admin.display(description="#", ordering="pk")
    def number(self, obj):
        # Routing explanations cite rules by this number ("because of rule #12").
        return obj.pk

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="routing_routingrule_preview"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        link = format_html(
            '<a href="{}">{}</a>',
            reverse("admin:routing_routingrule_preview"),
            _("Preview: where would a case go?"),
        )
        return super().changelist_view(request, extra_context={**(extra_context or {}), "subtitle": link})

    def preview_view(self, request):
        """Read-only: what route_for answers for a category and a grid, with the SLA policy."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RoutingPreviewForm(request.GET or None)
        decision = policy = None
        if form.is_valid():
            category = form.cleaned_data["category"]
            decision = route_for(category=category, grid=form.cleaned_data["grid"])
            try:
                policy = sla_policy_for(category=category, priority=category.default_priority)
            except NoDefaultSlaPolicy as error:
                policy = str(error)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Where would a case go?"),
            "form": form,
            "decision": decision,
            "policy": policy,
            "policy_label": _("Time limits (at the category's default priority)"),
            "catch_all": _("The district centre's dispatchers (no unit)"),
            "submit": _("Show"),
        }
        return TemplateResponse(request, engines["django"].from_string(PREVIEW_TEMPLATE), context)
