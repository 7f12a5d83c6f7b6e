"""Which periods pay: a year's 30 % pool is paid once, by the periods its award policy names,
each at most its share (default: the school-year period pays it all, terms pay nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone, translation

from alliance.models import Term
from evaluation import services
from evaluation.awards import period_pools
from evaluation.models import AwardPolicy, EvaluationPeriod, SchoolResult
from funding import services as funding_services
from funding.models import Account, LedgerLine

from .factories_evaluation import enter

pytestmark = pytest.mark.django_db

POOL = D("240000.00")  # open_year's pool


@pytest.fixture
def term1(school_year):
    return Term.objects.create(
        school_year=school_year, number=1, start_date=dt.date(2025, 9, 1), end_date=dt.date(2026, 1, 20)
    )


@pytest.fixture
def periods(bureau_staff, school_year, simple_rubric, alliance, other_alliance, term1, eval_schools):
    """The first term's period and the school year's, with the same values entered in both."""
    term = services.period_create(actor=bureau_staff, school_year=school_year, term=term1)
    year = services.period_create(actor=bureau_staff, school_year=school_year)
    for period in (term, year):
        for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
            enter(bureau_staff, period, simple_rubric, eval_schools[key], quality=q, care=c)
    return term, year


def publish(period, bureau_staff, second_bureau_staff):
    period = services.publication_propose(actor=bureau_staff, period=period)
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    period.refresh_from_db()
    return services.publication_approve(actor=second_bureau_staff, period=period)


def paid(funding_year) -> D:
    lines = LedgerLine.objects.filter(entry__funding_year=funding_year, account__kind=Account.Kind.AWARDS_PAID)
    return lines.aggregate(total=Sum("amount"))["total"] or D("0.00")


def awards_of(period) -> D:
    return SchoolResult.objects.filter(period=period).aggregate(total=Sum("award"))["total"] or D("0.00")


def test_by_default_the_term_pays_nothing_and_the_year_pays_the_pool_once(
    periods, open_year, bureau_staff, second_bureau_staff
):
    # given a term period and the year period of one school year, no award policy
    term, year = periods
    # when the term is published, then the year
    publish(term, bureau_staff, second_bureau_staff)
    publish(year, bureau_staff, second_bureau_staff)
    # then the term scored but paid nothing, the year paid the whole pool, and the pool never went below zero
    assert SchoolResult.objects.filter(period=term).count() == 4
    assert awards_of(term) == D("0.00")
    assert awards_of(year) == POOL
    assert paid(open_year) == POOL


def test_a_policy_of_thirty_percent_for_the_term_and_seventy_for_the_year_pays_exactly_the_pool(
    periods, open_year, bureau_staff, second_bureau_staff, county, school_year
):
    # given a policy naming term 1 (30 %) and the year (70 %)
    term, year = periods
    services.award_policy_create(
        actor=bureau_staff, county=county, school_year=school_year, period_shares={"term1": "0.30", "year": "0.70"}
    )
    # when both are published, the term first
    publish(term, bureau_staff, second_bureau_staff)
    publish(year, bureau_staff, second_bureau_staff)
    # then each paid its share and together exactly the pool
    assert awards_of(term) == D("72000.00")
    assert awards_of(year) == D("168000.00")
    assert paid(open_year) == POOL


def test_period_pools_add_up_to_at_most_the_pool_to_the_fen():
    # a pool that does not divide evenly: the shares are one largest-remainder split
    pools = period_pools(D("1000.01"), {"term1": D("0.3"), "term2": D("0.3"), "year": D("0.4")})
    assert sum(pools.values()) == D("1000.01")
    pools = period_pools(D("1000.01"), {"term1": D("0.333"), "year": D("0.333")})
    assert sum(pools.values()) <= D("1000.01")
    assert pools["term1"] == pools["year"]


@pytest.mark.parametrize(
    "shares",
    [{"term1": "0.5", "year": "0.6"}, {"year": "1.2"}, {"term3": "0.1"}, {"year": "-0.1"}],
    ids=["over-one", "share-over-one", "unknown-period", "negative"],
)
def test_a_policy_whose_shares_could_pay_more_than_the_pool_is_refused(bureau_staff, county, school_year, shares):
    with pytest.raises(ValidationError) as caught:
        services.award_policy_create(actor=bureau_staff, county=county, school_year=school_year, period_shares=shares)
    assert "period_shares" in caught.value.message_dict
    assert not AwardPolicy.objects.filter(county=county).exists()


def test_publishing_a_period_that_would_overdraw_the_pool_is_refused_before_the_notice_with_the_figures(
    periods, open_year, bureau_staff, second_bureau_staff, lead_school
):
    # given 100,000.00 of the pool already paid out (e.g. a term published before periods had shares)
    _term, year = periods
    funding_services.awards_book(
        funding_year=open_year, awards={lead_school.pk: D("100000.00")}, actor=bureau_staff, memo="earlier"
    )
    # when the bureau proposes the year period, whose awards are the whole pool
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        services.publication_propose(actor=bureau_staff, period=year)
    # then it is refused in Chinese with the pool, what was paid and the period's awards
    message = caught.value.messages[0]
    assert "¥240,000.00" in message and "¥100,000.00" in message, message
    assert "超" in message or "透支" in message, message
    assert caught.value.error_list[0].code == "over_pool"
    # and the notice did not start
    year.refresh_from_db()
    assert year.status == EvaluationPeriod.Status.OPEN and year.notice_ends_at is None
    assert paid(open_year) == D("100000.00")


def test_the_approval_checks_the_pool_again(periods, open_year, bureau_staff, second_bureau_staff, lead_school):
    # given the year period under notice, then part of the pool paid by other means
    _term, year = periods
    year = services.publication_propose(actor=bureau_staff, period=year)
    EvaluationPeriod.objects.filter(pk=year.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    funding_services.awards_book(
        funding_year=open_year, awards={lead_school.pk: D("0.01")}, actor=bureau_staff, memo="earlier"
    )
    # when the second bureau user approves, it is refused and nothing more is booked
    with pytest.raises(ValidationError, match=r"240,000\.00"):
        services.publication_approve(actor=second_bureau_staff, period=year)
    assert paid(open_year) == D("0.01")
