"""Sessions, CSRF and login lockout, through the portal's login at /login/ and the API.

The portal's login is /login/ and its logout /logout/ (POST) for every role; the admin is at /admin/.
The API takes session cookies (then CSRF applies) and tokens from /api/auth/token/ (then it
does not). django-axes locks an account after AXES_FAILURE_LIMIT failures from one address.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import SchoolFactory

PASSWORD = "pw-for-tests-123"  # UserFactory's
LOGIN = "/login/"
LOGOUT = "/logout/"
SCHOOLS = "/api/v1/schools/"
TOKEN = "/api/auth/token/"

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/"}, **extra)


def session_cookie(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie else None


def csrf_token(client: Client, path: str = LOGIN) -> str:
    client.get(path)
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def new_school(county) -> dict:
    return {
        "county": county.pk, "code": "N001", "name": "新建小学", "stage": "primary",
        "location": "rural", "strength": "new", "students": 120, "teachers": 12, "classes": 6,
    }  # fmt: skip


# --- Session lifecycle ---


def test_login_rotates_the_session_id(client, bureau_staff):
    # given an anonymous visitor who already has a session (e.g. a language choice)
    store = SessionStore()
    store["visited"] = True
    store.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key

    # when they log in
    response = login(client, "bureau")

    # then the session id is a new one and the old one is gone from the server
    assert response.status_code == 302
    new_key = session_cookie(client)
    assert new_key and new_key != store.session_key
    assert not Session.objects.filter(session_key=store.session_key).exists()
    assert Session.objects.filter(session_key=new_key).exists()
    assert client.get("/").status_code == 200


def test_logout_ends_the_server_session_and_the_old_cookie_no_longer_works(client, bureau_staff):
    # given a logged-in user whose cookie we keep
    assert login(client, "bureau").status_code == 302
    old_key = session_cookie(client)
    assert client.get("/").status_code == 200

    # when they log out through the portal
    assert client.post(LOGOUT).status_code == 200

    # then the session row is gone and replaying the old cookie is anonymous
    assert not Session.objects.filter(session_key=old_key).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert replay.get("/").status_code == 302
    assert replay.get(SCHOOLS).status_code == 403


def test_api_logout_ends_the_server_session(bureau_staff):
    # given a session login made through the API's login page
    api = APIClient()
    assert api.post("/api/auth/login/", {"username": "bureau", "password": PASSWORD}).status_code == 302
    old_key = session_cookie(api)
    assert api.get(SCHOOLS).status_code == 200

    # when they log out
    api.post("/api/auth/logout/")

    # then the server forgot the session
    assert not Session.objects.filter(session_key=old_key).exists()
    replay = APIClient()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert replay.get(SCHOOLS).status_code == 403


def test_a_deactivated_users_session_stops_working_in_admin_and_api(client, bureau_staff, lead_school):
    # given a logged-in user
    assert login(client, "bureau").status_code == 302
    assert client.get("/").status_code == 200
    assert client.get(SCHOOLS).status_code == 200

    # when the account is deactivated while the session lives on
    bureau_staff.is_active = False
    bureau_staff.save(update_fields=["is_active"])

    # then the same cookie opens nothing
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(SCHOOLS).status_code == 403
    assert client.get(f"/admin/alliance/school/{lead_school.pk}/change/").status_code == 302


def test_a_deactivated_users_token_is_refused(bureau_staff):
    # given a token of an active user
    token = Token.objects.create(user=bureau_staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(SCHOOLS).status_code == 200

    # when the account is deactivated
    bureau_staff.is_active = False
    bureau_staff.save(update_fields=["is_active"])

    # then the token authenticates no more (403, not 401: the first authenticator, the
    # session one, sends no WWW-Authenticate challenge)
    response = api.get(SCHOOLS)
    assert response.status_code == 403
    assert response.data["detail"].code == "authentication_failed"


def test_the_session_expires_after_inactivity(client, bureau_staff):
    # given a logged-in user
    assert login(client, "bureau").status_code == 302
    key = session_cookie(client)

    # when the inactivity period has passed since the last request
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))

    # then the cookie no longer authenticates
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(SCHOOLS).status_code == 403


def test_each_request_pushes_the_expiry_forward(client, bureau_staff):
    # given a session one minute from expiring
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert login(client, "bureau").status_code == 302
    key = session_cookie(client)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + timedelta(minutes=1))

    # when the user does something
    before = timezone.now()
    assert client.get("/").status_code == 200

    # then the session lives a full SESSION_COOKIE_AGE from now
    expiry = Session.objects.get(session_key=key).expire_date
    assert expiry >= before + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert settings.SESSION_COOKIE_AGE <= 60 * 60  # an inactivity timeout, not a day-long cookie


# --- CSRF ---


def test_the_login_form_refuses_a_post_without_the_csrf_token(bureau_staff):
    # given a browser that fetched the login page (and so has the CSRF cookie)
    browser = Client(enforce_csrf_checks=True)
    token = csrf_token(browser)

    # when the form is posted without the token, then refused, nobody logged in
    response = login(browser, "bureau")
    assert response.status_code == 403
    assert session_cookie(browser) is None

    # when the same form carries the token, then it logs in
    response = browser.post(LOGIN, {"username": "bureau", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert browser.get("/").status_code == 200


def test_admin_writes_with_a_session_need_the_csrf_token(bureau_staff, county):
    # given a logged-in browser that enforces CSRF
    browser = Client(enforce_csrf_checks=True)
    token = csrf_token(browser)
    browser.post(LOGIN, {"username": "bureau", "password": PASSWORD, "csrfmiddlewaretoken": token})
    token = csrf_token(browser, "/admin/alliance/school/add/")  # login rotates the token
    data = {**new_school(county), "county": county.pk}

    # when an add form is posted without the token, then refused and nothing written
    assert browser.post("/admin/alliance/school/add/", data).status_code == 403
    assert browser.post(LOGOUT).status_code == 403

    # when with the token, then it goes through
    response = browser.post("/admin/alliance/school/add/", {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content[:2000]
    assert county.schools.filter(code="N001").exists()


def test_api_writes_with_a_session_cookie_need_the_csrf_token(bureau_staff, county):
    # given an API client logged in by session cookie, enforcing CSRF, and a school to edit
    school = SchoolFactory(county=county, code="E001", students=100)
    api = APIClient(enforce_csrf_checks=True)
    api.get("/api/auth/login/")
    token = api.cookies[settings.CSRF_COOKIE_NAME].value
    api.post("/api/auth/login/", {"username": "bureau", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert api.get(SCHOOLS).status_code == 200
    token = api.cookies[settings.CSRF_COOKIE_NAME].value  # login rotates it
    url = f"{SCHOOLS}{school.pk}/"

    # when it POSTs / PUTs / PATCHes / DELETEs without the token, then 403 and nothing written
    assert api.post(SCHOOLS, new_school(county), format="json").status_code == 403
    assert api.put(url, {**new_school(county), "code": "E001"}, format="json").status_code == 403
    assert api.patch(url, {"students": 130}, format="json").status_code == 403
    assert api.delete(url).status_code == 403
    assert not county.schools.filter(code="N001").exists()
    school.refresh_from_db()
    assert school.students == 100

    # when with the X-CSRFToken header, then the request reaches the view
    response = api.patch(url, {"students": 130}, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200, response.json()
    school.refresh_from_db()
    assert school.students == 130
    assert api.delete(url, HTTP_X_CSRFTOKEN=token).status_code == 204
    # and a session logout is an unsafe request too
    assert api.post("/api/auth/logout/").status_code == 403
    assert api.post("/api/auth/logout/", HTTP_X_CSRFTOKEN=token).status_code in (200, 302)
    assert api.get(SCHOOLS).status_code == 403


def test_token_authenticated_api_writes_need_no_csrf(bureau_staff, county):
    # given a token from the token endpoint (no session, so no CSRF cookie)
    school = SchoolFactory(county=county, code="E001", students=100)
    api = APIClient(enforce_csrf_checks=True)
    response = api.post(TOKEN, {"username": "bureau", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert settings.CSRF_COOKIE_NAME not in api.cookies

    # when it writes, then CSRF does not apply
    response = api.patch(f"{SCHOOLS}{school.pk}/", {"students": 130}, format="json")
    assert response.status_code == 200, response.json()
    school.refresh_from_db()
    assert school.students == 130
    assert api.delete(f"{SCHOOLS}{school.pk}/").status_code == 204


# --- Lockout (django-axes) ---


def fail(client: Client, username: str, times: int, **extra) -> None:
    for attempt in range(1, times + 1):
        response = login(client, username, "wrong-password", **extra)
        # The form again with an error; the failure that reaches the limit gets the lockout page.
        assert response.status_code == (429 if attempt >= settings.AXES_FAILURE_LIMIT else 200)


def test_the_sixth_attempt_is_refused_even_with_the_right_password(client, bureau_staff):
    # given five failed logins from one address
    assert settings.AXES_FAILURE_LIMIT == 5
    fail(client, "bureau", 5)

    # when the right password comes next
    response = login(client, "bureau")

    # then the account is locked for that address
    assert response.status_code == 429
    assert session_cookie(client) is None
    assert client.get("/").status_code == 302


def test_four_failures_do_not_lock(client, bureau_staff):
    # given four failed logins
    fail(client, "bureau", 4)

    # when the right password comes, then it logs in
    assert login(client, "bureau").status_code == 302
    assert client.get("/").status_code == 200


def test_the_lockout_is_per_account_and_address(client, bureau_staff, second_bureau_staff):
    # given "bureau" locked from 127.0.0.1
    fail(client, "bureau", 5)
    assert login(client, "bureau").status_code == 429

    # then another account from the same address still logs in
    assert login(Client(), "bureau2").status_code == 302
    # and the same account from another address still logs in
    assert login(Client(), "bureau", REMOTE_ADDR="10.1.2.3").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lockout(client, bureau_staff):
    # given a lockout from 127.0.0.1 with no trusted proxy configured
    assert settings.TRUSTED_PROXY_COUNT == 0
    fail(client, "bureau", 5)

    # when the client claims another address in X-Forwarded-For
    response = login(client, "bureau", HTTP_X_FORWARDED_FOR="203.0.113.9")

    # then it is still locked
    assert response.status_code == 429


def test_token_login_counts_failures_and_is_locked_too(bureau_staff):
    api = APIClient()
    # given five failed token requests
    for _ in range(5):
        response = api.post(TOKEN, {"username": "bureau", "password": "wrong"}, format="json")
        assert response.status_code in (400, 429)
        assert "token" not in response.json()

    # when the right password comes next, then no token is issued
    response = api.post(TOKEN, {"username": "bureau", "password": PASSWORD}, format="json")
    assert response.status_code in (400, 429)
    assert "token" not in response.json()
    assert not Token.objects.filter(user=bureau_staff).exists()

    # and the admin login of the same account from the same address is locked as well
    assert login(Client(), "bureau").status_code == 429
    # while another address still gets its token
    other = api.post(TOKEN, {"username": "bureau", "password": PASSWORD}, format="json", REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200 and other.json()["token"]
