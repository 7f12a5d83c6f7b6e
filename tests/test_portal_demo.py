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
        ("demo-member", {"/exchanges/", "/spending/", "/result/", "/reports/", "/people/"}),
        ("demo-lead", {"/exchanges/", "/spending/", "/result/", "/alliance/", "/reports/", "/people/"}),
        ("demo-assessor", set()),
        ("demo-bureau", {"/reports/", "/people/"}),
        ("demo-auditor", {"/overview/", "/people/"}),  # its home is the reports page
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


def test_the_demo_bureau_reads_its_principals_results_page_by_page(loaded_once, db):
    # given the demo county's principals' year (computed, not yet proposed: the bureau's working figures)
    import re

    client = Client()
    client.force_login(User.objects.get(username="demo-bureau"))
    # when the bureau opens the list of people's results
    page = client.get("/people/").content.decode()
    # then it lists the principals' results, and each one's page opens
    found = re.findall(r'href="(/people/\d+/)"', page)
    assert found
    for url in found[:5]:
        assert client.get(url).status_code == 200, url
    # and a school's principal reads none of them before the bureau proposes them
    member = Client()
    member.force_login(User.objects.get(username="demo-member"))
    assert not re.findall(r'href="(/people/\d+/)"', member.get("/people/").content.decode())
