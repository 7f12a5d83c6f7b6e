"""The demo's cross-county programme (demo/programme_part.py, seed 002): a helper district helps
weak schools of the demo county, with a timetabled task list, a stationed cadre, a term
meeting, and 100,000 CNY working funds per helper school that ``ledger_check`` accepts."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from alliance import services as alliance_services
from alliance.models import County, Programme, Term
from demo import data, programme_part
from demo.core import Context
from funding import bookcheck
from funding.models import FundingYear, ProgrammeFund, ProgrammeSpending
from staffing.models import Activity, Exchange

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(loaded_once, db):
    return Programme.objects.get(name=programme_part.PROGRAMME_NAME)


def test_the_demo_has_a_cross_county_programme_helping_the_demo_county(programme):
    assert programme.helped_county.code == data.COUNTY["code"]
    assert programme.helper_county.code == programme_part.HELPER_COUNTY["code"]
    pairings = programme.pairings.select_related("helper_school", "helped_school")
    assert pairings.count() == len(programme_part.HELPER_SCHOOLS)
    assert all(p.helper_school.county_id != p.helped_school.county_id for p in pairings)
    # each pairing has a timetable of milestones, a responsible person per task
    for pairing in pairings:
        tasks = pairing.tasks.all()
        assert {t.milestone for t in tasks} == {m for m, _tasks in programme_part.ROADMAP}
        assert all(t.responsible_person for t in tasks)
    # a stationed cadre is hosted across the line, recorded at its home school
    cadre = Exchange.objects.get(programme=programme)
    assert cadre.kind == Exchange.Kind.POSTING
    assert cadre.origin_school.county_id == programme.helper_county_id


def test_the_first_terms_meeting_is_held_and_the_second_reported_missing(programme):
    bureau = programme.helped_county.users.filter(groups__name="bureau_staff").first()
    first, second = Term.objects.filter(school_year__county=programme.helped_county).order_by("number")[:2]
    assert Activity.objects.filter(programme=programme, kind=Activity.Kind.PROGRAMME_TERM_MEETING).count() == 1
    assert alliance_services.programmes_missing_term_meeting(actor=bureau, term=first) == []
    assert alliance_services.programmes_missing_term_meeting(actor=bureau, term=second) == [programme]


def test_the_working_funds_are_booked_planned_spent_and_checked(programme):
    funds = ProgrammeFund.objects.filter(programme=programme)
    assert [f.amount for f in funds] == [Decimal("100000.00")] * len(programme_part.HELPER_SCHOOLS)
    assert ProgrammeSpending.objects.filter(line__fund__programme=programme).count() == funds.count()
    year = FundingYear.objects.get(county=programme.helper_county)
    assert year.status == FundingYear.Status.OPEN
    assert bookcheck.check_year(year) == []
    out = StringIO()
    call_command("ledger_check", stdout=out)
    assert "OK" in out.getvalue()


def test_loading_the_part_again_writes_nothing(programme):
    before = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    ctx = Context(write=lambda message: None)
    core = County.objects.get(code=data.COUNTY["code"])
    ctx.county = core
    ctx.school_year = core.school_years.get(start_year=data.START_YEAR)
    ctx.schools = {s.code: s for s in core.schools.all()}
    from alliance.models import User

    ctx.users = {u.username: u for u in User.objects.filter(county=core)}
    ctx.principals = {u.school.code: u for u in User.objects.filter(county=core, school__isnull=False)}
    programme_part.load(ctx)
    assert ctx.created == {}
    assert {m._meta.label: m._default_manager.count() for m in apps.get_models()} == before


def test_the_demos_programme_page_opens_for_both_bureaus_and_the_helper_principal(programme):
    from django.test import Client
    from django.urls import reverse

    from alliance.models import User

    helped_bureau = programme.helped_county.users.filter(groups__name="bureau_staff").first()
    url = reverse("portal:programme", args=[programme.pk])
    for username in (helped_bureau.username, programme_part.BUREAU_USERNAME, programme_part.PRINCIPAL_USERNAME):
        client = Client()
        client.force_login(User.objects.get(username=username))
        response = client.get(url)
        assert response.status_code == 200, username
        # the timetable's milestones, and the term meeting held
        body = response.content.decode()
        assert all(milestone in body for milestone, _tasks in programme_part.ROADMAP), username
        assert any(term["held"] for term in response.context["terms"]), username
        # the bureau's overview or the principal's home links the programme
        assert (
            url in client.get("/").content.decode() or reverse("portal:programmes") in client.get("/").content.decode()
        )
