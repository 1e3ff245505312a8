import pytest


@pytest.fixture
def mapped(cast):
    """The small world of `cast`, with boundaries generated inside the district's real outline."""
    from grids.boundaries import boundaries_generate

    boundaries_generate()
    for place in (cast.district, cast.street, cast.community, cast.grid_a, cast.grid_b, cast.grid_c):
        place.refresh_from_db()
    return cast
