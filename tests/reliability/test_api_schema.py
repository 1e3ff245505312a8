"""The API answers as its OpenAPI schema says.

schemathesis reads `/api/schema/` as an integrator would, then sends every operation generated
requests, valid and invalid, in-process through the WSGI application (no server), as two roles:
the dispatcher (the whole district, and the one who dispatches, closes and calls back) and the
community clerk (one committee's queue and area). Every answer is checked: no 5xx, a status code
the operation documents, the documented content type and headers, a body that matches the schema.

The run is bounded and reproducible: a fixed number of requests per operation, generated
derandomized (the same requests on every run and machine), on a stopped clock, each sent as both
roles. The case numbers and codes in paths are mostly ones that exist, in every state, so the
actions reach the services instead of answering 404.

One world and one read of the schema serve both roles, and each request is generated once and sent
as each of them: generating a request costs about as much as answering it, and the generator,
seeded from the test, drew the same requests for both roles anyway when each had its own run.
"""

import functools
from datetime import timedelta

import hypothesis
import pytest
import schemathesis
import time_machine
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import strategies as st
from schemathesis import GenerationMode

from accounts.services import DEMO_PASSWORD
from feedback.services import case_close_invalid
from mediation.models import Council, CouncilMember, Mediator, Point
from mediation.services import mediation_open
from tests.factories import make_cast, open_case, routing_setup
from tests.feedback.helpers import resolved_case
from tests.handling.helpers import TUESDAY, dispatched_case, signed_case
from volunteers.tasks import task_publish

pytestmark = pytest.mark.django_db

# Generated requests per operation, each sent as both roles: ~73 operations × 10 × 2, about 1,300
# requests in all (GETs drawn twice are sent once).
EXAMPLES = 10
ROLES = ("dispatcher", "community_clerk")
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    # The random source seeded (SEED below): the same requests on every run and machine, none
    # replayed from an earlier run's example database.
    derandomize=True,
    database=None,
    deadline=None,
    # Hypothesis' warnings about slow or filtered generation are about the generator, not the API.
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
)
# The random source's seed. Derandomized, Hypothesis seeds from the test function's source, so any
# edit to it would send other requests; this is the seed it had when each role had its own run,
# and the requests are the ones sent then.
SEED = 0xA53A302B98ADE709D60E7BE81603A602FF90B81CA94F91BD51181B818542C1EBFCF17F24A6E9DAC4708EA76F6D896DB8

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
        # Values for generated strings found by importing the project's modules: slow, and not
        # needed to reach the code behind the real numbers and codes given below.
        "analysis": {"constants": {"enabled": False}},
    }
)


