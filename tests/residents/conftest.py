import pytest
from django.db import transaction


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The cast's small world with the seeded categories, the routing rules and generated
    boundaries, built once per module in a transaction rolled back at its end (each test runs in
    a savepoint inside it)."""
    from cases.services import categories_load
    from grids.boundaries import boundaries_generate
    from tests.factories import make_cast, routing_setup

    with django_db_blocker.unblock(), transaction.atomic():
        cast = make_cast()
        categories_load()
        routing_setup(cast)
        boundaries_generate()
        for place in (cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b, cast.grid_c):
            place.refresh_from_db()
        yield cast
        transaction.set_rollback(True)
