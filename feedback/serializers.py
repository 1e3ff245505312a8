"""Input and output of the feedback API: the callback, the on-site check, reopening, closure, the
callback queue and the metrics. They parse and shape; the rules stay in `feedback.services`."""

from rest_framework import serializers
from rest_framework.fields import empty

from cases.models import Case
from cases.serializers import PhotosField
from feedback import metrics
from feedback.models import Exemption, Satisfaction


class RequiredBooleanField(serializers.BooleanField):
    """A yes/no that must be given. DRF reads a boolean missing from form data as False (an
    unticked checkbox); here that would record "not reached" or "rejected on site" for a client
    that merely forgot the field."""

    default_empty_html = empty


class CallbackSerializer(serializers.Serializer):
    """What the resident said. Whether `resolved` and `satisfaction` are needed (when reached)
    and whether an exemption fits is the service's rule, so the page and the API agree."""

    reached = RequiredBooleanField()
    resolved = serializers.BooleanField(required=False, allow_null=True, default=None)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, required=False, allow_blank=True, default="")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    exemption = serializers.ChoiceField(choices=Exemption.choices, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class VerifySerializer(serializers.Serializer):
    confirmed = RequiredBooleanField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    photos = PhotosField()


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CloseSerializer(serializers.Serializer):
    """Before the case reaches a unit: invalid or out_of_scope. Once resolved: an exemption
    reason. Which applies depends on the case's status, so the service decides."""

    reason = serializers.ChoiceField(
        choices=[(r.value, r.label) for r in Case.INVALID_CLOSURE_REASONS] + list(Exemption.choices)
    )
    note = serializers.CharField(max_length=2000)


class CallbackQueueRowSerializer(serializers.Serializer):
    number = serializers.CharField(source="case.number")
    title = serializers.CharField(source="case.title")
    category = serializers.CharField(source="case.category.code")
    category_name = serializers.CharField(source="case.category.name")
    grid = serializers.CharField(source="case.grid_id")
    unit = serializers.CharField(source="unit.code", help_text="the lead unit that resolved the case")
    unit_name = serializers.CharField(source="unit.name")
    resolved_at = serializers.DateTimeField(source="finished_at")
    callback_due = serializers.DateTimeField()
    failed_attempts = serializers.IntegerField(help_text="unanswered calls since the case was resolved")
    due = serializers.BooleanField(help_text="the callback is due now")


class _WithDates(serializers.Serializer):
    # `from` is a Python keyword, so the two date fields are added here rather than declared.
    # Optional in a query; an answer always has both (`dates_required`), and its schema says so.
    dates_required = False

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=self.dates_required, help_text="first day, YYYY-MM-DD")
        fields["to"] = serializers.DateField(required=self.dates_required, help_text="last day, YYYY-MM-DD")
        return fields


class MetricsQuerySerializer(_WithDates):
    level = serializers.ChoiceField(choices=metrics.LEVELS)
    month = serializers.CharField(required=False, help_text="YYYY-MM; default: the current month")
    parent = serializers.RegexField(
        r"^\d{6}(\d{3}){0,3}$", required=False, default="", help_text="a region code: only the regions under it"
    )


def _figure_fields():
    """One output field per figure, from `Figures.as_dict()` itself, so the schema cannot drift."""
    fields = {}
    for name, value in metrics.Figures().as_dict().items():
        if isinstance(value, int):
            fields[name] = serializers.IntegerField()
        else:
            fields[name] = serializers.FloatField(allow_null=True)
    return fields


MetricsRowSerializer = type(
    "MetricsRowSerializer",
    (serializers.Serializer,),
    {"code": serializers.CharField(), "name": serializers.CharField(), **_figure_fields()},
)


class MetricsSerializer(_WithDates):
    """The figures of one level for the days `from` to `to`; rates are 0 to 1, or null when
    there is nothing to divide by; `composite` is out of 100."""

    dates_required = True
    level = serializers.CharField()
    weights = serializers.DictField(child=serializers.IntegerField(), help_text="response, resolution, satisfaction")
    basically_value = serializers.FloatField(help_text="what a 'basically satisfied' answer counts (0 to 1)")
    results = MetricsRowSerializer(many=True)
