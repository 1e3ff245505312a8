"""Input and output of the statistics API (`/api/v1/stats/`): the summary of a place and the
monthly ranking of units. They parse and shape; the figures come from `dashboards.selectors` and
`dashboards.rankings`, the same functions the pages call."""

from rest_framework import serializers

from dashboards.rankings import CHANGES, LEVELS
from feedback import metrics
from feedback.serializers import _figure_fields, _WithDates


class SummaryQuerySerializer(_WithDates):
    region = serializers.RegexField(
        r"^\d{6}(\d{3}){0,3}$",
        required=False,
        help_text="a district, street, community or grid code; default: the first place the caller may open",
    )


FiguresSerializer = type("StatsFiguresSerializer", (serializers.Serializer,), _figure_fields())


class StatsRegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class SummarySerializer(_WithDates):
    """The figures of one place for the days `from` to `to` (rates 0 to 1, or null when there is
    nothing to divide by; `composite` out of 100), and its cases open, overdue and supervised now."""

    dates_required = True
    region = StatsRegionSerializer()
    open = serializers.IntegerField(help_text="cases open now")
    overdue = serializers.IntegerField(help_text="open cases past a deadline of their lead unit now")
    supervised = serializers.IntegerField(help_text="open cases under supervision (督办) now")
    figures = FiguresSerializer()


class RankingQuerySerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=LEVELS, required=False, default="street")
    month = serializers.CharField(required=False, help_text="YYYY-MM; default: the current month")


ChangeSerializer = type(
    "RankingChangeSerializer",
    (serializers.Serializer,),
    {name: serializers.FloatField(allow_null=True) for name in CHANGES},
)


class ExemptedSerializer(serializers.Serializer):
    number = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    note = serializers.CharField()


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null: no composite score this month")
    code = serializers.CharField(source="unit.code")
    name = serializers.CharField(source="unit.name")
    place = serializers.CharField(
        source="unit.region.code", allow_null=True, default=None, help_text="the street counted (by place), else null"
    )
    composite = serializers.FloatField(allow_null=True)
    exemptions = serializers.IntegerField(help_text="cases closed with an exemption this month")
    exempted = ExemptedSerializer(many=True)
    figures = FiguresSerializer(source="figures.as_dict")
    change = ChangeSerializer(help_text="this month minus the same days of last month; null when either is missing")


class RankingSerializer(serializers.Serializer):
    level = serializers.CharField()
    basis = serializers.ChoiceField(
        choices=["place", "unit"],
        help_text="place: the streets by place (属地); unit: the departments by handling unit (docs/metrics.md)",
    )
    month = serializers.CharField()
    first_day = serializers.DateField(help_text="the days counted: the month, or its 1st to today while it runs")
    last_day = serializers.DateField()
    previous_month = serializers.CharField()
    previous_first_day = serializers.DateField(help_text="the days compared with: the same days of the month before")
    previous_last_day = serializers.DateField()
    results = RankingRowSerializer(many=True)
    red = serializers.ListField(child=serializers.CharField(), help_text="unit codes of the red list, best first")
    black = serializers.ListField(child=serializers.CharField(), help_text="unit codes of the black list, worst first")


def ranking_data(result) -> dict:
    return {
        "level": result.level,
        "basis": result.basis,
        "month": f"{result.period.first:%Y-%m}",
        "first_day": result.period.first.isoformat(),
        "last_day": result.period.last.isoformat(),
        "previous_month": f"{result.previous_period.first:%Y-%m}",
        "previous_first_day": result.previous_period.first.isoformat(),
        "previous_last_day": result.previous_period.last.isoformat(),
        "results": RankingRowSerializer(result.rows, many=True).data,
        "red": [row.unit.code for row in result.red],
        "black": [row.unit.code for row in result.black],
    }


def summary_data(region, period: metrics.Period, summary) -> dict:
    return {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "open": summary.open,
        "overdue": summary.overdue,
        "supervised": summary.supervised,
        "figures": summary.figures.as_dict(),
    }
