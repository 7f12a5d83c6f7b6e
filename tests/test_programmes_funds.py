"""Programme funds (seed 002: 100,000 CNY working funds per helper school a year): held in the
helper county's funding year beside the 70/30 quotas, split by their own share, planned and
spent against, booked in the same ledger, and covered by ``ledger_check``."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from alliance import services as alliance_services
from alliance.access import Role
from alliance.models import Programme
from funding import bookcheck, services
from funding.errors import FundingError
from funding.models import Account, Category, LedgerEntry, ProgrammeFund, ProgrammeSpending

from .factories import SchoolFactory, SchoolYearFactory, UserFactory
from .factories_funding import FundingYearFactory

API = "/api/v1"
D = Decimal


@pytest.fixture
def pairing(programme_pairing):
    return programme_pairing


@pytest.fixture
def helper_year(other_county):
    """County Y's funding year: no 70/30 quotas, only programme funds."""
    year = SchoolYearFactory(county=other_county, start_year=2025)
    return FundingYearFactory(county=other_county, school_year=year)


@pytest.fixture
def helper_principal(other_county, foreign_school):
    return UserFactory(username="helper", county=other_county, school=foreign_school, role=Role.MEMBER_PRINCIPAL)


def fund_of(user, year, programme, school, amount="100000.00", share="1.00"):
    return services.programme_fund_create(
        actor=user, funding_year=year, programme=programme, helper_school=school, amount=D(amount), spend_share=D(share)
    )


def check(year):
    year.refresh_from_db()
    return bookcheck.check_year(year)


def balance(fund, kind):
    account = Account.objects.get(programme_fund=fund, kind=kind)
    return services.account_balance(account)


def test_a_programme_fund_is_booked_when_its_year_opens(other_bureau_staff, helper_year, programme, pairing):
    # given 100,000.00 for the helper school, all of it the school's to spend (100/0)
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    assert not LedgerEntry.objects.exists()
    # when the year opens (it has no quotas, only the programme fund)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    # then the fund is booked once, into accounts of its own
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == D("100000.00")
    assert balance(fund, Account.Kind.PROGRAMME_APPROPRIATION) == D("-100000.00")
    assert (
        not Account.objects.filter(programme_fund=fund, kind=Account.Kind.PROGRAMME_RESERVE)
        .exclude(lines__isnull=True)
        .exists()
    )
    assert check(helper_year) == []


def test_a_fund_added_to_an_open_year_is_booked_with_its_own_split(
    other_bureau_staff, helper_year, programme, pairing, other_county
):
    # given an open year and a second helper school
    fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    second = SchoolFactory(county=other_county, code="Y002")
    alliance_services.programme_pairing_create(
        actor=other_bureau_staff,
        programme=programme,
        helper_school=second,
        helped_school=pairing.helped_school,
        start_date=dt.date(2025, 9, 1),
    )
    # when its fund of 100,000.01 with a 70 % share is added
    fund = fund_of(other_bureau_staff, helper_year, programme, second, amount="100000.01", share="0.70")
    # then it is booked at once, split to the fen
    assert balance(fund, Account.Kind.PROGRAMME_FUND) + balance(fund, Account.Kind.PROGRAMME_RESERVE) == D("100000.01")
    assert balance(fund, Account.Kind.PROGRAMME_FUND) in (D("70000.01"), D("70000.00"))
    # and its amount is fixed from then on
    with pytest.raises(ValidationError) as err:
        services.programme_fund_update(actor=other_bureau_staff, fund=fund, amount=D("1.00"))
    assert err.value.code == FundingError.FUND_ALLOCATED
    assert check(helper_year) == []


def test_a_fund_sits_beside_the_county_quotas(bureau_staff, open_year, county, other_county, member_school):
    # given county X's open 70/30 year and a programme in which X helps Y
    programme = Programme.objects.create(
        name="示范县帮扶邻县", helper_county=county, helped_county=other_county, start_date=dt.date(2025, 9, 1)
    )
    helped = SchoolFactory(county=other_county, code="Y009")
    alliance_services.programme_pairing_create(
        actor=bureau_staff, programme=programme, helper_school=member_school, helped_school=helped,
        start_date=dt.date(2025, 9, 1),
    )  # fmt: skip
    # when a programme fund is added to X's open year
    fund = fund_of(bureau_staff, open_year, programme, member_school)
    # then both are in the same books and the check passes
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == D("100000.00")
    assert check(open_year) == []


def test_only_a_helper_school_of_the_programme_gets_a_fund(other_bureau_staff, helper_year, programme, other_county):
    stranger = SchoolFactory(county=other_county, code="Y003")
    with pytest.raises(ValidationError) as err:
        fund_of(other_bureau_staff, helper_year, programme, stranger)
    assert "helper_school" in err.value.message_dict


def test_the_helped_bureau_does_not_keep_the_helper_countys_books(bureau_staff, helper_year, programme, pairing):
    with pytest.raises(PermissionDenied):
        fund_of(bureau_staff, helper_year, programme, pairing.helper_school)


