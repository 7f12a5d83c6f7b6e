"""Named users and a small county shared by the tests.

County X has two alliances: A1 led by ``lead_school`` with ``member_school`` ("school A"
for member-principal tests), and A2 led by ``other_lead_school`` with ``other_school``
("school B"). County Y is another county with its own bureau.
"""

import pytest
from rest_framework.test import APIClient

from alliance.access import Role

from .factories import CountyFactory, SchoolFactory, SchoolYearFactory, UserFactory, make_alliance

# Each app keeps its own fixtures in its own module.
pytest_plugins = [
    "tests.fixtures_staffing",
    "tests.fixtures_funding",
    "tests.fixtures_evaluation",
    "tests.fixtures_programmes",  # a cross-county programme (seed 002)
    "tests.fixtures_matrix",  # the permission matrix's world, built once per module
    "tests.fixtures_portal",
    "tests.fixtures_demo",  # the demo loaded once per module (load_demo)
    "tests.fixtures_browser",  # Debian's chromium through Playwright, once per module
]


@pytest.fixture
def county(db):
    return CountyFactory(code="330100", name="示范县")


@pytest.fixture
def other_county(db):
    return CountyFactory(code="330200", name="邻县")


@pytest.fixture
def school_year(county):
    return SchoolYearFactory(county=county, start_year=2025)


@pytest.fixture
def lead_school(county):
    return SchoolFactory(county=county, code="L001", name="实验小学", location="urban", strength="strong")


@pytest.fixture
def member_school(county):
    return SchoolFactory(county=county, code="M001", name="东山小学")


@pytest.fixture
def other_lead_school(county):
    return SchoolFactory(county=county, code="L002", name="城南小学", location="urban", strength="strong")


@pytest.fixture
def other_school(county):
    return SchoolFactory(county=county, code="M002", name="西岭小学")


@pytest.fixture
def foreign_school(other_county):
    return SchoolFactory(county=other_county, code="Y001", name="邻县小学")


@pytest.fixture
def alliance(school_year, lead_school, member_school):
    return make_alliance(school_year.county, lead_school, [member_school], school_year=school_year, name="实验校联体")


@pytest.fixture
def other_alliance(school_year, other_lead_school, other_school):
    return make_alliance(
        school_year.county, other_lead_school, [other_school], school_year=school_year, name="城南校联体"
    )


@pytest.fixture
def bureau_staff(county):
    return UserFactory(username="bureau", county=county, role=Role.BUREAU)


@pytest.fixture
def second_bureau_staff(county):
    return UserFactory(username="bureau2", county=county, role=Role.BUREAU)


@pytest.fixture
def other_bureau_staff(other_county):
    return UserFactory(username="bureau_y", county=other_county, role=Role.BUREAU)


@pytest.fixture
def lead_principal(county, lead_school, alliance):
    return UserFactory(username="lead", county=county, school=lead_school, role=Role.LEAD_PRINCIPAL)


@pytest.fixture
def principal(county, member_school, alliance):
    """The member principal of school A."""
    return UserFactory(username="principal", county=county, school=member_school, role=Role.MEMBER_PRINCIPAL)


@pytest.fixture
def other_school_principal(county, other_school, other_alliance):
    """The member principal of school B."""
    return UserFactory(username="principal_b", county=county, school=other_school, role=Role.MEMBER_PRINCIPAL)


@pytest.fixture
def assessor(county, member_school):
    user = UserFactory(username="assessor", county=county, role=Role.ASSESSOR)
    user.assessed_schools.add(member_school)
    return user


@pytest.fixture
def auditor(county):
    return UserFactory(username="auditor", county=county, role=Role.AUDITOR)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login
