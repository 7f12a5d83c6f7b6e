"""Fixtures for the staffing tests: a teacher at each of school A, school B and the lead
school (see tests/conftest.py for the schools and users)."""

import pytest

from .factories_staffing import TeacherFactory


@pytest.fixture
def teacher(member_school):
    """A teacher of school A."""
    return TeacherFactory(school=member_school, name="王老师")


@pytest.fixture
def lead_teacher(lead_school):
    return TeacherFactory(school=lead_school, name="李老师", is_key_teacher=True)


@pytest.fixture
def other_teacher(other_school):
    """A teacher of school B."""
    return TeacherFactory(school=other_school, name="赵老师")
