"""Fixtures of the integration doors: a district with boundaries, routing rules and integrating
systems with keys, built once per module in a transaction rolled back at its end (each test runs
in a savepoint of it, so what a test writes is gone for the next)."""

from dataclasses import dataclass

import pytest
from django.db import transaction

from tests.factories import Cast


@dataclass
class Systems:
    """The cast's district with generated boundaries and routing rules, and integrating systems.
    Each key is the key itself (as its system was told it once)."""

    cast: Cast
    system: object  # app311: an Open311 client on the online channel
    other: object  # another Open311 client
    key: str  # app311's key: create, read its own
    reader: str  # app311's key: read all public requests
    create_only: str  # app311's key: create, and read nothing
    revoked: str  # app311's key, revoked
    other_key: str  # the other client's key: create, read its own
    foreign: str  # the key of a system of another jurisdiction (210102, 和平区): create, read its own


def _build_systems():
    from cases.services import categories_load
    from feedback.models import FeedbackSettings
    from grids.boundaries import boundaries_generate
    from integrations.models import ApiKey
    from integrations.services import key_issue, key_revoke, system_ensure
    from tests.factories import make_cast, routing_setup

    cast = make_cast()
    categories_load()
    routing_setup(cast)
    FeedbackSettings.load()
    boundaries_generate()
    for place in (cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b, cast.grid_c):
        place.refresh_from_db()
    open311 = [ApiKey.Scope.CREATE, ApiKey.Scope.READ_OWN]
    system = system_ensure(name="app311", title="市民随手拍")
    other = system_ensure(name="other311", title="另一个应用")
    foreign = system_ensure(name="foreign311", title="和平区的应用")
    foreign.jurisdiction_id = "210102"
    foreign.save(update_fields=["jurisdiction_id"])
    revoked = key_issue(system=system, scopes=open311)[1]
    key_revoke(key=revoked)
    return Systems(
        cast=cast,
        system=system,
        other=other,
        key=key_issue(system=system, scopes=open311)[1],
        reader=key_issue(system=system, scopes=[ApiKey.Scope.READ_ALL])[1],
        create_only=key_issue(system=system, scopes=[ApiKey.Scope.CREATE])[1],
        revoked=revoked,
        other_key=key_issue(system=other, scopes=open311)[1],
        foreign=key_issue(system=foreign, scopes=open311)[1],
    )


@pytest.fixture(scope="module")
def systems(django_db_setup, django_db_blocker):
    """`Systems`, built once for the module (tests that use it also ask for `db`)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build_systems()
        transaction.set_rollback(True)
