"""Tasks over the API (任务发布), for the volunteers' phone app to come and the publishers' systems:
`GET/POST /api/v1/tasks/`, and `POST /api/v1/tasks/<id>/signup/`, `/withdraw/`, `/checkin/`,
`/checkout/` (volunteers) and `/confirm/` (the publisher). The same services as the pages
(volunteers/tasks.py); a task the caller may not read answers 404 as a missing one."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from cases.errors import NotPermitted
from cases.schema import NOT_FOUND, PAGE_PARAMETERS, paginated
from cases.validators import validate_photo
from grids.models import Region
from units.models import Unit
from volunteers import tasks as services
from volunteers.forms_tasks import ADDRESS_MAX, CASE_NUMBER_MAX, DESCRIPTION_MAX, SKILL_MAX, TITLE_MAX
from volunteers.models import Signup, Task
from volunteers.tasks import MAX_SKILLS, MAX_WANTED

# --- shapes --------------------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    publisher = serializers.CharField(source="publisher.code", read_only=True, help_text="the publishing unit's code")
    publisher_name = serializers.CharField(source="publisher.name", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True, help_text="the place's code")
    region_name = serializers.CharField(source="region.name", read_only=True)
    addressed_to = serializers.CharField(
        source="addressed_to.code",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="the one team or paired agency it is for; null: every team of the place",
    )
    case = serializers.CharField(
        source="case.number", default=None, allow_null=True, read_only=True, help_text="the case it is from"
    )
    my_signup = serializers.CharField(
        source="my_state",
        default=None,
        allow_null=True,
        read_only=True,
        help_text="a volunteer's own sign-up state (signed, checked_in, checked_out, confirmed, withdrawn, "
        "absent), null if none",
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "source",
            "state",
            "publisher",
            "publisher_name",
            "region",
            "region_name",
            "address",
            "starts",
            "ends",
            "deadline",
            "skills",
            "wanted",
            "taken",
            "emergency",
            "addressed_to",
            "case",
            "campaign",
            "created_at",
            "confirmed_at",
            "my_signup",
        ]
        read_only_fields = fields


class SignupSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.name", read_only=True)
    photo = serializers.SerializerMethodField(help_text="the photo's address, for the publisher and the volunteer")

    class Meta:
        model = Signup
        fields = [
            "id",
            "task",
            "volunteer",
            "volunteer_name",
            "state",
            "team",
            "signed_at",
            "checked_in_at",
            "checked_out_at",
            "photo",
            "hours",
            "confirmed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_photo(self, signup) -> str | None:
        if not signup.photo:
            return None
        path = reverse("volunteers:task-photo", args=[signup.task_id, signup.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ConfirmedTaskSerializer(TaskSerializer):
    signups = SignupSerializer(many=True, read_only=True, source="signup_rows")

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "signups"]
        read_only_fields = fields


class TaskQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true (the default): only tasks still taking sign-ups; false: every task the caller may see",
    )
    region = serializers.RegexField(
        r"^[0-9]{6,15}$", max_length=15, required=False, help_text="a place's code: tasks in it and below it"
    )


class TaskCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX)
    description = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")
    region = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.all(),
        help_text="a street, community or grid code within the publisher's area (a department: any)",
    )
    address = serializers.CharField(max_length=ADDRESS_MAX, required=False, allow_blank=True, default="")
    starts = serializers.DateTimeField()
    ends = serializers.DateTimeField()
    deadline = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="sign up by; by default the start"
    )
    skills = serializers.ListField(
        child=serializers.CharField(max_length=SKILL_MAX), max_length=MAX_SKILLS, required=False, default=list
    )
    wanted = serializers.IntegerField(min_value=1, max_value=MAX_WANTED)
    emergency = serializers.BooleanField(required=False, default=False, help_text="points carry the emergency bonus")
    addressed_to = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Unit.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="a volunteer team's or a paired agency's unit code: only its volunteers see the task",
    )
    case = serializers.CharField(
        max_length=CASE_NUMBER_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="the number of a case the task is from (open, one the caller may read)",
    )


class PhotoSerializer(serializers.Serializer):
    photo = serializers.ImageField(
        required=False, allow_null=True, default=None, help_text="optional, JPEG/PNG/WebP/GIF"
    )

    def validate_photo(self, photo):
        if photo:
            try:
                validate_photo(photo)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages) from None
        return photo


class ConfirmSerializer(serializers.Serializer):
    hours = serializers.DictField(
        child=serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0),
        required=False,
        default=dict,
        help_text='hours to credit by volunteer id, e.g. {"17": 2.5}; a volunteer who came and is not named '
        "is credited their time on site, to the half hour",
    )

    def validate_hours(self, hours):
        if any(not str(key).isdigit() or len(str(key)) > 12 for key in hours):
            raise serializers.ValidationError(_("Name each volunteer by their id (a number)."))
        return {int(key): value for key, value in hours.items()}


class TeamSignupSerializer(serializers.Serializer):
    team = serializers.CharField(max_length=30, help_text="the team's unit code")
    volunteers = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=500,
        help_text="the ids of the team's members to sign up: all of them take a place, or none",
    )


# --- doors ---------------------------------------------------------------------------------------


# The task's id in the path: matched as text, so that anything else answers the API's 404 (not
# the HTML one of a route that does not match).
TASK_ID = OpenApiParameter("task", OpenApiTypes.INT, OpenApiParameter.PATH, description="the task's id")


def _task_for(request, task):
    if not (task.isascii() and task.isdigit()) or len(task) > 12:
        raise Http404
    row = services.tasks_for(request.user).filter(pk=int(task)).first()
    if row is None:
        raise Http404
    return row


def _body(request):
    """The request's data; a multipart body without a single part is malformed (RFC 2046 wants
    one or more), not an empty form: refused, so a broken upload is not taken for "no photo".
    No body at all is the way to send nothing."""
    if request.content_type.startswith("multipart/") and not request.data and not request.FILES:
        raise serializers.ValidationError({"non_field_errors": [_("The multipart body has no part.")]})
    return request.data


def _gate(user):
    if not services.may_read_tasks(user):
        raise PermissionDenied(_("Tasks are for volunteers and the units that publish them."))


@extend_schema(
    operation_id="v1_tasks_list",
    parameters=[TaskQuerySerializer, *PAGE_PARAMETERS],
    responses={200: paginated(TaskSerializer, "PaginatedTaskList"), 404: NOT_FOUND},
    methods=["GET"],
)
@extend_schema(
    operation_id="v1_tasks_create", request=TaskCreateSerializer, responses={201: TaskSerializer}, methods=["POST"]
)
@api_view(["GET", "POST"])
def tasks(request):
    """GET: the tasks the caller may see (a volunteer: those in reach of their teams, soonest
    first; the staff of a publishing unit: its tasks), `?open=` and `?region=`. POST: publish a
    task for the caller's unit."""
    _gate(request.user)
    if request.method == "POST":
        body = TaskCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        task = services.task_publish(actor=request.user, **body.validated_data)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)
    query = TaskQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    open_only = query.validated_data["open"] is not False
    rows = services.tasks_for(request.user, open_only=open_only)
    if query.validated_data.get("region"):
        rows = rows.filter(region__code__startswith=query.validated_data["region"])
    rows = rows.order_by("starts", "id") if open_only else rows.order_by("-starts", "-id")
    paginator = api_settings.DEFAULT_PAGINATION_CLASS()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(TaskSerializer(page, many=True).data)


