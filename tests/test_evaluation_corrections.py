"""Corrections of a published period, with four eyes: one bureau user proposes (with the reason
and the corrected values, checked at once), nothing changes until a different bureau user
approves, and the approval books a new published revision that reverses the last one's award
entry. Through the services, the API and the admin."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluation import services
from evaluation.models import Correction, Indicator, IndicatorValue, PersonResult, Publication, SchoolResult
from funding.models import LedgerEntry


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def quality(rubric):
    return Indicator.objects.get(dimension__rubric=rubric, code="quality")


def figures(period):
    """What a correction may change: results, awards, values, publications, ledger entries."""
    return (
        sorted(SchoolResult.objects.filter(period=period).values_list("school_id", "own_total", "award")),
        sorted(IndicatorValue.objects.filter(period=period).values_list("school_id", "indicator_id", "value")),
        list(Publication.objects.filter(period=period).values_list("revision", "ledger_entry_id", "reversal_entry_id")),
        LedgerEntry.objects.count(),
    )


def test_a_correction_waits_for_a_second_bureau_user_and_becomes_a_new_revision(
    published, bureau_staff, second_bureau_staff, simple_rubric, eval_schools
):
    before = figures(published)
    # when one bureau user proposes to correct school B's quality value, with a reason
    correction = services.correction_propose(
        actor=bureau_staff,
        period=published,
        reason="阅卷错误",
        corrections=[(quality(simple_rubric), eval_schools["b"], 100)],
    )
    # then nothing changes yet
    assert correction.status == "pending" and correction.values[0]["value"] == "100"
    assert figures(published) == before
    # and the proposer may not approve it
    with pytest.raises(ValidationError) as refused:
        services.correction_approve(actor=bureau_staff, period=published)
    assert refused.value.code == "own_proposal"
    # nor can a second correction be proposed meanwhile
    with pytest.raises(ValidationError, match="waiting for approval"):
        services.correction_propose(actor=second_bureau_staff, period=published, reason="另一处")
    assert figures(published) == before
    # when a different bureau user approves
    second = services.correction_approve(actor=second_bureau_staff, period=published)
    # then revision 2 is published: proposed by the first user, approved by the second, with the
    # reason; revision 1's award entry is reversed and the new awards booked
    first = Publication.objects.get(period=published, revision=1)
    assert (second.revision, second.reason) == (2, "阅卷错误")
    assert (second.proposed_by, second.approved_by) == (bureau_staff, second_bureau_staff)
    assert LedgerEntry.objects.get(pk=first.reversal_entry_id).reverses_id == first.ledger_entry_id
    assert second.ledger_entry_id != first.ledger_entry_id
    assert SchoolResult.objects.get(period=published, school=eval_schools["b"]).own_total == D("70.00")
    # and the awards still add up to the pool
    assert sum(SchoolResult.objects.filter(period=published).values_list("award", flat=True)) == D("240000.00")
    correction.refresh_from_db()
    assert (correction.status, correction.decided_by, correction.publication) == (
        "approved",
        second_bureau_staff,
        second,
    )


def test_a_rejected_correction_changes_nothing(
    published, bureau_staff, second_bureau_staff, simple_rubric, eval_schools
):
    before = figures(published)
    services.correction_propose(
        actor=bureau_staff,
        period=published,
        reason="误报",
        corrections=[(quality(simple_rubric), eval_schools["b"], 90)],
    )
    with pytest.raises(ValidationError, match="reason"):
        services.correction_reject(actor=second_bureau_staff, period=published, decision=" ")
    rejected = services.correction_reject(actor=second_bureau_staff, period=published, decision="原值无误")
    assert (rejected.status, rejected.decision) == ("rejected", "原值无误")
    assert figures(published) == before
    # nothing waits any more; a new proposal may follow
    with pytest.raises(ValidationError) as refused:
        services.correction_approve(actor=second_bureau_staff, period=published)
    assert refused.value.code == "no_correction"
    services.correction_propose(actor=bureau_staff, period=published, reason="再议")


def test_bad_corrections_are_refused_and_write_nothing(
    published, year_period, bureau_staff, principal, simple_rubric, eval_schools, other_county
):
    from .factories import SchoolFactory, TermFactory

    def propose(actor=bureau_staff, period=published, reason="理由", value=100, school=eval_schools["b"]):
        return services.correction_propose(
            actor=actor, period=period, reason=reason, corrections=[(quality(simple_rubric), school, value)]
        )

    with pytest.raises(ValidationError, match="reason"):
        propose(reason="")
    with pytest.raises(ValidationError):
        propose(value=101)  # outside the indicator's range
    with pytest.raises(ValidationError, match="another county"):
        propose(school=SchoolFactory(county=other_county))
    with pytest.raises(PermissionDenied):
        propose(actor=principal)
    term = TermFactory(school_year=year_period.school_year, number=1)
    open_period = services.period_create(actor=bureau_staff, school_year=year_period.school_year, term=term)
    with pytest.raises(ValidationError, match="published"):
        propose(period=open_period)
    assert not Correction.objects.exists()


def test_the_api_proposes_approves_and_rejects(
    published, bureau_staff, second_bureau_staff, principal, api_as, simple_rubric, eval_schools
):
    url = f"/api/v1/evaluation/periods/{published.pk}/"
    payload = {
        "reason": "阅卷错误",
        "corrections": [{"indicator": quality(simple_rubric).pk, "school": eval_schools["b"].pk, "value": "100"}],
    }
    assert api_as(principal).post(url + "correct/", payload, format="json").status_code == 403
    r = api_as(bureau_staff).post(url + "correct/", payload, format="json")
    assert r.status_code == 201 and r.json()["status"] == "pending"
    r = api_as(bureau_staff).post(url + "approve-correction/")
    assert r.status_code == 400 and "different bureau user" in str(r.json())
    r = api_as(second_bureau_staff).post(url + "approve-correction/")
    assert r.status_code == 200 and r.json()["revision"] == 2
    # a second round, rejected
    assert api_as(bureau_staff).post(url + "correct/", {"reason": "再议"}, format="json").status_code == 201
    assert api_as(second_bureau_staff).post(url + "reject-correction/", {}, format="json").status_code == 400
    r = api_as(second_bureau_staff).post(url + "reject-correction/", {"decision": "无需更正"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "rejected"


def test_the_admin_proposes_from_codes_and_a_second_user_approves(
    published, bureau_staff, second_bureau_staff, other_bureau_staff, simple_rubric, eval_schools
):
    add = reverse("admin:evaluation_correction_add")
    client = Client()
    client.force_login(bureau_staff)
    # a line naming an indicator the rubric does not have: the form says so, nothing is written
    r = client.post(add, {"period": published.pk, "reason": "阅卷错误", "lines": "nonsense, S1, 5"})
    assert r.status_code == 200 and "no indicator" in r.content.decode()
    assert not Correction.objects.exists()
    # a value out of range: the service's message, nothing written
    b = eval_schools["b"]
    r = client.post(add, {"period": published.pk, "reason": "阅卷错误", "lines": f"quality, {b.code}, 101"})
    assert r.status_code == 200 and not Correction.objects.exists()
    # a good one (a Chinese comma too)
    r = client.post(add, {"period": published.pk, "reason": "阅卷错误", "lines": f"quality，{b.code}，100\n"})
    assert r.status_code == 302
    correction = Correction.objects.get()
    assert correction.values == [{"indicator": quality(simple_rubric).pk, "school": b.pk, "value": "100"}]
    # its page shows the values by code and name
    page = client.get(reverse("admin:evaluation_correction_change", args=[correction.pk])).content.decode()
    assert f"quality · {b.code} {b.name}: 100" in page
    # another county's bureau does not see it
    other = Client()
    other.force_login(other_bureau_staff)
    # not even among the periods its add form offers
    assert f'value="{published.pk}"' in client.get(add).content.decode()
    assert f'value="{published.pk}"' not in other.get(add).content.decode()
    assert other.get(reverse("admin:evaluation_correction_change", args=[correction.pk])).status_code == 404
    # the proposer's approval is refused; the second user's publishes revision 2
    changelist = reverse("admin:evaluation_correction_changelist")
    client.post(changelist, {"action": "approve", "_selected_action": [correction.pk]})
    assert Publication.objects.filter(period=published).count() == 1
    second = Client()
    second.force_login(second_bureau_staff)
    second.post(changelist, {"action": "approve", "_selected_action": [correction.pk]})
    assert Publication.objects.filter(period=published).count() == 2
    assert SchoolResult.objects.get(period=published, school=b).own_total == D("70.00")


# --- a principal's or a teacher's published value (seed 003) ---------------------------------


def _published_people(bureau_staff, second_bureau_staff, school_year, subject, values):
    """A published school-year period of ``subject`` with the default rubric's first indicator
    entered for each (school or teacher, value) of ``values``."""
    from evaluation.models import EvaluationPeriod

    rubric = services.rubric_create_default(
        actor=bureau_staff, county=school_year.county, school_year=school_year, subject=subject
    )
    period = services.period_create(actor=bureau_staff, school_year=school_year, subject=subject)
    first = Indicator.objects.filter(dimension__rubric=rubric).order_by("dimension__order", "order", "pk").first()
    for who, value in values:
        named = {"teacher": who} if subject == "teacher" else {"school": who}
        services.indicator_value_set(actor=bureau_staff, period=period, indicator=first, value=value, **named)
    period = services.publication_propose(actor=bureau_staff, period=period)
    EvaluationPeriod.objects.filter(pk=period.pk).update(notice_ends_at=timezone.now() - dt.timedelta(minutes=1))
    services.publication_approve(actor=second_bureau_staff, period=period)
    period.refresh_from_db()
    return period, first


@pytest.fixture
def teachers(member_school, other_school, foreign_school):
    from .factories_staffing import TeacherFactory

    return {
        "a": TeacherFactory(school=member_school, name="张老师"),
        "b": TeacherFactory(school=other_school, name="赵老师"),
        "y": TeacherFactory(school=foreign_school, name="钱老师"),  # county Y's
    }


@pytest.fixture
def published_teachers(bureau_staff, second_bureau_staff, school_year, teachers):
    """County X's teachers' year, published: ethics (20 points, full from 100) 90 for A's
    teacher (18.00), 80 for B's (16.00)."""
    return _published_people(
        bureau_staff, second_bureau_staff, school_year, "teacher", [(teachers["a"], 90), (teachers["b"], 80)]
    )


