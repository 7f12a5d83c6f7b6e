"""A cross-county programme (seed 002) for the programme tests: county Y (``other_county``)
helps county X (``county``); ``foreign_school`` (Y) helps ``member_school`` (X)."""

import datetime as dt

import pytest

from alliance import services
from alliance.models import Programme


@pytest.fixture
def programme(county, other_county):
    return Programme.objects.create(
        name="邻县帮扶示范县", helper_county=other_county, helped_county=county, start_date=dt.date(2025, 9, 1)
    )


@pytest.fixture
def programme_pairing(programme, other_bureau_staff, foreign_school, member_school):
    """The programme's pairing, made by the helper county's bureau through the service."""
    return services.programme_pairing_create(
        actor=other_bureau_staff,
        programme=programme,
        helper_school=foreign_school,
        helped_school=member_school,
        start_date=dt.date(2025, 9, 1),
    )
