"""The admin for bureau staff: the index grouped by the bureau's work, the schedules last."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_admin_index_is_grouped_by_the_bureaus_work_with_the_schedules_last(bureau_staff, admin_user):
    for user in (bureau_staff, admin_user):
        # given a bureau user (and a superuser, who sees every model)
        client = Client()
        client.force_login(user)

        # when it opens the admin's index
        page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

        # then the headings are the bureau's work, in order, the job schedules last
        headings = re.findall(r'class="section"[^>]*>([^<]+)</a>', page)
        assert headings[:3] == ["学校与校联体", "交流与活动", "经费"], headings
        assert headings[-1] == "计划任务"
        assert "评价" in headings and "督导" in headings


def test_the_celery_and_nightly_schedules_share_the_last_heading(admin_user):
    client = Client()
    client.force_login(admin_user)

    response = client.get("/admin/")

    last = response.context["app_list"][-1]
    labels = {m["model"]._meta.label for m in last["models"]}
    assert "django_celery_beat.PeriodicTask" in labels and "evaluation.NightlySchedule" in labels
    assert all(app["models"] for app in response.context["app_list"])


def test_an_apps_own_page_still_lists_its_models(admin_user):
    client = Client()
    client.force_login(admin_user)

    response = client.get("/admin/funding/")

    assert response.status_code == 200
    assert [app["app_label"] for app in response.context["app_list"]] == ["funding"]


# --- amounts and figures as people read them ---------------------------------------------------


def test_the_admin_writes_amounts_as_yuan_and_shares_without_trailing_zeros(bureau_staff, principal, research_line):
    # given a spending record of 1,234.56 on school A's line
    from django.core.files.uploadedfile import SimpleUploadedFile

    from funding import services as funding_services

    from .fixtures_portal import PDF

    record = funding_services.spending_record_create(
        actor=principal,
        plan_line=research_line,
        date=research_line.plan.funding_year.school_year.start_date,
        amount=__import__("decimal").Decimal("1234.56"),
        payee="书店",
        receipt=SimpleUploadedFile("r.pdf", PDF),
    )
    client = Client()
    client.force_login(bureau_staff)

    # then the list columns, the read-only detail and the accounts' balances say ¥
    assert "¥1,234.56" in client.get("/admin/funding/spendingrecord/").content.decode()
    assert "¥1,234.56" in client.get(f"/admin/funding/spendingrecord/{record.pk}/change/").content.decode()
    assert "¥" in client.get("/admin/funding/account/").content.decode()
    years = client.get("/admin/funding/fundingyear/").content.decode()
    assert "¥200,000.00" in years and ">0.7<" in years and "0.7000" not in years


def test_a_services_refusal_names_amounts_as_yuan(lead_principal, approved_plan):
    from decimal import Decimal

    from django.core.exceptions import ValidationError

    from funding import services as funding_services

    # given a revision of the approved plan with a line far past the fund
    plan = funding_services.spending_plan_revise(actor=lead_principal, plan=approved_plan)
    line = plan.lines.first()
    funding_services.plan_line_update(actor=lead_principal, line=line, amount=Decimal("999999.00"))

    # when it is submitted, then the refusal writes both amounts as ¥
    with pytest.raises(ValidationError) as refused:
        funding_services.spending_plan_submit(actor=lead_principal, plan=plan)
    assert "¥1,099,999.00" in str(refused.value) and "¥280,000.00" in str(refused.value)


def test_the_award_policys_coefficients_are_one_field_per_grade_in_words(bureau_staff, school_year):
    from evaluation.models import AwardPolicy

    # given a policy of the county's year
    policy = AwardPolicy.objects.create(county=bureau_staff.county, school_year=school_year)
    client = Client()
    client.force_login(bureau_staff)
    url = f"/admin/evaluation/awardpolicy/{policy.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="coefficient_excellent"' in page and '"pass"' not in page

    # when the bureau sets two grades' coefficients
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(county=policy.county_id, school_year=school_year.pk, coefficient_excellent="1.5", coefficient_fail="0")
    response = client.post(url, {k: v for k, v in data.items() if v is not None})

    # then they are stored under the grade codes
    assert response.status_code == 302, response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.tier_coefficients == {"excellent": "1.5", "fail": "0"}


def test_the_award_policys_shares_per_period_are_fields_in_words_and_checked(bureau_staff, auditor, school_year):
    from evaluation.models import AwardPolicy

    # given a policy of the county's year, and its change form as the bureau sees it
    policy = AwardPolicy.objects.create(county=bureau_staff.county, school_year=school_year)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(bureau_staff)
    url = f"/admin/evaluation/awardpolicy/{policy.pk}/change/"
    form = client.get(url).context["adminform"].form
    assert {"share_term1", "share_term2", "share_year"} <= set(form.fields)
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(county=policy.county_id, school_year=school_year.pk)

    # when the shares add up to more than the pool, nothing is stored and the form says why
    refused = client.post(url, {**data, "share_term1": "0.6", "share_year": "0.7"})
    assert refused.status_code == 200 and refused.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.period_shares == {}

    # when they are within it, they are stored under the period keys
    saved = client.post(url, {**data, "share_term1": "0.3", "share_year": "0.7"})
    assert saved.status_code == 302
    policy.refresh_from_db()
    assert policy.period_shares == {"term1": "0.3", "year": "0.7"}

    # and a reader sees them in words, not as the stored mapping
    reader = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    reader.force_login(auditor)
    page = reader.get(url).content.decode()
    assert "第一学期：0.3" in page and "学年：0.7" in page and '"term1"' not in page
