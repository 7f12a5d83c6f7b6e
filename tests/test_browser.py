"""Real-browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

What a bureau user sees: the admin in Simplified Chinese by default, English on request, the
API documentation page working with nothing fetched from outside the portal, and a correction
of a published period proposed by one bureau user and approved by another.
"""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page

from alliance.access import Role

from .factories import SchoolFactory, UserFactory

PASSWORD = "pw-for-tests-123"  # UserFactory's

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_page(browser):
    contexts = []

    def make(locale: str = "zh-CN") -> Page:
        context = browser.new_context(locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def bureau_user(county):
    SchoolFactory(county=county, code="L001", name="实验小学")
    SchoolFactory(county=county, code="M001", name="东山小学")
    return UserFactory(username="bureau", county=county, role=Role.BUREAU)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def test_the_admin_speaks_chinese_by_default_and_english_on_request(live_server, open_page, bureau_user):
    # given a bureau user's browser set to Chinese
    page = open_page("zh-CN")

    # when they open the portal: the login page is in Simplified Chinese
    page.goto(f"{live_server.url}/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "县域校联体管理平台" in page.locator("#site-name").inner_text()
    assert page.locator("input[type=submit]").get_attribute("value") == "登录"

    # and after logging in, the schools list is in Chinese too
    log_in(page, live_server.url, "bureau")
    page.goto(f"{live_server.url}/admin/alliance/school/")
    assert page.locator("#content h1").inner_text() == "选择 学校 来修改"
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert "东山小学" in page.locator("#result_list").inner_text()

    # when they switch to English with the language form (a POST to /i18n/setlang/ with CSRF)
    with page.expect_navigation():
        page.evaluate(
            """() => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/i18n/setlang/';
            const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken=')).split('=')[1];
            for (const [name, value] of [['language', 'en'], ['next', '/admin/alliance/school/'],
                                         ['csrfmiddlewaretoken', token]]) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }"""
        )
    assert page.url == f"{live_server.url}/admin/alliance/school/"

    # then the same list is in English, and stays so on the next page
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#content h1").inner_text() == "Select school to change"
    page.goto(f"{live_server.url}/")
    assert "County school-alliance portal" in page.locator("#site-name").inner_text()


def test_an_english_browser_gets_english_and_an_unknown_language_gets_chinese(live_server, open_page, bureau_user):
    english = open_page("en-US")
    english.goto(f"{live_server.url}/login/")
    assert english.locator("html").get_attribute("lang") == "en"
    assert english.locator("input[type=submit]").get_attribute("value") == "Log in"

    # the portal's default language is Simplified Chinese, whatever else a browser asks for
    french = open_page("fr-FR")
    french.goto(f"{live_server.url}/login/")
    assert french.locator("html").get_attribute("lang") == "zh-hans"


def test_the_api_docs_page_works_without_any_outside_host(live_server, open_page, bureau_user):
    # given a logged-in bureau user, every request of the page recorded
    page = open_page("zh-CN")
    log_in(page, live_server.url, "bureau")
    requests: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))

    # when they open the API documentation
    page.goto(f"{live_server.url}/api/docs/")

    # then Swagger UI renders the schema with its operations
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    # Swagger UI renders what comes into view: scroll down the way a reader would, noting the
    # resource sections and operations that appear.
    tags: set[str] = set()
    operations: set[tuple[str, str]] = set()
    for _ in range(200):
        tags |= set(page.locator(".opblock-tag").evaluate_all("els => els.map(e => e.dataset.tag)"))
        operations |= {
            tuple(op)
            for op in page.locator(".opblock-summary").evaluate_all(
                "els => els.map(e => [e.querySelector('.opblock-summary-method').textContent,"
                " e.querySelector('.opblock-summary-path').dataset.path])"
            )
        }
        if page.evaluate("window.innerHeight + window.scrollY >= document.body.scrollHeight - 2"):
            break
        # Less than the viewport's height (720 px), so that every section comes into view
        # whatever the fonts make the page's height (with CJK fonts, 1200 px skipped one).
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    assert {"schools", "alliances", "pairings", "teachers", "exchanges"} <= tags, tags
    assert {("GET", "/api/v1/schools/"), ("POST", "/api/v1/schools/"), ("POST", "/api/auth/token/")} <= operations
    assert len(operations) >= 40, operations
    assert "County school-alliance portal API" in page.locator(".swagger-ui .info .title").inner_text()

    # and every request went to the portal itself, and all of them succeeded
    page.wait_for_load_state("networkidle")
    host = urlparse(live_server.url).netloc
    web = [u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert any(u.endswith("/api/schema/") for u in web), web
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in u for u in web), web
    assert [u for u in web if urlparse(u).netloc != host] == []
    assert failed == []


def approve_the_first_row(page: Page) -> None:
    """On an admin change list: tick the first row and run the "approve" action."""
    page.check("#result_list input.action-select")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    page.wait_for_load_state()


def test_four_eyes_on_a_correction_in_the_admin(live_server, open_page, published, eval_schools):
    """Four eyes on a correction, as the bureau does it: one user fills in the admin form, the
    same user's approval is refused with the reason, a second user's publishes revision 2."""
    from evaluation.models import Publication, SchoolResult

    b = eval_schools["b"]
    page = open_page("zh-CN")
    log_in(page, live_server.url, "bureau")
    # when the first bureau user proposes a correction of school B's quality value
    page.goto(f"{live_server.url}/admin/evaluation/correction/add/")
    page.select_option("#id_period", str(published.pk))
    page.fill("#id_reason", "阅卷错误")
    page.fill("#id_lines", f"quality，{b.code}，100")
    page.click("input[name=_save]")
    page.wait_for_load_state()
    # then it waits for approval
    assert "待审核" in page.locator("#result_list").inner_text()
    # and the same user's approval is refused, with the reason, in Chinese
    approve_the_first_row(page)
    assert "须由另一位教育局人员审核" in page.locator(".messagelist").inner_text()
    assert Publication.objects.filter(period=published).count() == 1

    # when a second bureau user approves it
    second = open_page("zh-CN")
    log_in(second, live_server.url, "bureau2")
    second.goto(f"{live_server.url}/admin/evaluation/correction/")
    approve_the_first_row(second)
    # then revision 2 is published with the corrected value
    assert "1 条更正中 1 条已批准并作为新修订版发布" in second.locator(".messagelist").inner_text()
    assert Publication.objects.filter(period=published).count() == 2
    assert str(SchoolResult.objects.get(period=published, school=b).own_total) == "70.00"
