"""Corrections of a published period, with four eyes: one bureau user proposes (with the reason
and the corrected values, checked at once), nothing changes until a different bureau user
approves, and the approval books a new published revision that reverses the last one's award
entry. Through the services, the API and the admin."""

from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from evaluation import services
from evaluation.models import Correction, Indicator, IndicatorValue, Publication, SchoolResult
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