def _signup_door(service, *, photo, doc, created=False):
    request_shape = PhotoSerializer if photo else None
    answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK

    @extend_schema(
        request=request_shape,
        parameters=[TASK_ID],
        responses={answer: SignupSerializer, 404: NOT_FOUND},
        description=doc,
    )
    @api_view(["POST"])
    def view(request, task):
        found = _task_for(request, task)
        extra = {}
        if photo:
            body = PhotoSerializer(data=_body(request))
            body.is_valid(raise_exception=True)
            extra["photo"] = body.validated_data["photo"]
        signup = service(task=found, actor=request.user, **extra)
        return Response(SignupSerializer(signup, context={"request": request}).data, status=answer)

    return view


task_signup = _signup_door(
    services.task_signup,
    photo=False,
    created=True,
    doc="A volunteer takes a place on the task; refused when it is full, closed, or taken already.",
)
task_withdraw = _signup_door(
    services.signup_withdraw, photo=False, doc="A volunteer gives their place back, before the task starts."
)
task_checkin = _signup_door(
    services.task_check_in,
    photo=True,
    doc="The volunteer checks in, from an hour before the start to the end, with an optional photo (multipart).",
)
task_checkout = _signup_door(
    services.task_check_out, photo=True, doc="The volunteer checks out after checking in, with an optional photo."
)


@extend_schema(
    request=TeamSignupSerializer,
    parameters=[TASK_ID],
    responses={201: SignupSerializer(many=True), 404: NOT_FOUND},
)
@api_view(["POST"])
def task_signup_team(request, task):
    """A team's leader or staff sign members of the team up together: each takes a place, or none
    does (400 naming `volunteers` when fewer places are left, or a member is not in the team or
    signed up already); 403 for someone who neither leads nor works for the team."""
    found = _task_for(request, task)
    body = TeamSignupSerializer(data=_body(request))
    body.is_valid(raise_exception=True)
    team = services.teams_signing_up_for(request.user).filter(unit__code=body.validated_data["team"]).first()
    if team is None:
        raise NotPermitted(_("Only the team's leader or its staff sign the team up."))
    signed = services.task_signup_team(
        task=found, team=team, volunteer_ids=body.validated_data["volunteers"], actor=request.user
    )
    rows = services.signups_of(found).filter(pk__in=[signup.pk for signup in signed])
    return Response(SignupSerializer(rows, many=True, context={"request": request}).data, status=201)


@extend_schema(
    request=ConfirmSerializer, parameters=[TASK_ID], responses={200: ConfirmedTaskSerializer, 404: NOT_FOUND}
)
@api_view(["POST"])
def task_confirm(request, task):
    """The publisher's staff confirm the work once, with the hours to credit per volunteer id
    (`{"hours": {"17": 2.5}}`; the default for one not named: their time on site to the half
    hour); the points are credited with it. A second confirmation is refused (400)."""
    found = _task_for(request, task)
    body = ConfirmSerializer(data=_body(request))
    body.is_valid(raise_exception=True)
    done = services.task_confirm(task=found, actor=request.user, hours=body.validated_data["hours"])
    done.signup_rows = list(services.signups_of(done))
    return Response(ConfirmedTaskSerializer(done, context={"request": request}).data)
