"""Every portal page opens for each demo login on the demo county (``load_demo``)."""

from __future__ import annotations

import pytest
from django.test import Client

from alliance.models import User

pytestmark = pytest.mark.django_db


def pages_of(client: Client, home: str) -> list[str]:
    """The links of the page's navigation and main part that stay in the portal."""
    import re

    links = re.findall(r'href="(/[^"]*)"', home)
    # (a report's download is a file, not a page: tests/test_reports_*.py open them)
    downloads = (".csv", ".xlsx")
    return sorted(
        {u for u in links if not u.startswith(("/admin/", "/static/")) and not u.split("?")[0].endswith(downloads)}
    )


@pytest.mark.parametrize(
    ("username", "reached"),
    [
        ("demo-member", {"/exchanges/", "/spending/", "/result/", "/reports/"}),
        ("demo-lead", {"/exchanges/", "/spending/", "/result/", "/alliance/", "/reports/"}),
        ("demo-assessor", set()),
        ("demo-bureau", {"/reports/"}),
        ("demo-auditor", {"/overview/"}),  # its home is the reports page
        # the further demo counties (issue 15)
        ("baihe-bureau", set()),
        ("baihe-lead", {"/result/", "/alliance/"}),
        ("baihe-assessor", set()),
        ("hetang-supervisor", set()),
        ("hetang-lead", {"/alliance/"}),
        ("hetang-member", set()),
        # the Tianxin-like district (seed 001): a group lead, a trusteed school's stationed principal
        ("tianxin-lead", {"/alliance/"}),
        ("tianxin-member", set()),
        ("tianxin-bureau", set()),
    ],
)
def test_every_page_a_demo_login_reaches_opens(loaded_once, db, username, reached):
    # given a demo login on its home
    client = Client()
    client.force_login(User.objects.get(username=username))
    # (the auditors' home is the reports page: "/" leads there)
    home = client.get("/", follow=True)
    assert home.status_code == 200
    seen = {"/"}
    todo = pages_of(client, home.content.decode())
    # when it follows every link of the portal, two levels deep
    for _level in range(2):
        found = []
        for url in todo:
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url, follow=True)
            # then every page opens
            assert response.status_code == 200, url
            if response["Content-Type"].startswith("text/html"):  # a download (a template) has no links
                found += pages_of(client, response.content.decode())
        todo = found
    assert reached <= seen, seen
