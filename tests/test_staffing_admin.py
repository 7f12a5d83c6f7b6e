"""The staffing admin: the same scoping and the same rules as the API."""

import pytest
from django.urls import reverse

from staffing.models import Exchange, Teacher

from .factories_staffing import ExchangeFactory


def change_url(obj):
    return reverse(f"admin:staffing_{obj._meta.model_name}_change", args=[obj.pk])


def exchange_form(teacher, hosts, **kw):
    data = {
        "kind": "dispatched",
        "teacher": teacher.pk,
        "origin_school": teacher.school_id,
        "subject": "math",
        "class_count": "2",
        "classes": "三(1)班",
        "weekly_periods": "8",
        "start_date": "2025-09-01",
        "end_date": "2026-01-20",
        "hosts-TOTAL_FORMS": str(len(hosts)),
        "hosts-INITIAL_FORMS": "0",
        "hosts-MIN_NUM_FORMS": "0",
        "hosts-MAX_NUM_FORMS": "1000",
    }
    for i, school in enumerate(hosts):
        data[f"hosts-{i}-school"] = str(school.pk)
    data.update(kw)
    return data


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_admin_creates_an_exchange_through_the_service(login, lead_principal, lead_teacher, member_school):
    # when the lead principal adds an exchange with one host in the admin
    res = login(lead_principal).post(
        reverse("admin:staffing_exchange_add"), exchange_form(lead_teacher, [member_school])
    )
    # then it is saved as the service saves it
    assert res.status_code == 302, res.context["adminform"].form.errors if res.context else res
    exchange = Exchange.objects.get()
    assert (exchange.status, exchange.logged_by, exchange.cross_alliance) == ("planned", lead_principal, False)
    assert list(exchange.host_schools.all()) == [member_school]


def test_admin_refuses_an_overlapping_posting_with_the_message(login, lead_principal, lead_teacher, member_school):
    # given an autumn posting
    ExchangeFactory(teacher=lead_teacher, hosts=[member_school])
    # when an overlapping one is added in the admin
    res = login(lead_principal).post(
        reverse("admin:staffing_exchange_add"),
        exchange_form(lead_teacher, [member_school], start_date="2025-12-01"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    # then the form comes back with the message on the field, and nothing is written
    assert res.status_code == 200
    assert "该教师在此期间已有其他交流安排" in res.context["adminform"].form.errors["start_date"][0]
    assert Exchange.objects.count() == 1


def test_admin_refuses_bad_hosts_on_the_inline(login, lead_principal, lead_teacher, member_school, other_school):
    res = login(lead_principal).post(
        reverse("admin:staffing_exchange_add"), exchange_form(lead_teacher, [member_school, other_school])
    )
    assert res.status_code == 200
    assert res.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert not Exchange.objects.exists()


def test_admin_refuses_end_before_start(login, bureau_staff, lead_teacher, member_school):
    res = login(bureau_staff).post(
        reverse("admin:staffing_exchange_add"), exchange_form(lead_teacher, [member_school], end_date="2025-08-01")
    )
    assert res.status_code == 200
    assert "end_date" in res.context["adminform"].form.errors
    assert not Exchange.objects.exists()


def test_principal_cannot_name_another_schools_teacher(login, principal, other_teacher, lead_school):
    res = login(principal).post(reverse("admin:staffing_exchange_add"), exchange_form(other_teacher, [lead_school]))
    assert res.status_code == 200
    assert {"teacher", "origin_school"} <= set(res.context["adminform"].form.errors)
    assert not Exchange.objects.exists()


def test_principal_of_a_gets_404_on_b_rows_in_the_admin(login, principal, teacher, other_teacher, other_lead_school):
    # given school B's teacher and exchange
    exchange = ExchangeFactory(teacher=other_teacher, hosts=[other_lead_school])
    client = login(principal)
    # then the principal of school A finds neither, and the lists do not show them
    for obj in (other_teacher, exchange):
        assert client.get(change_url(obj)).status_code == 404
        assert client.post(change_url(obj), {}).status_code == 404
        delete = reverse(f"admin:staffing_{obj._meta.model_name}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 404
    listing = client.get(reverse("admin:staffing_teacher_changelist"))
    assert teacher.name in listing.content.decode()
    assert other_teacher.name not in listing.content.decode()
    assert Teacher.objects.filter(pk=other_teacher.pk).exists()


def test_lead_principal_views_but_cannot_change_member_rows(login, lead_principal, teacher):
    client = login(lead_principal)
    assert client.get(change_url(teacher)).status_code == 200
    res = client.post(change_url(teacher), {"school": teacher.school_id, "name": "改名", "subject": "math"})
    assert res.status_code == 403
    teacher.refresh_from_db()
    assert teacher.name == "王老师"


def test_bureau_of_another_county_gets_404_in_the_admin(login, other_bureau_staff, teacher):
    assert login(other_bureau_staff).get(change_url(teacher)).status_code == 404


def test_principal_sees_status_read_only(login, principal, teacher, lead_school):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    res = login(principal).get(change_url(exchange))
    assert res.status_code == 200
    assert "status" not in res.context["adminform"].form.fields
    assert "status" in res.context["adminform"].readonly_fields


def test_bureau_approve_action_reports_per_row(login, bureau_staff, teacher, lead_teacher, member_school, lead_school):
    # given a planned and a cancelled exchange
    planned = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    cancelled = ExchangeFactory(teacher=lead_teacher, hosts=[member_school], status="cancelled", cancel_reason="x")
    # when the bureau approves both from the list
    res = login(bureau_staff).post(
        reverse("admin:staffing_exchange_changelist"),
        {"action": "approve_selected", "_selected_action": [planned.pk, cancelled.pk]},
        follow=True,
    )
    # then the planned one is approved and the other is reported
    planned.refresh_from_db()
    cancelled.refresh_from_db()
    assert (planned.status, planned.approved_by) == ("approved", bureau_staff)
    assert cancelled.status == "cancelled"
    assert len(list(res.context["messages"])) == 2


def test_bureau_status_change_goes_through_the_workflow(login, bureau_staff, teacher, lead_school):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school])
    data = exchange_form(teacher, [], status="completed", cancel_reason="")
    data.update({"hosts-INITIAL_FORMS": "1", "hosts-TOTAL_FORMS": "1", "hosts-0-school": str(lead_school.pk),
                 "hosts-0-id": str(exchange.hosts.get().pk), "hosts-0-exchange": str(exchange.pk)})  # fmt: skip
    client = login(bureau_staff)
    # planned → completed skips steps: refused on the form
    res = client.post(change_url(exchange), data)
    assert res.status_code == 200
    assert "status" in res.context["adminform"].form.errors
    # planned → approved records the approver
    res = client.post(change_url(exchange), {**data, "status": "approved"})
    assert res.status_code == 302
    exchange.refresh_from_db()
    assert (exchange.status, exchange.approved_by) == ("approved", bureau_staff)


def test_admin_changelists_render(login, bureau_staff, teacher, lead_school):
    ExchangeFactory(teacher=teacher, hosts=[lead_school])
    client = login(bureau_staff)
    for name in ("teacher", "exchange", "mentorpair", "activity"):
        assert client.get(reverse(f"admin:staffing_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:staffing_{name}_add")).status_code == 200
    assert client.get(reverse("admin:staffing_exchange_changelist") + "?cross_alliance__exact=1").status_code == 200
