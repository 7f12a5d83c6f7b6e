"""The admin of a cross-county programme's exchanges and meetings: a bureau user of a programme
county is offered, beside its own county's schools, the partner county's schools its schools are
paired with in a programme, and nothing else of the other county (the choices and the refusal
come from ``access.narrow_related(kind="partners")``; the rule itself is the services').

County Y (``other_bureau_staff``) helps county X: ``foreign_school`` (Y) helps
``member_school`` (X); ``other_school`` is another school of X, paired with nothing."""

import pytest
from django.urls import reverse

from staffing.models import Activity, Exchange

from .factories import SchoolFactory
from .factories_staffing import TeacherFactory
from .test_staffing_admin import exchange_form


@pytest.fixture
def helper_teacher(foreign_school):
    return TeacherFactory(school=foreign_school, name="支教老师")


def choices(response, formset_index=0, field="school"):
    form = response.context["inline_admin_formsets"][formset_index].formset.empty_form
    return set(form.fields[field].queryset)


def test_the_exchange_host_choices_are_the_county_and_its_programme_partners(
    client, other_bureau_staff, programme_pairing, foreign_school, member_school, other_school
):
    # when county Y's bureau opens the admin's new exchange
    client.force_login(other_bureau_staff)
    response = client.get(reverse("admin:staffing_exchange_add"))
    # then the hosts offered are Y's schools and X's school paired with one of them, no other of X
    assert response.status_code == 200
    offered = choices(response)
    assert {foreign_school, member_school} <= offered
    assert other_school not in offered


def test_a_bureau_user_adds_an_exchange_hosted_at_the_partner_school(
    client, other_bureau_staff, programme, programme_pairing, helper_teacher, member_school
):
    # when county Y's bureau posts its teacher's exchange hosted at county X's partner school
    client.force_login(other_bureau_staff)
    response = client.post(reverse("admin:staffing_exchange_add"), exchange_form(helper_teacher, [member_school]))
    # then it is saved through the service, in the programme
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    exchange = Exchange.objects.get()
    assert list(exchange.host_schools.all()) == [member_school]
    assert exchange.programme == programme


def test_the_other_countys_unpaired_school_is_refused_as_a_host(
    client, other_bureau_staff, programme_pairing, helper_teacher, other_school
):
    # when county Y's bureau posts an exchange hosted at a school of X its schools are not paired with
    client.force_login(other_bureau_staff)
    response = client.post(reverse("admin:staffing_exchange_add"), exchange_form(helper_teacher, [other_school]))
    # then the inline refuses the choice and nothing is written
    assert response.status_code == 200
    host_errors = response.context["inline_admin_formsets"][0].formset.errors
    assert host_errors and "school" in host_errors[0]
    assert not Exchange.objects.exists()


def test_the_partner_bureau_is_offered_the_helper_school_too(
    client, bureau_staff, programme_pairing, foreign_school, member_school, other_county
):
    # given another school of county Y, paired with nothing
    stranger = SchoolFactory(county=other_county, code="Y777")
    # when county X's bureau opens the admin's new exchange
    client.force_login(bureau_staff)
    offered = choices(client.get(reverse("admin:staffing_exchange_add")))
    # then Y's helper school is offered, Y's other school is not
    assert {foreign_school, member_school} <= offered
    assert stranger not in offered


def meeting_form(programme, host, schools, **kw):
    data = {
        "kind": Activity.Kind.PROGRAMME_TERM_MEETING,
        "date": "2025-10-20",
        "host_school": str(host.pk),
        "schools": [str(s.pk) for s in schools],
        "title": "帮扶学期工作会",
        "person_times": "12",
        "programme": str(programme.pk),
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
    }
    data.update(kw)
    return data


def test_a_programme_meeting_involves_the_partner_school_and_no_other(
    client, other_bureau_staff, programme, programme_pairing, foreign_school, member_school, other_school
):
    client.force_login(other_bureau_staff)
    url = reverse("admin:staffing_activity_add")
    # given the admin's new activity offers the partner school, not X's other school
    offered = set(client.get(url).context["adminform"].form.fields["schools"].queryset)
    assert member_school in offered and other_school not in offered
    # when Y's bureau posts the programme's term meeting with X's other school, then it is refused
    response = client.post(url, meeting_form(programme, foreign_school, [foreign_school, other_school]))
    assert response.status_code == 200
    assert "schools" in response.context["adminform"].form.errors
    assert not Activity.objects.exists()
    # and with the partner school it is saved, in the programme, with both schools
    response = client.post(url, meeting_form(programme, foreign_school, [foreign_school, member_school]))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    meeting = Activity.objects.get()
    assert (meeting.programme, set(meeting.schools.all())) == (programme, {foreign_school, member_school})
