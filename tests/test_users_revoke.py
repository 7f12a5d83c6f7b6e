"""A password change or a deactivation ends every API token and session of the user, for good:
reactivating the account brings none of them back."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def _signed_in(user):
    """A token and a browser session of the user."""
    token = Token.objects.create(user=user)
    browser = Client()
    browser.force_login(user)
    return token, browser


def _token_works(token) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client.get("/api/v1/schools/").status_code == 200


def _session_works(browser) -> bool:
    return browser.get("/admin/alliance/school/").status_code == 200


@pytest.mark.django_db
def test_a_password_change_revokes_tokens_and_sessions(principal):
    token, browser = _signed_in(principal)
    assert _token_works(token) and _session_works(browser)
    principal.set_password("a-new-password-456")
    principal.save()
    assert not Token.objects.filter(user=principal).exists()
    assert not _token_works(token)
    assert not _session_works(browser)


@pytest.mark.django_db
def test_a_deactivation_revokes_them_for_good(principal):
    token, browser = _signed_in(principal)
    principal.is_active = False
    principal.save()
    # reactivated later: neither the old token nor the old session signs in again
    principal.is_active = True
    principal.save()
    assert not _token_works(token)
    assert not _session_works(browser)
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(principal.pk)]


@pytest.mark.django_db
def test_other_users_and_other_saves_keep_their_logins(principal, auditor):
    token, _browser = _signed_in(principal)
    other_token, other_browser = _signed_in(auditor)
    principal.first_name = "张"
    principal.save()
    principal.is_active = False
    principal.save()
    assert _token_works(other_token) and _session_works(other_browser)
    assert not _token_works(token)


@pytest.mark.django_db
def test_a_deactivation_in_the_admin_revokes(client, bureau_staff, principal):
    _token, browser = _signed_in(principal)
    client.force_login(bureau_staff)
    response = client.get(f"/admin/alliance/user/{principal.pk}/change/")
    form = response.context["adminform"].form
    data = {n: form[n].value() for n in form.fields if form[n].value() not in (None, False, True)}
    data["is_staff"] = "on"
    data.pop("is_active", None)
    data["groups"] = list(principal.groups.values_list("pk", flat=True))
    data["date_joined_0"], data["date_joined_1"] = "2025-01-01", "00:00:00"
    response = client.post(f"/admin/alliance/user/{principal.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    principal.refresh_from_db()
    assert not principal.is_active
    assert not Token.objects.filter(user=principal).exists()
    assert not _session_works(browser)
