"""Staffing's rules, once each: the same refusal (and nothing written) through the API and the
admin; the side doors of issue 13 (an approved exchange rewritten, teacher names leaking)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from staffing import services
from staffing.models import Exchange, MentorPair

from .factories_staffing import ExchangeFactory, MentorPairFactory, TeacherFactory

API = "/api/v1"


def zh(msgid, **params):
    """A message as the portal says it (its language is zh-hans)."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
        return text % {k: translation.gettext(v) for k, v in params.items()} if params else text


NOT_SEEN = zh("Name a %(model)s you may see; this one is not among them.", model="teacher")
NOT_YOURS = zh("The mentor or the mentee must be a teacher of your school.")


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _form_errors(res):
    form = res.context["adminform"].form
    return {name: [str(m) for m in errors] for name, errors in form.errors.items()}


# --- an approved exchange is the bureau's -------------------------------------------------


@pytest.fixture
def approved(teacher, lead_school, bureau_staff, principal):
    exchange = ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal, kind="shadowing")
    return services.exchange_approve(actor=bureau_staff, exchange=exchange)


@pytest.mark.parametrize(
    "change",
    [{"weekly_periods": 2}, {"start_date": "2025-09-15"}, {"kind": "rotation"}, {"subject": "chinese"}],
)
def test_an_approved_exchange_changed_by_its_school_goes_back_to_planned(api_as, principal, approved, change):
    # given an exchange the bureau approved
    # when its principal changes what was approved
    res = api_as(principal).patch(f"{API}/exchanges/{approved.pk}/", change, format="json")
    # then the change is kept, and the exchange waits for the bureau's approval again
    assert res.status_code == 200, res.data
    approved.refresh_from_db()
    assert (approved.status, approved.approved_by, approved.approved_at) == ("planned", None, None)
    assert res.data["status"] == "planned"


def test_changing_an_approved_exchanges_host_sends_it_back_too(api_as, principal, approved, other_lead_school):
    res = api_as(principal).patch(f"{API}/exchanges/{approved.pk}/", {"hosts": [other_lead_school.pk]}, format="json")
    assert res.status_code == 200, res.data
    approved.refresh_from_db()
    assert approved.status == "planned"


def test_an_unchanged_put_keeps_the_approval(api_as, principal, approved):
    # given the exchange as the API shows it
    client = api_as(principal)
    shown = client.get(f"{API}/exchanges/{approved.pk}/").data
    keep = ["kind", "teacher", "origin_school", "hosts", "subject", "class_count", "classes", "weekly_periods"]
    body = {k: shown[k] for k in keep} | {"start_date": shown["start_date"], "end_date": shown["end_date"]}
    # when it is written back unchanged
    res = client.put(f"{API}/exchanges/{approved.pk}/", body, format="json")
    # then it stays approved
    assert res.status_code == 200, res.data
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_the_bureaus_own_change_stays_approved(api_as, bureau_staff, approved):
    res = api_as(bureau_staff).patch(f"{API}/exchanges/{approved.pk}/", {"weekly_periods": 3}, format="json")
    assert res.status_code == 200, res.data
    approved.refresh_from_db()
    assert (approved.status, approved.approved_by, approved.weekly_periods) == ("approved", bureau_staff, 3)


def test_a_running_exchanges_terms_are_refused_to_its_school(api_as, login, principal, bureau_staff, approved):
    # given a running exchange
    services.exchange_start(actor=bureau_staff, exchange=approved)
    # when its principal changes its weekly periods through the API and through the admin
    res = api_as(principal).patch(f"{API}/exchanges/{approved.pk}/", {"weekly_periods": 1}, format="json")
    # then both refuse it with the same message and nothing changes
    assert res.status_code == 400
    message = zh("A running exchange keeps the terms the bureau approved; cancel it and log the new one.")
    assert message in str(res.data)
    with pytest.raises(Exception) as err:
        services.exchange_update(actor=principal, exchange=approved, weekly_periods=1)
    assert message in str(err.value)
    approved.refresh_from_db()
    assert (approved.status, approved.weekly_periods) == ("active", 10)