def person_figures(period):
    return (
        sorted(PersonResult.objects.filter(period=period).values_list("school_id", "teacher_id", "score")),
        sorted(IndicatorValue.objects.filter(period=period).values_list("teacher_id", "school_id", "value")),
        list(Publication.objects.filter(period=period).values_list("revision", "ledger_entry_id")),
        LedgerEntry.objects.count(),
    )


def test_a_teachers_published_value_is_corrected_with_four_eyes(
    published_teachers, bureau_staff, second_bureau_staff, teachers, member_school
):
    period, ethics = published_teachers
    before = person_figures(period)
    assert PersonResult.objects.get(period=period, teacher=teachers["a"]).score == D("18.00")
    # when one bureau user proposes to correct A's teacher's ethics value, naming the teacher
    correction = services.correction_propose(
        actor=bureau_staff, period=period, reason="评议表漏计", corrections=[(ethics, None, 100, teachers["a"])]
    )
    # then the line names the teacher and its school, and nothing changes yet
    assert correction.values == [
        {"indicator": ethics.pk, "school": member_school.pk, "teacher": teachers["a"].pk, "value": "100"}
    ]
    assert person_figures(period) == before
    with pytest.raises(ValidationError) as refused:
        services.correction_approve(actor=bureau_staff, period=period)
    assert refused.value.code == "own_proposal"
    # when a different bureau user approves
    publication = services.correction_approve(actor=second_bureau_staff, period=period)
    # then the teacher's own value row is corrected (no second row), its result recomputed
    # (20 × 100 % = 20.00), the other teacher's unchanged; revision 2 books nothing
    value = IndicatorValue.objects.get(period=period, teacher=teachers["a"])
    assert (value.value, value.school_id, value.comment) == (D("100"), member_school.pk, "评议表漏计")
    assert IndicatorValue.objects.filter(period=period).count() == 2
    assert PersonResult.objects.get(period=period, teacher=teachers["a"]).score == D("20.00")
    assert PersonResult.objects.get(period=period, teacher=teachers["b"]).score == D("16.00")
    assert (publication.revision, publication.ledger_entry_id, publication.awards) == (2, None, {})
    assert LedgerEntry.objects.count() == before[3]


