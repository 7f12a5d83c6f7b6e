"""The staffing rules, through the services and the database itself."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from staffing import services
from staffing.models import Exchange, MentorMeeting, MentorPair

from .factories import SchoolFactory
from .factories_staffing import ExchangeFactory, TeacherFactory

SEPT = dt.date(2025, 9, 1)
JAN = dt.date(2026, 1, 20)


def create(actor, teacher, hosts, **kw):
    fields = {"kind": Exchange.Kind.DISPATCHED, "start_date": SEPT, "end_date": JAN, "subject": "math"}
    fields.update(kw)
    return services.exchange_create(
        actor=actor, teacher=teacher, origin_school=teacher.school, host_schools=hosts, **fields
    )


def test_exchange_create_saves_hosts_and_plans(lead_principal, lead_teacher, member_school):
    # given a lead-school teacher dispatched to a member school
    # when the lead principal logs it
    exchange = create(lead_principal, lead_teacher, [member_school])
    # then it is planned, logged by the principal, with its host and not cross-alliance
    assert exchange.status == Exchange.Status.PLANNED
    assert exchange.logged_by == lead_principal
    assert list(exchange.host_schools.all()) == [member_school]
    assert exchange.cross_alliance is False


def test_overlapping_posting_is_refused_with_a_message(lead_principal, lead_teacher, member_school, other_school):
    # given a planned posting for the autumn term
    create(lead_principal, lead_teacher, [member_school])
    # when a second posting for the same teacher overlaps by one day
    with pytest.raises(ValidationError) as err, translation.override("en"):
        create(lead_principal, lead_teacher, [other_school], start_date=JAN, end_date=dt.date(2026, 3, 1))
    # then the user learns why, and nothing more is written
    assert "start_date" in err.value.message_dict
    with translation.override("en"):
        assert "already has another exchange" in err.value.message_dict["start_date"][0]
    assert Exchange.objects.count() == 1


def test_overlap_message_is_in_chinese_by_default(lead_principal, lead_teacher, member_school):
    create(lead_principal, lead_teacher, [member_school])
    with pytest.raises(ValidationError) as err, translation.override("zh-hans"):
        create(lead_principal, lead_teacher, [member_school])
    with translation.override("zh-hans"):
        assert "该教师在此期间已有其他交流安排" in err.value.message_dict["start_date"][0]


def test_adjacent_postings_and_events_do_not_clash(lead_principal, lead_teacher, member_school, other_school):
    # given an autumn posting
    create(lead_principal, lead_teacher, [member_school])
    # when the next posting starts the day after, and a one-day lesson delivery falls inside
    create(
        lead_principal,
        lead_teacher,
        [other_school],
        start_date=JAN + dt.timedelta(days=1),
        end_date=dt.date(2026, 7, 1),
    )
    create(
        lead_principal, lead_teacher, [other_school], kind=Exchange.Kind.LESSON_DELIVERY, start_date=SEPT, end_date=SEPT
    )
    # then all three exist
    assert Exchange.objects.count() == 3


def test_cancelled_posting_frees_the_dates(bureau_staff, lead_principal, lead_teacher, member_school):
    first = create(lead_principal, lead_teacher, [member_school])
    services.exchange_cancel(actor=bureau_staff, exchange=first, reason="教师病假")
    create(lead_principal, lead_teacher, [member_school])
    assert Exchange.objects.filter(status=Exchange.Status.PLANNED).count() == 1


def test_database_refuses_overlapping_insert_that_skips_validation(lead_teacher, member_school):
    # given a posting written directly
    ExchangeFactory(teacher=lead_teacher, hosts=[member_school])
    # when an overlapping one is inserted without any validation
    # then the exclusion constraint refuses it
    with pytest.raises(IntegrityError, match="exchange_no_overlapping_postings"), transaction.atomic():
        ExchangeFactory(teacher=lead_teacher, start_date=JAN, end_date=dt.date(2026, 2, 1))


def test_database_allows_overlapping_events_and_cancelled_rows(lead_teacher):
    ExchangeFactory(teacher=lead_teacher)
    ExchangeFactory(teacher=lead_teacher, kind=Exchange.Kind.ONLINE)
    ExchangeFactory(teacher=lead_teacher, status=Exchange.Status.CANCELLED)
    assert Exchange.objects.count() == 3


def test_end_before_start_is_refused(lead_principal, lead_teacher, member_school):
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [member_school], end_date=SEPT - dt.timedelta(days=1))
    assert "end_date" in err.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        ExchangeFactory(teacher=lead_teacher, end_date=SEPT - dt.timedelta(days=1))


def test_negative_weekly_periods_are_refused(lead_principal, lead_teacher, member_school):
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [member_school], weekly_periods=-1)
    assert "weekly_periods" in err.value.message_dict


def test_inactive_host_is_refused(lead_principal, lead_teacher, county):
    closed = SchoolFactory(county=county, active=False)
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [closed])
    assert "hosts" in err.value.message_dict
    assert Exchange.objects.count() == 0


def test_host_of_another_county_is_refused(lead_principal, lead_teacher, foreign_school):
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [foreign_school])
    assert "hosts" in err.value.message_dict


def test_origin_cannot_host(lead_principal, lead_teacher, lead_school):
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [lead_school])
    assert "hosts" in err.value.message_dict


def test_inactive_teacher_is_refused(lead_principal, lead_school, member_school):
    retired = TeacherFactory(school=lead_school, active=False)
    with pytest.raises(ValidationError) as err:
        create(lead_principal, retired, [member_school])
    assert "teacher" in err.value.message_dict


def test_only_itinerant_teaching_has_several_hosts(lead_principal, lead_teacher, member_school, other_school):
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [member_school, other_school])
    assert "hosts" in err.value.message_dict
    itinerant = create(lead_principal, lead_teacher, [member_school, other_school], kind=Exchange.Kind.ITINERANT)
    assert itinerant.host_schools.count() == 2


def test_exchange_needs_a_host(lead_principal, lead_teacher):
    with pytest.raises(ValidationError) as err:
        create(lead_principal, lead_teacher, [])
    assert "hosts" in err.value.message_dict


def test_cross_alliance_exchange_is_allowed_but_flagged(
    lead_principal, lead_teacher, member_school, other_school, other_alliance
):
    # given school B in another alliance than the lead school
    # when the lead school sends a teacher to B
    exchange = create(lead_principal, lead_teacher, [other_school])
    # then it is saved and flagged; a posting inside the alliance is not
    assert exchange.cross_alliance is True
    inside = create(
        lead_principal, lead_teacher, [member_school], start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 6, 30)
    )
    assert inside.cross_alliance is False


def test_cross_alliance_uses_the_school_year_of_the_start_date(lead_principal, lead_teacher, member_school):
    # given the alliance exists only for 2025/26
    # when a posting starts in 2027, when the two schools share no alliance
    exchange = create(
        lead_principal, lead_teacher, [member_school], start_date=dt.date(2027, 9, 1), end_date=dt.date(2027, 12, 1)
    )
    # then it is flagged
    assert exchange.cross_alliance is True


def test_principal_cannot_log_for_another_school(principal, other_teacher, member_school):
    with pytest.raises(PermissionDenied):
        create(principal, other_teacher, [member_school])


def test_transitions_follow_the_workflow(bureau_staff, lead_principal, lead_teacher, member_school):
    exchange = create(lead_principal, lead_teacher, [member_school])
    # a planned exchange cannot start before approval
    with pytest.raises(ValidationError) as err:
        services.exchange_start(actor=lead_principal, exchange=exchange)
    assert "status" in err.value.message_dict
    approved = services.exchange_approve(actor=bureau_staff, exchange=exchange)
    assert (approved.status, approved.approved_by) == (Exchange.Status.APPROVED, bureau_staff)
    assert approved.approved_at is not None
    active = services.exchange_start(actor=lead_principal, exchange=approved)
    done = services.exchange_complete(actor=lead_principal, exchange=active)
    assert done.status == Exchange.Status.COMPLETED
    with pytest.raises(ValidationError):
        services.exchange_cancel(actor=bureau_staff, exchange=done, reason="x")
    with pytest.raises(ValidationError):
        services.exchange_update(actor=bureau_staff, exchange=done, weekly_periods=4)


def test_only_bureau_approves(principal, lead_principal, lead_teacher, member_school, other_bureau_staff):
    exchange = create(lead_principal, lead_teacher, [member_school])
    with pytest.raises(PermissionDenied):
        services.exchange_approve(actor=lead_principal, exchange=exchange)
    with pytest.raises(PermissionDenied):
        services.exchange_approve(actor=other_bureau_staff, exchange=exchange)
    exchange.refresh_from_db()
    assert exchange.status == Exchange.Status.PLANNED


def test_cancel_needs_a_reason(bureau_staff, lead_principal, lead_teacher, member_school):
    exchange = create(lead_principal, lead_teacher, [member_school])
    with pytest.raises(ValidationError) as err:
        services.exchange_cancel(actor=bureau_staff, exchange=exchange, reason="  ")
    assert "reason" in err.value.message_dict


def test_update_rechecks_overlap_and_hosts(lead_principal, lead_teacher, member_school, other_school):
    create(lead_principal, lead_teacher, [member_school])
    spring = create(
        lead_principal, lead_teacher, [member_school], start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 6, 30)
    )
    with pytest.raises(ValidationError) as err:
        services.exchange_update(actor=lead_principal, exchange=spring, start_date=JAN)
    assert "start_date" in err.value.message_dict
    moved = services.exchange_update(actor=lead_principal, exchange=spring, host_schools=[other_school])
    assert moved.cross_alliance is True
    assert list(moved.host_schools.all()) == [other_school]


def test_teacher_days_are_clipped_and_counted_by_status(lead_teacher, member_school):
    # given an approved posting of 10 days and a planned one
    ExchangeFactory(
        teacher=lead_teacher,
        status=Exchange.Status.APPROVED,
        start_date=dt.date(2025, 9, 1),
        end_date=dt.date(2025, 9, 10),
    )
    ExchangeFactory(teacher=lead_teacher, start_date=dt.date(2025, 10, 1), end_date=dt.date(2025, 10, 10))
    # when counted over a period that cuts the first one after 5 days
    days = Exchange.objects.teacher_days(dt.date(2025, 9, 6), dt.date(2025, 12, 31))
    # then only the approved one counts, clipped, inclusive
    assert days == 5


def test_mentor_pair_rules(lead_teacher, teacher, county):
    with pytest.raises(ValidationError) as err:
        MentorPair(mentor=lead_teacher, mentee=lead_teacher, start_date=SEPT).full_clean()
    assert "mentee" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        MentorPair(
            mentor=lead_teacher, mentee=teacher, start_date=SEPT, end_date=SEPT - dt.timedelta(days=1)
        ).full_clean()
    assert "end_date" in err.value.message_dict
    pair = MentorPair.objects.create(mentor=lead_teacher, mentee=teacher, start_date=SEPT, end_date=JAN)
    with pytest.raises(ValidationError) as err:
        MentorMeeting(pair=pair, date=JAN + dt.timedelta(days=1), kind=MentorMeeting.Kind.REVIEW).full_clean()
    assert "date" in err.value.message_dict