def _change_form(exchange, host, **over):
    data = {
        "kind": exchange.kind, "teacher": exchange.teacher_id, "origin_school": exchange.origin_school_id,
        "subject": exchange.subject, "class_count": "2", "classes": exchange.classes, "weekly_periods": "10",
        "start_date": "2025-09-01", "end_date": "2026-01-20",
        "hosts-TOTAL_FORMS": "1", "hosts-INITIAL_FORMS": "1", "hosts-MIN_NUM_FORMS": "0", "hosts-MAX_NUM_FORMS": "1000",
        "hosts-0-id": str(exchange.hosts.get().pk), "hosts-0-exchange": str(exchange.pk),
        "hosts-0-school": str(host.pk),
    }  # fmt: skip
    return data | over


def test_the_admin_refuses_a_running_exchanges_terms_alike(login, principal, bureau_staff, approved, lead_school):
    services.exchange_start(actor=bureau_staff, exchange=approved)
    url = reverse("admin:staffing_exchange_change", args=[approved.pk])
    res = login(principal).post(url, _change_form(approved, lead_school, weekly_periods="1"))
    assert res.status_code == 200
    message = zh("A running exchange keeps the terms the bureau approved; cancel it and log the new one.")
    assert message in str(res.context["adminform"].form.non_field_errors())
    approved.refresh_from_db()
    assert (approved.status, approved.weekly_periods) == ("active", 10)


def test_the_admin_sends_an_approved_exchange_back_to_planned(login, principal, approved, lead_school):
    # when the principal changes the weekly periods in the admin
    data = _change_form(approved, lead_school, weekly_periods="3")
    res = login(principal).post(reverse("admin:staffing_exchange_change", args=[approved.pk]), data)
    # then it is saved and planned again
    assert res.status_code == 302, _form_errors(res)
    approved.refresh_from_db()
    assert (approved.status, approved.weekly_periods, approved.approved_by) == ("planned", 3, None)


# --- a write names only rows the writer may read ------------------------------------------


def test_a_mentee_of_another_school_is_refused_like_one_that_does_not_exist(api_as, principal, teacher, other_teacher):
    # given a member principal, its teacher, and a teacher of another alliance's school
    client = api_as(principal)
    # when it names that teacher as mentee, and then an id that exists nowhere
    seen = client.post(
        f"{API}/mentor-pairs/",
        {"mentor": teacher.pk, "mentee": other_teacher.pk, "start_date": "2025-09-01"},
        format="json",
    )
    nowhere = client.post(
        f"{API}/mentor-pairs/", {"mentor": teacher.pk, "mentee": 999999, "start_date": "2025-09-01"}, format="json"
    )
    # then both are refused beside the field with the same message, which names the rule,
    # and the other school's teacher's name is nowhere in the answer
    assert (seen.status_code, nowhere.status_code) == (400, 400)
    assert [str(m) for m in seen.data["mentee"]] == [str(m) for m in nowhere.data["mentee"]] == [NOT_SEEN]
    assert other_teacher.name not in seen.content.decode()
    assert not MentorPair.objects.exists()


def test_the_admin_refuses_another_schools_mentee_with_the_same_message(login, principal, teacher, other_teacher):
    res = login(principal).post(
        reverse("admin:staffing_mentorpair_add"),
        {
            "mentor": teacher.pk, "mentee": other_teacher.pk, "start_date": "2025-09-01",
            "meetings-TOTAL_FORMS": "0", "meetings-INITIAL_FORMS": "0",
            "meetings-MIN_NUM_FORMS": "0", "meetings-MAX_NUM_FORMS": "1000",
        },
    )  # fmt: skip
    assert res.status_code == 200
    assert _form_errors(res)["mentee"] == [NOT_SEEN]
    assert not MentorPair.objects.exists()