def test_a_principals_published_value_is_corrected_by_the_school(
    bureau_staff, second_bureau_staff, school_year, member_school, other_school
):
    # given a published principals' year (development plan, 10 points, full from 100)
    period, plan = _published_people(
        bureau_staff, second_bureau_staff, school_year, "principal", [(member_school, 50), (other_school, 80)]
    )
    assert PersonResult.objects.get(period=period, school=member_school).score == D("5.00")
    # when the school's principal position's value is corrected and approved
    services.correction_propose(
        actor=bureau_staff, period=period, reason="述职材料补交", corrections=[(plan, member_school, 90)]
    )
    services.correction_approve(actor=second_bureau_staff, period=period)
    # then its result is 9.00, the other principal's unchanged
    assert PersonResult.objects.get(period=period, school=member_school).score == D("9.00")
    assert PersonResult.objects.get(period=period, school=other_school).score == D("8.00")
    # and a principals' period's correction names no teacher
    from .factories_staffing import TeacherFactory

    with pytest.raises(ValidationError, match="does not evaluate teachers"):
        services.correction_propose(
            actor=bureau_staff,
            period=period,
            reason="误",
            corrections=[(plan, member_school, 90, TeacherFactory(school=member_school))],
        )


def test_bad_teacher_corrections_are_refused_and_write_nothing(
    published_teachers, bureau_staff, principal, teachers, other_school
):
    period, ethics = published_teachers

    def propose(teacher, school=None, value=100, actor=bureau_staff):
        return services.correction_propose(
            actor=actor, period=period, reason="理由", corrections=[(ethics, school, value, teacher)]
        )

    # a teachers' period's value names its teacher
    with pytest.raises(ValidationError, match="Name the teacher"):
        services.correction_propose(
            actor=bureau_staff, period=period, reason="理由", corrections=[(ethics, other_school, 100)]
        )
    # a teacher of another county
    with pytest.raises(ValidationError) as refused:
        propose(teachers["y"])
    assert refused.value.message_dict == {"teacher": ["The teacher teaches at a school of another county."]}
    # a school that is not the teacher's
    with pytest.raises(ValidationError, match="teaches at another school"):
        propose(teachers["a"], school=other_school)
    # out of the indicator's range
    with pytest.raises(ValidationError, match="takes values from 0 to 100"):
        propose(teachers["a"], value=101)
    # a principal proposes no correction at all
    with pytest.raises(PermissionDenied):
        propose(teachers["a"], actor=principal)
    assert not Correction.objects.exists()


