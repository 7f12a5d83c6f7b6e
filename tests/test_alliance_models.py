import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alliance.models import Alliance, Membership, SchoolYear

from .factories import AllianceFactory, MembershipFactory, SchoolFactory


def test_second_lead_school_is_refused_with_a_message(alliance, other_school):
    # given an alliance that has its lead
    extra = Membership(alliance=alliance, school=other_school, role=Membership.Role.LEAD)
    # when it is validated
    with pytest.raises(ValidationError) as err:
        extra.full_clean()
    # then the message names the rule
    assert "role" in err.value.message_dict


def test_database_refuses_a_second_lead_school(alliance, other_school):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(alliance=alliance, school=other_school, role=Membership.Role.LEAD)


def test_school_in_two_alliances_of_one_kind_and_year_is_refused(alliance, school_year, member_school):
    second = AllianceFactory(school_year=school_year, kind=alliance.kind)
    with pytest.raises(ValidationError) as err:
        Membership(alliance=second, school=member_school).full_clean()
    assert "school" in err.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(alliance=second, school=member_school)


def test_school_may_join_alliances_of_other_kinds(alliance, school_year, member_school):
    group = AllianceFactory(school_year=school_year, kind=Alliance.Kind.GROUP)
    Membership(alliance=group, school=member_school).full_clean()


def test_school_from_another_county_is_refused(alliance, foreign_school):
    with pytest.raises(ValidationError) as err:
        Membership(alliance=alliance, school=foreign_school).full_clean()
    assert "school" in err.value.message_dict


def test_negative_headcount_is_refused(county):
    school = SchoolFactory.build(county=county, students=-1)
    with pytest.raises(ValidationError) as err:
        school.full_clean()
    assert "students" in err.value.message_dict


def test_school_year_must_end_after_it_starts(county):
    year = SchoolYear(county=county, start_year=2030, start_date=dt.date(2030, 9, 1), end_date=dt.date(2030, 8, 1))
    with pytest.raises(ValidationError) as err:
        year.full_clean()
    assert "end_date" in err.value.message_dict


def test_alliance_with_members_keeps_its_kind(alliance):
    alliance.kind = Alliance.Kind.GROUP
    with pytest.raises(ValidationError):
        alliance.full_clean()


def test_membership_copies_year_and_kind(alliance, member_school):
    m = Membership.objects.get(alliance=alliance, school=member_school)
    assert (m.school_year_id, m.kind) == (alliance.school_year_id, alliance.kind)