def test_a_pair_of_none_of_the_writers_teachers_is_refused_alike(api_as, login, lead_principal, member_school):
    # given two teachers of a member school, both readable by the lead principal
    a, b = TeacherFactory(school=member_school), TeacherFactory(school=member_school)
    # when the lead principal pairs them, through the API and through the admin
    res = api_as(lead_principal).post(
        f"{API}/mentor-pairs/", {"mentor": a.pk, "mentee": b.pk, "start_date": "2025-09-01"}, format="json"
    )
    page = login(lead_principal).post(
        reverse("admin:staffing_mentorpair_add"),
        {
            "mentor": a.pk, "mentee": b.pk, "start_date": "2025-09-01",
            "meetings-TOTAL_FORMS": "0", "meetings-INITIAL_FORMS": "0",
            "meetings-MIN_NUM_FORMS": "0", "meetings-MAX_NUM_FORMS": "1000",
        },
    )  # fmt: skip
    # then both refuse it beside the mentee with the same message
    assert res.status_code == 400
    assert [str(m) for m in res.data["mentee"]] == [NOT_YOURS]
    assert _form_errors(page)["mentee"] == [NOT_YOURS]
    assert not MentorPair.objects.exists()


def test_a_pair_shows_only_the_names_its_reader_may_read(api_as, principal, lead_teacher, teacher, bureau_staff):
    # given a pair the lead school's teacher mentors for the member school
    pair = MentorPairFactory(mentor=lead_teacher, mentee=teacher)
    # when the member principal and the bureau read it
    mine = api_as(principal).get(f"{API}/mentor-pairs/{pair.pk}/").data
    bureau = api_as(bureau_staff).get(f"{API}/mentor-pairs/{pair.pk}/").data
    # then the member principal sees its own teacher's name only
    assert (mine["mentor_name"], mine["mentee_name"]) == (None, teacher.name)
    assert (bureau["mentor_name"], bureau["mentee_name"]) == (lead_teacher.name, teacher.name)


def test_a_member_principal_may_not_name_the_lead_schools_teacher(api_as, principal, lead_teacher, teacher):
    # the lead principal or the bureau logs a pair across the two schools (it reads both)
    res = api_as(principal).post(
        f"{API}/mentor-pairs/",
        {"mentor": lead_teacher.pk, "mentee": teacher.pk, "start_date": "2025-09-01"},
        format="json",
    )
    assert res.status_code == 400
    assert [str(m) for m in res.data["mentor"]] == [NOT_SEEN]


def test_the_lead_principal_logs_a_pair_across_its_alliance(api_as, lead_principal, lead_teacher, teacher):
    res = api_as(lead_principal).post(
        f"{API}/mentor-pairs/",
        {"mentor": lead_teacher.pk, "mentee": teacher.pk, "start_date": "2025-09-01"},
        format="json",
    )
    assert res.status_code == 201, res.data
    assert (res.data["mentor_name"], res.data["mentee_name"]) == (lead_teacher.name, teacher.name)


def test_activity_schools_of_another_county_are_refused_alike(api_as, login, bureau_staff, lead_school, foreign_school):
    # a superuser-free check: bureau staff name a school of another county as involved
    res = api_as(bureau_staff).post(
        f"{API}/activities/",
        {"kind": "training", "date": "2025-10-01", "host_school": lead_school.pk, "title": "培训",
         "schools": [foreign_school.pk]},
        format="json",
    )  # fmt: skip
    assert res.status_code == 400
    assert "schools" in res.data
    with pytest.raises(Exception) as err:
        services.activity_schools_check(host_school=lead_school, schools=[foreign_school])
    assert zh("%(school)s belongs to another county.") % {"school": foreign_school} in str(err.value)


def test_services_refuse_fields_they_do_not_set(principal, teacher):
    with pytest.raises(Exception) as err:
        services.teacher_update(actor=principal, teacher=teacher, id=5)
    assert "id" in err.value.message_dict


def test_exchange_teacher_days_and_dates(teacher, lead_school):
    # the vocabulary: counted exchanges are the staffing app's
    from staffing.querysets import COUNTED_EXCHANGE_STATUSES

    ExchangeFactory(teacher=teacher, hosts=[lead_school], status="approved")
    assert Exchange.objects.counted().count() == 1
    assert set(COUNTED_EXCHANGE_STATUSES) == {"approved", "active", "completed"}
    assert Exchange.objects.counted().teacher_days(dt.date(2025, 9, 1), dt.date(2025, 9, 10)) == 10
