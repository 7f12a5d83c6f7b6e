"""The portal tests' shared pieces: a valid PDF and PNG for uploads, a signed-in test client and a
period under public notice."""

from __future__ import annotations

import pytest
from django.test import Client

from evaluation import services as evaluation_services

from .factories_evaluation import enter

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def signed_in(user) -> Client:
    """A test client signed in as ``user`` (no password needed)."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def proposed(bureau_staff, year_period, simple_rubric, eval_schools, open_year):
    """County X's year period under public notice; school A scored 50 quality, 75 care."""
    for key, (q, c) in {"lead": (100, 50), "a": (50, 75), "other_lead": (100, 75), "b": (50, 25)}.items():
        enter(bureau_staff, year_period, simple_rubric, eval_schools[key], quality=q, care=c)
    return evaluation_services.publication_propose(actor=bureau_staff, period=year_period)
