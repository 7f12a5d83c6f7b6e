"""The evaluation services ask the access checkpoint who may act, and their error codes say
what happened (one code per reason)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from evaluation import services
from evaluation.models import EvaluationPeriod, Indicator

from .factories_evaluation import enter, indicator, make_rubric


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def codes(exc: ValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        return {e.code for errors in exc.error_dict.values() for e in errors}
    return {e.code for e in exc.error_list}


def quality(rubric):
    return Indicator.objects.get(dimension__rubric=rubric, code="quality")


def test_an_assessor_naming_a_school_of_another_county_hears_only_it_is_not_assigned(
    assessor, year_period, simple_rubric, foreign_school, other_school
):
    # given an assessor of county X; when she names a school of county Y, or an unassigned one
    for school in (foreign_school, other_school):
        with pytest.raises(ValidationError) as caught:
            services.indicator_value_set(
                actor=assessor, period=year_period, indicator=quality(simple_rubric), school=school, value=80
            )
        # then both get the same message and code, which says nothing about county Y
        assert caught.value.message_dict["school"] == ["This school is not among the schools assigned to you."]
        assert codes(caught.value) == {"not_assessor_of_school"}


def test_the_bureau_naming_a_school_of_another_county_gets_its_own_code(
    bureau_staff, year_period, simple_rubric, foreign_school
):
    with pytest.raises(ValidationError) as caught:
        services.indicator_value_set(
            actor=bureau_staff, period=year_period, indicator=quality(simple_rubric), school=foreign_school, value=80
        )
    assert codes(caught.value) == {"school_of_other_county"}


def test_other_roles_are_refused_by_the_checkpoint(principal, auditor, year_period, simple_rubric, member_school):
    for user in (principal, auditor):
        with pytest.raises(PermissionDenied):
            services.indicator_value_set(
                actor=user, period=year_period, indicator=quality(simple_rubric), school=member_school, value=80
            )


def test_a_computed_indicator_is_refused_as_computed(bureau_staff, school_year, alliance, member_school):
    structure = [
        {
            "code": "d",
            "name": "d",
            "indicators": [
                indicator("quality", 60),
                indicator("visits", 40, method="computed", metric="exchange_days_sent", params={"target": "10"}),
            ],
        }
    ]
    rubric = make_rubric(bureau_staff, school_year, structure)
    period = services.period_create(actor=bureau_staff, school_year=school_year)
    computed = Indicator.objects.get(dimension__rubric=rubric, code="visits")
    with pytest.raises(ValidationError) as caught:
        services.indicator_value_set(
            actor=bureau_staff, period=period, indicator=computed, school=member_school, value=1
        )
    assert codes(caught.value) == {"computed_indicator"}


def test_approving_before_proposing_says_propose_first(second_bureau_staff, year_period):
    with pytest.raises(ValidationError) as caught:
        services.publication_approve(actor=second_bureau_staff, period=year_period)
    assert codes(caught.value) == {"not_proposed"}


def test_correcting_an_unpublished_period_says_it_is_not_published(bureau_staff, year_period):
    with pytest.raises(ValidationError) as caught:
        services.correction_propose(actor=bureau_staff, period=year_period, reason="typo")
    assert codes(caught.value) == {"not_published"}


def test_queueing_every_county_is_the_administrators(bureau_staff, db):
    with pytest.raises(PermissionDenied):
        services.evaluation_queue(actor=bureau_staff)


def test_appeals_are_the_principals(bureau_staff, principal, year_period, simple_rubric, eval_schools):
    enter(bureau_staff, year_period, simple_rubric, eval_schools["a"], quality=50, care=50)
    period = services.publication_propose(actor=bureau_staff, period=year_period)
    assert period.status == EvaluationPeriod.Status.PROPOSED
    with pytest.raises(PermissionDenied):
        services.appeal_file(actor=bureau_staff, period=period, indicator=quality(simple_rubric), reason="x")
    appeal = services.appeal_file(actor=principal, period=period, indicator=quality(simple_rubric), reason="x")
    assert appeal.school_id == principal.school_id
    assert period.notice_ends_at > timezone.now() - dt.timedelta(days=1)