@pytest.fixture
def world(categories, settings, tmp_path):
    """The cast's world with its routing rules, on a stopped clock, with cases in every state."""
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(TUESDAY, tick=False):
        cast = make_cast()
        routing_setup(cast)
        rubbish = {"category_code": "0201"}
        cast.cases = [
            open_case(cast, category_code="0103"),  # registered: waiting for a dispatcher
            dispatched_case(cast, **rubbish),  # at 金山社区's committee, to sign for
            signed_case(cast, **rubbish),  # in progress
            resolved_case(cast, **rubbish),  # waiting for the callback
            case_close_invalid(case=open_case(cast), actor=cast.dispatcher, reason="invalid", note="骚扰电话"),
            dispatched_case(cast, grid=cast.grid_c, **rubbish),  # outside the community clerk's area
        ]
        # A volunteer task the community clerk published (任务发布), tomorrow.
        cast.task = task_publish(
            actor=cast.community_clerk,
            title="清理楼道杂物",
            region=cast.community,
            starts=TUESDAY + timedelta(days=1),
            ends=TUESDAY + timedelta(days=1, hours=3),
            wanted=2,
        )
        # 议事会: 金山社区's council, hosted by the community clerk's committee, with two members.
        cast.council = Council.objects.create(
            name="金山社区居民议事会", kind=Council.Kind.RESIDENTS, region=cast.community, unit=cast.committee
        )
        for name in ("甲", "乙"):
            CouncilMember.objects.create(council=cast.council, name=name, role="resident")
        # 评理说事: 金山社区's point, hosted by the community clerk's committee, a walk-in there.
        point = Point.objects.create(
            code="P210111001015",
            name="金山社区评理说事点",
            level="community",
            region=cast.community,
            unit=cast.committee,
            kinds=["family", "public", "farming"],
        )
        Mediator.objects.create(point=point, name="孙大爷", role="elder")
        cast.mediation = mediation_open(
            actor=cast.community_clerk,
            point=point,
            kind="farming",
            facts="地界纠纷",
            parties=[{"name": "王大山", "phone": "13812345678"}, {"name": "刘二柱"}],
        )
        yield cast


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI application, as gunicorn runs it, on the test's database connection.

    Django closes the connection as each request starts and ends (`close_old_connections`), which
    would end the test's transaction; its test client stops that for each request, this fixture
    for the whole test."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the host schemathesis sends
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def requests_for(operation, *, token, known):
    """Requests for `operation` with a token (each role's replaces it as the request is sent), two
    valid for one invalid. A parameter that names a case, a place, a unit or a category (in the
    path or the query) is mostly an existing one from `known`, and otherwise generated: mostly
    unknown, answering 404 or 400."""
    # The maps' shapes are gzipped for a client that accepts it; the in-process transport would
    # hand the checks the compressed bytes.
    headers = {"Authorization": f"Token {token}", "Accept-Encoding": "identity"}

    @functools.cache
    def generated(mode, path, query):
        return operation.as_strategy(
            mode, headers=headers, path_parameters=dict(path) or None, query=dict(query) or None
        )

    def existing(parameters):
        """(name, value) pairs for `parameters`, without those left to the generator (None)."""
        pairs = []
        for parameter in parameters:
            # `{code}` is a region's, a unit's or a category's, as the path says.
            key = operation.path.split("/")[3] if parameter.name == "code" else parameter.name
            if key in known:
                pairs.append(st.tuples(st.just(parameter.name), st.sampled_from([*known[key], None])))
        return st.tuples(*pairs).map(lambda chosen: tuple((name, value) for name, value in chosen if value))

    modes = st.sampled_from([GenerationMode.POSITIVE, GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return st.tuples(modes, existing(operation.path_parameters), existing(operation.query)).flatmap(
        lambda chosen: generated(*chosen)
    )


def answers_as_documented(operation, *, tokens, known):
    """Generated requests for `operation`, each sent as every role in `tokens` and its answer
    checked. The generator draws the same GET again now and then (a tenth of them): the same input
    in the same state takes the same path, so it is sent once."""
    answered = set()

    @SETTINGS
    @hypothesis.seed(SEED)
    @hypothesis.given(case=requests_for(operation, token=next(iter(tokens.values())), known=known))
    def answers(case):
        request = repr((case.formatted_path, case.query, dict(case.headers), case.body))
        if case.method.upper() == "GET" and request in answered:
            return
        for role, token in tokens.items():
            try:
                case.call_and_validate(headers={"Authorization": f"Token {token}"})
            # A failed check is a BaseExceptionGroup; the report names no token, hence the role.
            except (Exception, BaseExceptionGroup) as error:
                raise AssertionError(f"{operation.label} as the {role}") from error
        answered.add(request)

    answers()


def test_every_answer_matches_the_schema(world, wsgi_app, subtests):
    known = {
        "number": [case.number for case in world.cases],
        "task": [str(world.task.pk)],
        "council": [str(world.council.pk)],
        "mediation": [str(world.mediation.pk)],
        "party": [str(pk) for pk in world.mediation.parties.values_list("pk", flat=True)],
        "regions": [world.district.code, world.community.code, world.grid_a.code, world.grid_c.code],
        "units": [world.committee.code, world.department.code, world.other_committee.code],
        "categories": ["02", "0201", "0101"],
        # Query parameters: filters, the routing preview, the dashboards.
        "category": ["0201", "0103", "0101"],
        "grid": [world.grid_a.code, world.grid_c.code],
        "region": [world.community.code, world.grid_a.code, world.other_street.code],
        "unit": [world.committee.code, world.department.code],
    }

    with time_machine.travel(TUESDAY, tick=False):
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, config=CONFIG)
        tokens = {}
        for role in ROLES:
            # Signing in as an integrator does, its answer checked like every other.
            user = getattr(world, role)
            credentials = {"username": user.username, "password": DEMO_PASSWORD}
            answer = schema["/api/v1/auth/token/"]["POST"].Case(body=credentials, media_type="application/json")
            tokens[role] = answer.call_and_validate().json()["token"]
            # What generated bodies rarely reach (an existing category and grid): a call registered,
            # then its retry answered from the first (with the `Idempotent-Replayed` header).
            call = {
                "channel": "hotline",
                "caller_name": "张三",
                "caller_phone": "13800138000",
                "description": "楼道里堆满杂物",
                "category": "0201",
                "grid": world.grid_a.code,
            }
            headers = {"Authorization": f"Token {tokens[role]}", "Idempotency-Key": f"schema-{role}"}
            for _attempt in range(2):
                register = schema["/api/v1/calls/"]["POST"].Case(
                    body=call, media_type="application/json", headers=headers
                )
                assert register.call_and_validate().status_code == 201
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30
        for operation in operations:
            with subtests.test(operation.label):
                answers_as_documented(operation, tokens=tokens, known=known)
