"""The work-order door's input and answers (docs/integrations.md, "Work orders")."""

from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import RegexValidator
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from accounts.models import phone_validator
from cases.errors import InvalidInput
from cases.models import Channel
from cases.validators import MAX_DESCRIPTION
from grids.models import Region
from intake.services import PlaceMismatch, call_place
from integrations.models import CategoryMapping
from integrations.selectors import grids_named_in

COORDINATE_STEP = Decimal("0.000001")
# Their id is part of the order's URL (GET …/orders/<id>/): no slash, no spaces.
external_id_validator = RegexValidator(
    r"^[^/\s]+$", gettext_lazy("An order id has no slash and no spaces."), code="invalid_id"
)


class OffsetDateTimeField(serializers.DateTimeField):
    """An ISO 8601 moment with its UTC offset (`2026-03-12T18:00:00+08:00`): a time without
    one would be read in some time zone by guess."""

    default_error_messages = {
        "offset": gettext_lazy("Give the time with its UTC offset, e.g. 2026-03-12T18:00:00+08:00."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and (parsed := parse_datetime(value.strip())) is not None and parsed.tzinfo is None:
            self.fail("offset")
        return super().to_internal_value(value)


class CallerSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", validators=[phone_validator]
    )
    confidential = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("the caller asked that their identity be kept confidential (no SMS to them)"),
    )


