"""Headers: a Content-Security-Policy of the portal's own origin on every kind of page, with the
one documented exception (inline styles and data: images on the API docs page); the schema and
the docs only for signed-in users."""

from __future__ import annotations

import re

import pytest
from django.test import Client


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def _assert_strict(policy: dict[str, list[str]], *, docs: bool = False) -> None:
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for directive, sources in policy.items():
        assert "'unsafe-eval'" not in sources, directive
        assert not [s for s in sources if s.startswith(("http:", "https:", "*"))], (directive, sources)
        if not (docs and directive == "style-src"):
            assert "'unsafe-inline'" not in sources, directive
    if docs:
        assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    else:
        assert policy["style-src"] == ["'self'"]
        assert policy["img-src"] == ["'self'"]


# An executable inline <script> (not one with src=, not a JSON data block) or a style="" attribute.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=\"", re.I)


@pytest.fixture
def signed_in(bureau_staff, member_school):
    client = Client()
    client.force_login(bureau_staff)
    return client


@pytest.mark.django_db
def test_every_kind_of_page_carries_the_strict_policy(signed_in, member_school):
    pages = {
        "admin index": "/",
        "admin change list": "/admin/alliance/school/",
        "admin change form": f"/admin/alliance/school/{member_school.pk}/change/",
        "admin add form": "/admin/alliance/school/add/",
        "API JSON": "/api/v1/schools/",
        "API error": "/api/v1/nope/",
    }
    for kind, url in pages.items():
        response = signed_in.get(url)
        assert response.status_code in (200, 404), (kind, response.status_code)
        _assert_strict(_policy(response))
        if response["Content-Type"].startswith("text/html"):
            html = response.content.decode()
            # then the page needs no exception: nothing inline that the policy would block
            assert not INLINE_SCRIPT.search(html), (kind, INLINE_SCRIPT.search(html).group())
            assert not INLINE_STYLE.search(html), (kind, INLINE_STYLE.search(html).group())


@pytest.mark.django_db
def test_the_login_page_carries_the_strict_policy():
    response = Client().get("/login/")
    assert response.status_code == 200
    _assert_strict(_policy(response))
    assert not INLINE_SCRIPT.search(response.content.decode())
    assert not INLINE_STYLE.search(response.content.decode())


@pytest.mark.django_db
def test_the_api_docs_page_is_the_one_exception(signed_in):
    response = signed_in.get("/api/docs/")
    assert response.status_code == 200
    _assert_strict(_policy(response), docs=True)
    assert _policy(response)["img-src"] == ["'self'", "data:"]
    html = response.content.decode()
    # its script is a file of the portal, not inline
    assert not INLINE_SCRIPT.search(html)
    script = re.search(r'<script src="(/api/docs/\?[^"]+)"', html).group(1)
    served = signed_in.get(script.replace("&amp;", "&"))
    assert served.status_code == 200
    assert "SwaggerUIBundle" in served.content.decode()


@pytest.mark.django_db
def test_the_schema_and_docs_need_a_signed_in_user(signed_in):
    anonymous = Client()
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 302 and "login" in docs["Location"]
    schema = anonymous.get("/api/schema/")
    assert schema.status_code in (401, 403)
    assert schema["Content-Type"].startswith("application/json")
    assert signed_in.get("/api/schema/").status_code == 200