def test_plan_and_spend_against_a_programme_fund(
    other_bureau_staff, helper_principal, helper_year, programme, pairing, member_school
):
    # given an open year with the fund of 100,000.00
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    # when the helper school plans 60,000.00 for the helped school and spends 10,000.00 of it
    line = services.programme_line_create(
        actor=helper_principal,
        fund=fund,
        helped_school=member_school,
        category=Category.TRAINING,
        amount=D("60000.00"),
    )
    services.programme_spending_create(
        actor=helper_principal, line=line, date=dt.date(2025, 10, 15), amount=D("10000.00"), payee="龙山县教师进修学校"
    )
    # then the fund and the spending are booked, and the books check
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == D("90000.00")
    assert balance(fund, Account.Kind.PROGRAMME_SPENT) == D("10000.00")
    assert check(helper_year) == []
    call_command("ledger_check")
    # and the plan may not pass the fund, nor the spending its line
    with pytest.raises(ValidationError) as err:
        services.programme_line_create(actor=helper_principal, fund=fund, category=Category.CLUBS, amount=D("40000.01"))
    assert err.value.message_dict and "amount" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.programme_spending_create(
            actor=helper_principal, line=line, date=dt.date(2025, 10, 16), amount=D("50000.01"), payee="某公司"
        )


def test_a_plan_line_is_for_a_school_the_fund_helps(other_bureau_staff, helper_year, programme, pairing, other_school):
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    with pytest.raises(ValidationError) as err:
        services.programme_line_create(
            actor=other_bureau_staff, fund=fund, helped_school=other_school, category=Category.CLUBS, amount=D("1.00")
        )
    assert "helped_school" in err.value.message_dict


def test_year_close_returns_the_unspent_programme_fund(other_bureau_staff, helper_year, programme, pairing):
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school, share="0.50")
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    services.funding_year_close(actor=other_bureau_staff, funding_year=helper_year)
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == 0
    assert balance(fund, Account.Kind.PROGRAMME_RETURNED) == D("50000.00")
    assert check(helper_year) == []


def test_ledger_check_finds_an_unbooked_programme_fund(other_bureau_staff, helper_year, programme, pairing):
    # given an open year whose fund was slipped in without its booking
    fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    ProgrammeFund.objects.create(
        funding_year=helper_year,
        programme=Programme.objects.create(
            name="另一个", helper_county=programme.helper_county, helped_county=programme.helped_county,
            start_date=dt.date(2025, 9, 1),
        ),
        helper_school=pairing.helper_school,
        amount=D("5.00"),
    )  # fmt: skip
    problems = check(helper_year)
    assert [p.rule for p in problems] == [bookcheck.Rule.PROGRAMME_ALLOCATION]


def test_a_reversed_programme_spending_frees_its_line_and_the_books_balance(
    other_bureau_staff, helper_principal, helper_year, programme, pairing, member_school, api_as
):
    # given an open year whose fund's 60,000.00 line is spent in full
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    line = services.programme_line_create(
        actor=helper_principal, fund=fund, helped_school=member_school, category=Category.TRAINING, amount=D("60000.00")
    )
    spending = services.programme_spending_create(
        actor=helper_principal, line=line, date=dt.date(2025, 10, 15), amount=D("60000.00"), payee="龙山县教师进修学校"
    )
    entry = LedgerEntry.objects.get(programme_spending=spending)
    with pytest.raises(ValidationError):
        services.programme_spending_create(
            actor=helper_principal, line=line, date=dt.date(2025, 10, 16), amount=D("0.01"), payee="某公司"
        )
    assert reversed_flags(api_as(helper_principal), line) == {spending.pk: False}
    # when the helper county's bureau reverses the spending through the API, with a reason
    r = api_as(other_bureau_staff).post(
        f"{API}/ledger-entries/{entry.pk}/reverse/", {"reason": "重复录入"}, format="json"
    )
    # then the mirror entry is booked, the fund holds its 100,000.00 again and the books check
    assert (r.status_code, r.data["kind"], r.data["reverses"]) == (201, "reversal", entry.pk)
    reversal = LedgerEntry.objects.get(pk=r.data["id"])
    assert reversal.programme_fund == fund
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == D("100000.00")
    assert balance(fund, Account.Kind.PROGRAMME_SPENT) == 0
    assert services.programme_spent_on(line) == 0
    assert check(helper_year) == []
    # and the spending's API says it was reversed (list and row, for the school and the bureau)
    assert reversed_flags(api_as(helper_principal), line) == {spending.pk: True}
    assert reversed_flags(api_as(other_bureau_staff), line) == {spending.pk: True}
    assert api_as(helper_principal).get(f"{API}/programme-spending/{spending.pk}/").data["reversed"] is True
    # and the line is free: the plan's API says nothing is spent, and 60,000.00 may be spent again
    lines = api_as(helper_principal).get(f"{API}/programme-fund-lines/", {"fund": fund.pk}).data
    rows = lines["results"] if isinstance(lines, dict) else lines
    assert [row["spent"] for row in rows] == ["0.00"]
    r = api_as(helper_principal).post(
        f"{API}/programme-spending/",
        {"line": line.pk, "date": "2025-10-20", "amount": "60000.00", "payee": "龙山县教师进修学校"},
        format="json",
    )
    assert (r.status_code, r.data["reversed"]) == (201, False)
    assert reversed_flags(api_as(helper_principal), line) == {spending.pk: True, r.data["id"]: False}
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == D("40000.00")
    assert check(helper_year) == []
    call_command("ledger_check")
    # and an entry is reversed once only
    with pytest.raises(ValidationError) as err:
        services.entry_reverse(entry=entry, actor=other_bureau_staff, reason="再次")
    assert err.value.code == FundingError.ALREADY_REVERSED