class OrderSerializer(serializers.Serializer):
    """A work order as a system sends it. What cannot be placed (a category code with no mapping,
    a grid code we do not have, an address that names no single grid) is not refused: the order
    waits for a dispatcher with the reason (`held`)."""

    id = serializers.CharField(
        max_length=64, validators=[external_id_validator], help_text=gettext_lazy("your own id (工单号)")
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text=gettext_lazy("how the resident reached you; the system's own channel when left out"),
    )
    caller = CallerSerializer(required=False)
    text = serializers.CharField(
        max_length=MAX_DESCRIPTION,
        error_messages={"max_length": gettext_lazy("Keep the text under {max_length} characters.")},
        help_text=gettext_lazy("what the resident reported"),
    )
    category = serializers.CharField(max_length=40, help_text=gettext_lazy("your category code"))
    grid = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text=gettext_lazy("a grid's code")
    )
    lat = serializers.DecimalField(
        max_digits=None, decimal_places=None, min_value=3, max_value=54, required=False, allow_null=True, default=None
    )
    long = serializers.DecimalField(
        max_digits=None, decimal_places=None, min_value=73, max_value=136, required=False, allow_null=True, default=None
    )
    crs = serializers.ChoiceField(
        choices=[("wgs84", "WGS-84 (GPS)"), ("gcj02", "GCJ-02 (高德, 腾讯)")],
        required=False,
        default="wgs84",
        help_text=gettext_lazy("gcj02 for a point from 高德 or 腾讯 maps"),
    )
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    deadline = OffsetDateTimeField(
        required=False, allow_null=True, default=None, help_text=gettext_lazy("your deadline, with its UTC offset")
    )

    def __init__(self, *args, system=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.system = system  # whose category table maps `category` (None only for the schema)

    def validate(self, data):
        """Adds `details` (what a case opens with: category and place known) and `reasons` (why
        the order waits for a dispatcher: each of what is unknown)."""
        for name, step in (("lat", data["lat"]), ("long", data["long"])):
            if step is not None:
                data[name] = step.quantize(COORDINATE_STEP, rounding=ROUND_HALF_UP)
        if (data["lat"] is None) != (data["long"] is None):
            missing = "long" if data["long"] is None else "lat"
            raise serializers.ValidationError({missing: [_("Give both lat and long, or neither.")]})
        if not (data["grid"].strip() or data["lat"] is not None or data["address"].strip()):
            raise serializers.ValidationError({"grid": [_("Give the grid, lat and long, or the address.")]})
        reasons = []
        category = self._category(data["category"], reasons)
        grid, point = self._place(data, reasons)
        data["category_found"], data["grid_found"], data["point"] = category, grid, point
        data["reasons"] = reasons
        return data

    def _category(self, code, reasons):
        mapping = CategoryMapping.objects.filter(system=self.system, code=code).select_related("category").first()
        if mapping is None:
            message = _("Category %(code)s is not in the table of %(system)s.")
            reasons.append(message % {"code": code, "system": self.system})
            return None
        if not mapping.category.is_active:
            message = _("Category %(code)s maps to %(category)s, which is no longer used.")
            reasons.append(message % {"code": code, "category": mapping.category.name})
            return None
        return mapping.category

    def _place(self, data, reasons):
        """(grid, (lat, long) in WGS-84 or None); a grid of None with a reason when the place is
        not known. A point outside the district is refused (400 on `lat`)."""
        grid = None
        code = data["grid"].strip()
        if code:
            grid = Region.objects.filter(code=code, level=Region.Level.GRID).first()
            if grid is None:
                reasons.append(_("Grid %(code)s is not a grid of this district.") % {"code": code})
                return None, None
        if data["lat"] is not None:
            try:
                place = call_place(grid=grid, latitude=data["lat"], longitude=data["long"], crs=data["crs"])
            except PlaceMismatch as mismatch:
                reasons.append(str(mismatch))
                return None, (data["lat"], data["long"])
            except InvalidInput as error:
                if error.field == "latitude":
                    raise serializers.ValidationError({"lat": [str(error)]}) from error
                reasons.append(str(error))  # no boundaries to find the point's grid in
                return grid, None
            return place.grid, (place.latitude, place.longitude)
        if grid is not None:
            return grid, None
        found = grids_named_in(data["address"])
        if len(found) != 1:
            reasons.append(_("The place is unknown: the address names no single grid."))
            return None, None
        return found[0], None


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class VerdictSerializer(serializers.Serializer):
    reached = serializers.BooleanField(help_text="whether the callback reached the resident")
    resolved = serializers.BooleanField(required=False, help_text="the resident says the problem is solved")
    satisfaction = serializers.CharField(required=False, help_text="satisfied, basically_satisfied, unsatisfied")
    at = serializers.DateTimeField()


class OrderStateSerializer(serializers.Serializer):
    """An order's state as its sender reads it."""

    id = serializers.CharField(help_text="your id (工单号)")
    number = serializers.CharField(allow_null=True, help_text="our case number; null while held or refused")
    status = serializers.CharField(
        help_text="the case's status (registered, dispatched, in_progress, returned, resolved, closed), or held "
        "(waiting for a dispatcher) or refused"
    )
    status_text = serializers.CharField(help_text="the status in words, in the language asked for")
    reason = serializers.CharField(help_text="why it is held, or why it was refused; empty otherwise")
    received_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField(allow_null=True, help_text="your deadline, as you sent it")
    category = CodeNameSerializer(allow_null=True, help_text="our category")
    grid = CodeNameSerializer(allow_null=True, help_text="the grid")
    unit = serializers.CharField(allow_null=True, help_text="the lead unit")
    due = serializers.DateTimeField(allow_null=True, help_text="the lead unit's deadline to resolve it")
    result = serializers.CharField(allow_null=True, help_text="the lead unit's result, once resolved")
    verdict = VerdictSerializer(allow_null=True, help_text="the resident's verdict at the last callback")
    closed_at = serializers.DateTimeField(allow_null=True)
    closure_reason = serializers.CharField(help_text="why it closed; empty while open")


class OrderAnswerSerializer(OrderStateSerializer):
    duplicate = serializers.BooleanField(
        help_text="true when this id was sent before: nothing changed, the answer is the first order's state"
    )


def order_payload(data, system) -> dict:
    """The order as received, JSON-safe, with the names a dispatcher's placing reads."""
    caller = data.get("caller") or {}
    return {
        "id": data["id"],
        "channel": data.get("channel") or system.channel,
        "description": data["text"],
        "caller_name": caller.get("name", ""),
        "caller_phone": caller.get("phone", ""),
        "caller_confidential": bool(caller.get("confidential")),
        "category": data["category"],
        "grid": data["grid"],
        "lat": str(data["lat"]) if data["lat"] is not None else None,
        "long": str(data["long"]) if data["long"] is not None else None,
        "crs": data["crs"],
        "address": data["address"],
        "deadline": data["deadline"].isoformat() if data["deadline"] else None,
    }
