"""The demo's counties (issue 15): the Hengnan county, a Baihe-shaped county of 58 schools in 9
communities with a published school year, a Hetang-like district with supervision, and a
Tianxin-like district with trusteeships (its own tests: test_demo_tianxin.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count, Q

from alliance.access import Role, role_of
from alliance.models import Alliance, County, Membership, School, SchoolYear, User
from demo import baihe_part, data, hetang_part, programme_part, tianxin_part
from demo.core import all_logins
from evaluation.export import award_sheet_rows
from evaluation.models import DeclineWarning, EvaluationPeriod, Publication, SchoolResult
from funding.models import Account, FundingQuota, LedgerLine

pytestmark = pytest.mark.django_db

# The day issue 15 asked for a demo school year covering "today".
ISSUE_DAY = dt.date(2026, 12, 2)


@pytest.fixture
def baihe(loaded_once, db):
    return County.objects.get(code=baihe_part.CODE)


@pytest.fixture
def hetang(loaded_once, db):
    return County.objects.get(code=hetang_part.CODE)


def year_period(county) -> EvaluationPeriod:
    return EvaluationPeriod.objects.get(county=county, kind=EvaluationPeriod.Kind.YEAR, school_year__start_year=2025)


def test_a_second_load_changes_nothing_in_any_county(loaded_once, db):
    # given the four counties loaded once
    before = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    # when the demo is loaded again
    out = StringIO()
    call_command("load_demo", stdout=out)
    # then no model has a row more or less
    assert {m._meta.label: m._default_manager.count() for m in apps.get_models()} == before
    codes = [data.COUNTY["code"], baihe_part.CODE, hetang_part.CODE, tianxin_part.CODE]
    assert County.objects.filter(code__in=codes).count() == 4


def test_every_county_has_a_login_for_each_role_and_the_logins_print_them(loaded_once, db):
    # when the logins are printed
    out = StringIO()
    call_command("load_demo", "--logins", stdout=out)
    lines = out.getvalue().strip().splitlines()
    # then each county's logins are users of that county with the role printed, and every role is there
    for county_name, logins in all_logins():
        county = County.objects.get(name=county_name)
        roles = set()
        for username, password, role, _where in logins:
            user = User.objects.get(username=username)
            assert user.county_id == county.pk and role_of(user) == Role(role), username
            assert user.check_password(password)
            roles.add(Role(role))
            assert any(line.split()[:4] == [role, username, password, county_name] for line in lines), username
        if county_name == programme_part.HELPER_COUNTY["name"]:
            # the helper district of the cross-county programme: a partner, not a demo county of its own
            assert roles == {Role.BUREAU, Role.MEMBER_PRINCIPAL}
            continue
        assert roles == set(Role), county_name
        assert sum(1 for _u, _p, r, _w in logins if r == Role.BUREAU) >= 2  # four eyes
    assert len(lines) == sum(len(logins) for _c, logins in all_logins())


def test_baihe_has_58_schools_in_9_communities_each_with_one_core_school(baihe):
    schools = School.objects.filter(county=baihe)
    assert schools.count() == 58
    communities = Alliance.objects.filter(school_year__county=baihe, school_year__start_year=2025).annotate(
        leads=Count("memberships", filter=Q(memberships__role=Membership.Role.LEAD)),
        size=Count("memberships"),
    )
    assert communities.count() == 9
    assert {a.kind for a in communities} == {Alliance.Kind.COMMUNITY}
    assert {a.leads for a in communities} == {1}
    assert sum(a.size for a in communities) == 58
    # 学段相同: one stage per community
    for community in communities:
        assert community.memberships.values("school__stage").distinct().count() == 1, community


def test_baihe_scores_two_terms_and_a_year_bundled_with_a_decline_warning(baihe):
    periods = EvaluationPeriod.objects.filter(county=baihe, school_year__start_year=2025)
    assert sorted(periods.values_list("kind", flat=True)) == ["term", "term", "year"]
    assert set(periods.values_list("status", flat=True)) == {EvaluationPeriod.Status.PUBLISHED}
    for period in periods:
        assert SchoolResult.objects.filter(period=period).count() == 58
    # bundled (捆绑式): a core school's final score is not its own total alone
    core = SchoolResult.objects.filter(period=year_period(baihe), school__code=baihe_part.ALLIANCES[0].lead).get()
    assert core.final_score != core.own_total
    # the schools falling from the first term to the second are warned, in the second term
    warned = DeclineWarning.objects.filter(period__county=baihe)
    assert set(warned.values_list("school__code", flat=True)) >= set(baihe_part.DECLINING)
    assert set(warned.values_list("period__term__number", flat=True)) == {2}


def test_baihe_published_year_was_approved_by_a_second_bureau_user_and_its_sheet_adds_up_to_the_pool(baihe):
    # given the published school year of the Baihe county
    period = year_period(baihe)
    publication = Publication.objects.get(period=period)
    assert publication.proposed_by.username == "baihe-bureau"
    assert publication.approved_by.username == "baihe-bureau2"
    # when its bureau exports the award sheet
    rows = award_sheet_rows(period, user=User.objects.get(username="baihe-bureau"))
    body, total = rows[1:-1], rows[-1]
    # then the awards (and the remainder) add up to the pool: 30 % of 58 × 100,000.00
    assert total[-1] == Decimal("1740000.00")
    assert sum(r[-1] for r in body) == total[-1]
    assert len([r for r in body if r[0]]) == 58
    # and the ledger paid exactly that, once: the terms paid nothing
    paid = LedgerLine.objects.filter(account__funding_year__county=baihe, account__kind=Account.Kind.AWARDS_PAID)
    assert sum(paid.values_list("amount", flat=True)) == Decimal("1740000.00")
    for term in EvaluationPeriod.objects.filter(county=baihe, kind=EvaluationPeriod.Kind.TERM):
        assert term.publications.get().ledger_entry_id is None


def recompute(pool: Decimal, sheet: list[tuple[str, Decimal, Decimal]], threshold: Decimal | None) -> dict:
    """The award convention by hand: weight = final score as published × quota (nothing under the
    threshold), the pool split by the largest remainder, ties to the higher score, then the code."""
    weights = {code: (score * quota if threshold is None or score >= threshold else 0) for code, score, quota in sheet}
    total = sum(weights.values())
    fen = int(pool * 100)
    exact = {code: Fraction(fen) * Fraction(w) / Fraction(total) for code, w in weights.items()}
    floors = {code: int(Decimal(x.numerator) // Decimal(x.denominator)) for code, x in exact.items()}
    left = fen - sum(floors.values())
    score = {code: s for code, s, _q in sheet}
    order = sorted(exact, key=lambda c: (-(exact[c] - floors[c]), -score[c], c))
    for code in order[:left]:
        floors[code] += 1
    return {code: Decimal(f) / 100 for code, f in floors.items()}


def test_anyone_recomputes_the_baihe_awards_from_the_published_sheet_and_the_quotas(baihe):
    # given the published sheet (final score as published, award) and the funding year's quotas
    period = year_period(baihe)
    rows = award_sheet_rows(period, user=User.objects.get(username="baihe-auditor"))
    quotas = dict(
        FundingQuota.objects.filter(funding_year__county=baihe, funding_year__school_year__start_year=2025).values_list(
            "school__code", "quota"
        )
    )
    sheet = [(r[0], Decimal(str(r[3])), quotas[r[0]]) for r in rows[1:-2]]
    published = {r[0]: r[-1] for r in rows[1:-2]}
    # when the awards are recomputed by hand with the county's policy (proportional, pass at 60)
    again = recompute(rows[-1][-1], sheet, Decimal("60.00"))
    # then every award is the same to the fen
    assert again == published


def test_the_hetang_supervision_grid_shows_the_october_gap(hetang, api_as):
    # given the district's 2026–2027 school year, read by its bureau through the API
    year = SchoolYear.objects.get(county=hetang, start_year=2026)
    bureau = User.objects.get(username="hetang-bureau")
    response = api_as(bureau).get("/api/v1/supervision-visits/grid/", {"school_year": year.pk})
    assert response.status_code == 200, response.content
    codes = dict(School.objects.filter(county=hetang).values_list("pk", "code"))
    rows = {codes[row["school"]]: row for row in response.json()}
    # then 八达小学 has a gap in October, and every school was visited in September and November
    assert set(rows) == set(codes.values())
    for code, row in rows.items():
        cells = {cell["month"][:7]: cell for cell in row["cells"]}
        assert not cells["2026-09"]["gap"] and not cells["2026-11"]["gap"], code
        assert cells["2026-10"]["gap"] == (code == hetang_part.GAP[0]), code


def test_the_hetang_rectifications_are_closed_answered_and_open_and_the_quarterly_meeting_was_held(hetang):
    from staffing.models import Activity, Rectification

    items = Rectification.objects.filter(visit__school__county=hetang)
    assert sorted(items.values_list("status", flat=True)) == ["answered", "closed", "open"]
    assert Activity.objects.filter(host_school__county=hetang, kind="quarterly_supervision_meeting").exists()
    # the visits were logged by the schools' own supervisors
    for visit in items.model.visit.field.related_model.objects.filter(school__county=hetang).select_related(
        "supervisor"
    ):
        assert visit.supervisor.assessed_schools.filter(pk=visit.school_id).exists()


@pytest.mark.parametrize("code", [baihe_part.CODE, hetang_part.CODE, tianxin_part.CODE])
def test_a_demo_school_year_covers_the_day_of_the_issue_with_its_alliances(loaded_once, db, code):
    year = SchoolYear.objects.get(county__code=code, start_date__lte=ISSUE_DAY, end_date__gte=ISSUE_DAY)
    assert year.terms.filter(start_date__lte=ISSUE_DAY, end_date__gte=ISSUE_DAY, number=1).exists()
    assert Alliance.objects.filter(school_year=year).exists()
