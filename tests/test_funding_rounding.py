"""Property tests: the split and the allocation add up to the whole, to the fen."""

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.access import Role
from funding import services
from funding.models import Account, FundingQuota, FundingYear, LedgerLine
from funding.rounding import from_fen, split, to_fen

from .factories import CountyFactory, SchoolFactory, SchoolYearFactory, UserFactory, make_alliance
from .factories_funding import FundingYearFactory

fen_amounts = st.integers(min_value=-(10**12), max_value=10**12).map(from_fen)
# Integer weights and four-place fractions; some may be zero, never all of them.
weight = st.one_of(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**4).map(lambda n: Decimal(n).scaleb(-4)),
)
positive_weight = st.one_of(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=10**4).map(lambda n: Decimal(n).scaleb(-4)),
)


@st.composite
def weights(draw: st.DrawFn) -> list:
    """One to twelve weights: up to eleven of any kind with one positive weight put among them."""
    ws = draw(st.lists(weight, max_size=11))
    ws.insert(draw(st.integers(min_value=0, max_value=len(ws))), draw(positive_weight))
    return ws


@given(total=fen_amounts, ws=weights())
def test_split_parts_add_up_to_the_whole_to_the_fen(total, ws):
    parts = split(total, ws)
    assert sum(parts, Decimal(0)) == total
    assert len(parts) == len(ws)
    assert all(p == p.quantize(Decimal("0.01")) for p in parts)
    # each part is within one fen of its exact share, and zero weight gets nothing
    weight_sum = sum(Decimal(w) for w in ws)
    for part, w in zip(parts, ws, strict=True):
        exact = total * Decimal(w) / weight_sum
        assert abs(part - exact) < Decimal("0.01")
        if w == 0:
            assert part == 0


@given(total=fen_amounts)
def test_split_is_deterministic_and_ties_go_to_earlier_parts(total):
    assert split(total, [1, 1, 1]) == split(total, [1, 1, 1])
    parts = split(abs(total), [1, 1, 1])
    assert parts == sorted(parts, reverse=True)


def test_split_refuses_sub_fen_totals_and_bad_weights():
    with pytest.raises(ValueError):
        split(Decimal("0.001"), [1])
    with pytest.raises(ValueError):
        split(Decimal("1.00"), [0, 0])
    with pytest.raises(ValueError):
        split(Decimal("1.00"), [-1, 2])
    with pytest.raises(TypeError):
        to_fen(1.0)


lead_shares = st.integers(min_value=0, max_value=10000).map(lambda n: Decimal(n).scaleb(-4))
quota_sets = st.lists(st.integers(min_value=1, max_value=10**9).map(from_fen), min_size=1, max_size=8)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None)
@given(quotas=quota_sets, lead=lead_shares, alliance_count=st.integers(min_value=1, max_value=3))
def test_allocation_sides_add_up_to_the_quotas(quotas, lead, alliance_count):
    # given random quotas for a random set of schools spread over a few alliances (each example
    # builds its own county and rolls it back: no function-scoped fixture is shared between them)
    with transaction.atomic():
        sid = transaction.savepoint()
        county = CountyFactory()
        bureau_staff = UserFactory(county=county, role=Role.BUREAU)
        school_year = SchoolYearFactory(county=county, start_year=2025)
        schools = [SchoolFactory(county=school_year.county) for _ in quotas]
        groups = [schools[i::alliance_count] for i in range(alliance_count)]
        for group in groups:
            if group:
                make_alliance(school_year.county, group[0], group[1:], school_year=school_year)
        year = FundingYearFactory(school_year=school_year, lead_share=lead, pool_share=1 - lead)
        for school, quota in zip(schools, quotas, strict=True):
            FundingQuota.objects.create(funding_year=year, school=school, quota=quota)
        # when the year opens
        services.funding_year_open(actor=bureau_staff, funding_year=year)
        # then per school and in total the 70 % and 30 % sides add up to the quotas to the fen
        for school, quota in zip(schools, quotas, strict=True):
            sides = dict(
                LedgerLine.objects.filter(entry__school=school, entry__funding_year=year)
                .exclude(account__kind=Account.Kind.APPROPRIATION)
                .values_list("account__kind", "amount")
            )
            lead_part, pool_part = split(quota, [lead, 1 - lead])
            assert sides.get("alliance_fund", Decimal(0)) == lead_part
            assert sides.get("pool", Decimal(0)) == pool_part
            assert lead_part + pool_part == quota
        balances = {a.kind: a.balance for a in Account.objects.filter(funding_year=year, alliance=None).with_balance()}
        funds = sum(a.balance for a in Account.objects.filter(funding_year=year, kind="alliance_fund").with_balance())
        assert funds + balances.get("pool", Decimal(0)) == sum(quotas, Decimal(0)) == -balances["appropriation"]
        assert FundingYear.objects.get(pk=year.pk).status == "open"
        transaction.savepoint_rollback(sid)
