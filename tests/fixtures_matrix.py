"""Rows of the later apps for the permission matrix's world (tests/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile

from staffing.models import ActivityAttachment

from .factories_staffing import (
    ActivityFactory,
    ExchangeFactory,
    MentorMeetingFactory,
    MentorPairFactory,
    TeacherFactory,
)


def extend(w: Any) -> None:
    """Adds each app's A-side and B-side rows to the world."""
    _staffing(w)


def _staffing(w: Any) -> None:
    w.teacher = TeacherFactory(school=w.member_school, name="张老师")
    w.spare_teacher = TeacherFactory(school=w.member_school, name="李老师")
    w.lead_teacher = TeacherFactory(school=w.lead_school, name="王老师")
    w.other_teacher = TeacherFactory(school=w.other_school, name="赵老师")
    w.other_lead_teacher = TeacherFactory(school=w.other_lead_school, name="钱老师")
    w.exchange = ExchangeFactory(teacher=w.teacher, hosts=[w.lead_school], logged_by=w.principal, kind="shadowing")
    w.other_exchange = ExchangeFactory(teacher=w.other_teacher, hosts=[w.other_lead_school], kind="shadowing")
    w.mentor_pair = MentorPairFactory(mentor=w.lead_teacher, mentee=w.teacher)
    w.other_mentor_pair = MentorPairFactory(mentor=w.other_lead_teacher, mentee=w.other_teacher)
    w.mentor_meeting = MentorMeetingFactory(pair=w.mentor_pair)
    w.other_mentor_meeting = MentorMeetingFactory(pair=w.other_mentor_pair)
    w.activity = ActivityFactory(host_school=w.member_school, date=dt.date(2025, 10, 15))
    w.activity.schools.add(w.lead_school)
    w.other_activity = ActivityFactory(host_school=w.other_school)
    w.attachment = ActivityAttachment.objects.create(
        activity=w.activity, file=ContentFile(b"sign-in", name="sign-in.txt"), caption="签到"
    )
    w.other_attachment = ActivityAttachment.objects.create(
        activity=w.other_activity, file=ContentFile(b"photo", name="photo.txt"), caption="照片"
    )
