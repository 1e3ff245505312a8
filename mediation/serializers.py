"""The shapes of 评理说事 over the API (mediation/api.py): what a mediation shows (parties' phones
always masked; revealing one is an action of its own, logged) and what each move takes."""

import base64
import binascii

from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mediation.models import Agreement, Kind, Mediation, MediationEvent, Party, Point, Session
from mediation.moves import MEDIATION_MOVES
from mediation.services import MAX_FOLLOW_UPS, MAX_PARTIES, MAX_TEXT, MIN_PARTIES

MAX_IDS = 50

# --- what a mediation shows ----------------------------------------------------------------------


class PartySerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="phone_masked", read_only=True, help_text="masked: 138****5678")

    class Meta:
        model = Party
        fields = ["id", "name", "phone", "address"]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    mediators = serializers.SerializerMethodField(help_text="the mediators' ids and names")
    present = serializers.SerializerMethodField(help_text="the ids of the parties present")
    outcome = serializers.ChoiceField(
        choices=Session.Outcome.choices, allow_blank=True, read_only=True, help_text='"" until the outcome is known'
    )

    class Meta:
        model = Session
        fields = ["id", "at", "place", "held", "mediators", "present", "statements", "reasoning", "record", "outcome"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_mediators(self, session) -> list:
        return [{"id": m.pk, "name": m.name, "role": m.role} for m in session.mediators.all()]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_present(self, session) -> list:
        return [p.pk for p in session.parties_present.all()]


class AgreementSerializer(serializers.ModelSerializer):
    signed = serializers.SerializerMethodField(help_text="whether the signed copy is uploaded")

    class Meta:
        model = Agreement
        fields = ["terms", "follow_up", "signed", "created_at", "broken_at"]
        read_only_fields = fields

    def get_signed(self, agreement) -> bool:
        return bool(agreement.signed_scan)


class MediationEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, allow_null=True, read_only=True, help_text="null: the system"
    )

    class Meta:
        model = MediationEvent
        fields = ["action", "from_state", "to_state", "actor", "at", "note", "data"]
        read_only_fields = fields


class MediationSerializer(serializers.ModelSerializer):
    """A mediation in a list: where, what kind, its state and its case."""

    point = serializers.CharField(source="point.code", read_only=True, help_text="the point's code")
    point_name = serializers.CharField(source="point.name", read_only=True)
    level = serializers.CharField(source="point.level", read_only=True, help_text="community, street or district")
    case = serializers.CharField(
        source="case.number", default=None, allow_null=True, read_only=True, help_text="the case it came from"
    )
    referred_up = serializers.SerializerMethodField(help_text="the higher point's mediation that took it over")
    referred_to = serializers.CharField(read_only=True, help_text='where it was referred out to; "" if not')

    class Meta:
        model = Mediation
        fields = [
            "id",
            "state",
            "point",
            "point_name",
            "level",
            "kind",
            "case",
            "referred_to",
            "referred_from",
            "referred_up",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_referred_up(self, mediation) -> int | None:
        try:
            return mediation.referred_up.pk
        except Mediation.DoesNotExist:
            return None


class MediationDetailSerializer(MediationSerializer):
    """One mediation with its facts, parties (phones masked), sessions, agreement and events, and
    the moves its state allows."""

    parties = PartySerializer(many=True, read_only=True)
    sessions = SessionSerializer(many=True, read_only=True)
    agreement = serializers.SerializerMethodField()
    events = MediationEventSerializer(many=True, read_only=True)
    moves = serializers.SerializerMethodField(help_text="the moves the state allows now")

    class Meta(MediationSerializer.Meta):
        fields = [*MediationSerializer.Meta.fields, "facts", "parties", "sessions", "agreement", "events", "moves"]
        read_only_fields = fields

    @extend_schema_field(AgreementSerializer(allow_null=True))
    def get_agreement(self, mediation):
        try:
            return AgreementSerializer(mediation.agreement).data
        except Agreement.DoesNotExist:
            return None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_moves(self, mediation) -> list:
        return [action for action, move in MEDIATION_MOVES.items() if mediation.state in move.sources]


# --- what the doors take -------------------------------------------------------------------------


class PointCodeField(serializers.SlugRelatedField):
    default_error_messages = {
        "does_not_exist": _("Unknown mediation point {value}."),
        "invalid": _("Give a mediation point's code as text."),
    }

    def __init__(self, **kwargs):
        super().__init__(
            slug_field="code", queryset=Point.objects.filter(is_active=True).select_related("unit", "region"), **kwargs
        )


def _ids(help_text, **kwargs):
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        max_length=MAX_IDS,
        help_text=help_text,
        **kwargs,
    )


class MediateSerializer(serializers.Serializer):
    point = PointCodeField(help_text="the mediation point's code")
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")


class PartyInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class OpenSerializer(serializers.Serializer):
    point = PointCodeField(help_text="the mediation point's code")
    kind = serializers.ChoiceField(choices=Kind.choices)
    parties = serializers.ListField(
        child=PartyInputSerializer(), min_length=MIN_PARTIES, max_length=MAX_PARTIES, help_text="both sides"
    )
    facts = serializers.CharField(max_length=MAX_TEXT)


class ScheduleSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    place = serializers.CharField(max_length=200)
    mediators = _ids("the point's mediators' ids", min_length=1)


class SessionInputSerializer(serializers.Serializer):
    present = _ids("the ids of the parties present: every party")
    mediators = _ids("the ids of the mediators present", min_length=1)
    statements = serializers.CharField(max_length=MAX_TEXT, help_text="what each side said")
    reasoning = serializers.ListField(
        child=serializers.ChoiceField(choices=Session.Reasoning.choices), min_length=1, max_length=3
    )
    record = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")


class AgreementInputSerializer(serializers.Serializer):
    terms = serializers.CharField(max_length=MAX_TEXT)
    follow_up = serializers.ListField(
        child=serializers.DateField(), max_length=MAX_FOLLOW_UPS, required=False, default=list
    )


class MediationNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=MAX_TEXT)


class MediationOptionalNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")


class ScanField(serializers.FileField):
    """A file in a multipart body, or in a JSON body a data URL (`data:application/pdf;base64,…`):
    a phone app sends the photo of the signed paper either way. Its content is checked by the
    service (a PDF or a photo)."""

    default_error_messages = {
        **serializers.FileField.default_error_messages,
        "data_url": _("Send the signed copy as a file, or as a data URL with base64 content."),
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            head, comma, encoded = data.partition(",")
            if not (head.startswith("data:") and head.endswith(";base64") and comma):
                self.fail("data_url")
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                self.fail("data_url")
            if not content:
                self.fail("empty")
            return ContentFile(content, name="scan")
        return super().to_internal_value(data)


class SignSerializer(serializers.Serializer):
    scan = ScanField(help_text="the signed agreement, a PDF or a photo: a file (multipart) or a data URL (JSON)")


class ReferSerializer(serializers.Serializer):
    level = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="", help_text="up a level: street or district"
    )
    to = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="out: the court, a department"
    )
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")


class PartyPhoneSerializer(serializers.Serializer):
    phone = serializers.CharField()