def test_the_api_corrects_a_teachers_value_and_refuses_a_teacher_out_of_reach_in_chinese(
    published_teachers, bureau_staff, second_bureau_staff, principal, api_as, teachers, member_school
):
    period, ethics = published_teachers
    url = f"/api/v1/evaluation/periods/{period.pk}/"

    def post(user, *lines, path="correct/"):
        payload = {"reason": "评议表漏计", "corrections": list(lines)}
        return api_as(user).post(url + path, payload, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")

    # a teacher of county Y is out of the bureau's reach: 400, said in Chinese, nothing written
    r = post(bureau_staff, {"indicator": ethics.pk, "teacher": teachers["y"].pk, "value": "100"})
    assert r.status_code == 400
    assert r.json()["corrections"] == ["请填写您有权查看的教师；此项不在其中。"]
    # a teachers' value without its teacher: 400, on the teacher, in Chinese
    r = post(bureau_staff, {"indicator": ethics.pk, "school": member_school.pk, "value": "100"})
    assert r.status_code == 400
    assert r.json()["teacher"] == ["请指明被评价的教师。"]
    # a value that is not a number
    r = post(bureau_staff, {"indicator": ethics.pk, "teacher": teachers["a"].pk, "value": "九十"})
    assert r.status_code == 400 and r.json()["value"] == ["请输入数字。"]
    # a principal may not propose
    assert post(principal, {"indicator": ethics.pk, "teacher": teachers["a"].pk, "value": "100"}).status_code == 403
    assert not Correction.objects.exists()
    # the bureau names the teacher (the school is the teacher's): 201, pending
    r = post(bureau_staff, {"indicator": ethics.pk, "teacher": teachers["a"].pk, "value": "100"})
    assert r.status_code == 201, r.content
    assert r.json()["values"] == [
        {"indicator": ethics.pk, "school": member_school.pk, "teacher": teachers["a"].pk, "value": "100"}
    ]
    # the second bureau user approves: revision 2, the teacher's result recomputed
    r = api_as(second_bureau_staff).post(url + "approve-correction/")
    assert r.status_code == 200 and r.json()["revision"] == 2
    assert PersonResult.objects.get(period=period, teacher=teachers["a"]).score == D("20.00")


def test_the_admin_proposes_a_teachers_correction_by_the_teachers_name(
    published_teachers, bureau_staff, second_bureau_staff, teachers, member_school, other_school
):
    period, ethics = published_teachers
    add = reverse("admin:evaluation_correction_add")
    client = Client()
    client.force_login(bureau_staff)
    a = member_school.code
    # three parts are not enough for a teachers' period; a teacher the school does not have is named
    r = client.post(add, {"period": period.pk, "reason": "漏计", "lines": f"ethics, {a}, 100"})
    assert r.status_code == 200 and "the teacher and the value" in r.content.decode()
    r = client.post(add, {"period": period.pk, "reason": "漏计", "lines": f"ethics, {other_school.code}, 张老师, 100"})
    assert r.status_code == 200 and "has no teacher" in r.content.decode()
    assert not Correction.objects.exists()
    # by the teacher's name at its school: proposed; its page shows the teacher
    r = client.post(add, {"period": period.pk, "reason": "漏计", "lines": f"ethics，{a}，张老师，100"})
    assert r.status_code == 302
    correction = Correction.objects.get()
    assert correction.values == [
        {"indicator": ethics.pk, "school": member_school.pk, "teacher": teachers["a"].pk, "value": "100"}
    ]
    page = client.get(reverse("admin:evaluation_correction_change", args=[correction.pk])).content.decode()
    assert f"ethics · {a} {member_school.name} · 张老师: 100" in page
    # the second user approves from the list
    second = Client()
    second.force_login(second_bureau_staff)
    changelist = reverse("admin:evaluation_correction_changelist")
    second.post(changelist, {"action": "approve", "_selected_action": [correction.pk]})
    assert PersonResult.objects.get(period=period, teacher=teachers["a"]).score == D("20.00")