def reversed_flags(api, line):
    r = api.get(f"{API}/programme-spending/", {"line": line.pk})
    assert r.status_code == 200
    rows = r.data["results"] if isinstance(r.data, dict) else r.data
    return {row["id"]: row["reversed"] for row in rows}


def test_the_schema_documents_the_programme_spendings_reversed_flag(bureau_staff, client):
    # the OpenAPI schema names the flag, read-only, as it does the spending records'
    client.force_login(bureau_staff)
    schemas = client.get("/api/schema/?format=json", HTTP_ACCEPT_LANGUAGE="en").json()["components"]["schemas"]
    for name in ("ProgrammeSpending", "SpendingRecord"):
        flag = schemas[name]["properties"]["reversed"]
        assert (flag["type"], flag["readOnly"]) == ("boolean", True), name
        assert "reversed" in flag["description"], name
        assert "reversed" in schemas[name]["required"]


def test_the_helped_bureau_does_not_reverse_the_helper_countys_programme_spending(
    bureau_staff, other_bureau_staff, helper_principal, helper_year, programme, pairing
):
    # given a programme spending in the helper county's books
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    line = services.programme_line_create(actor=helper_principal, fund=fund, category=Category.CLUBS, amount=D("10.00"))
    spending = services.programme_spending_create(
        actor=helper_principal, line=line, date=dt.date(2025, 10, 15), amount=D("10.00"), payee="某公司"
    )
    entry = LedgerEntry.objects.get(programme_spending=spending)
    # when the helped county's bureau or the helper school tries to reverse it, then it is refused
    for actor in (bureau_staff, helper_principal):
        with pytest.raises(PermissionDenied):
            services.entry_reverse(entry=entry, actor=actor, reason="不对")
    assert not LedgerEntry.objects.filter(reverses=entry).exists()


def test_ledger_check_finds_reversed_programme_spending_over_its_line(
    other_bureau_staff, helper_principal, helper_year, programme, pairing
):
    # given a line of 10.00 spent in full, the spending reversed, and 10.00 spent again
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    line = services.programme_line_create(actor=helper_principal, fund=fund, category=Category.CLUBS, amount=D("10.00"))
    first = services.programme_spending_create(
        actor=helper_principal, line=line, date=dt.date(2025, 10, 15), amount=D("10.00"), payee="某公司"
    )
    services.entry_reverse(
        entry=LedgerEntry.objects.get(programme_spending=first), actor=other_bureau_staff, reason="重复"
    )
    services.programme_spending_create(
        actor=helper_principal, line=line, date=dt.date(2025, 10, 16), amount=D("10.00"), payee="某公司"
    )
    # then the reversed spending does not count against the line
    assert check(helper_year) == []
    # but a standing spending slipped in past the line does
    ProgrammeSpending.objects.create(
        line=line, date=dt.date(2025, 10, 17), amount=D("1.00"), payee="x", recorded_by=helper_principal
    )
    rules = {p.rule for p in check(helper_year)}
    assert bookcheck.Rule.PROGRAMME_SPENDING_WITHIN_LINE in rules


def test_a_programme_spending_is_reversed_after_its_year_closed(
    other_bureau_staff, helper_principal, helper_year, programme, pairing
):
    # given a spending of 10.00 in a year since closed (the unspent rest returned)
    fund = fund_of(other_bureau_staff, helper_year, programme, pairing.helper_school)
    services.funding_year_open(actor=other_bureau_staff, funding_year=helper_year)
    line = services.programme_line_create(actor=helper_principal, fund=fund, category=Category.CLUBS, amount=D("10.00"))
    spending = services.programme_spending_create(
        actor=helper_principal, line=line, date=dt.date(2025, 10, 15), amount=D("10.00"), payee="某公司"
    )
    services.funding_year_close(actor=other_bureau_staff, funding_year=helper_year)
    # when the bureau reverses it (the one change a closed year accepts)
    services.entry_reverse(
        entry=LedgerEntry.objects.get(programme_spending=spending), actor=other_bureau_staff, reason="票据作废"
    )
    # then the 10.00 is back in the fund, nothing is spent, and the books check
    assert balance(fund, Account.Kind.PROGRAMME_SPENT) == 0
    assert balance(fund, Account.Kind.PROGRAMME_FUND) == D("10.00")
    assert check(helper_year) == []
