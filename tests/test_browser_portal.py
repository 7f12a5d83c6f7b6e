"""The portal in a real browser: Debian's chromium driven by Playwright against the live server,
in Chinese, on a phone (375×812) and a desktop (1366×900).

A member principal logs an exchange (the wrong end date is refused beside the field), records
spending with a receipt and cannot open another school's page, logs an activity with a photo, a
mentoring meeting and a task's progress; an assessor fills one school's
grid; the bureau's overview shows its to-do counts and charts. On every page: nothing scrolls
sideways at 375 px and no request leaves the live server. Screenshots of the main pages go to
tests/output/screenshots/ (not committed).
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page

from alliance.models import Alliance, PairingTask
from evaluation.models import IndicatorValue, SchoolResult
from funding.models import SpendingRecord
from staffing.models import Activity, Exchange

from .factories import PairingFactory, PairingTaskFactory
from .factories_staffing import ActivityFactory, ExchangeFactory, MentorPairFactory, TeacherFactory
from .fixtures_portal import PDF

PASSWORD = "pw-for-tests-123"  # UserFactory's
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 900}
SHOTS = Path(__file__).parent / "output" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Visit:
    """A browser context in Chinese at one viewport, recording every request it makes."""

    def __init__(self, browser, base: str, viewport: dict[str, int]) -> None:
        self.base = base
        self.viewport = viewport
        self.context = browser.new_context(locale="zh-CN", viewport=viewport)
        self.context.set_default_timeout(15_000)
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page: Page = self.context.new_page()

    def go(self, path: str):
        response = self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state()
        return response

    def sign_in(self, username: str) -> None:
        self.go("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("input[type=submit]")

    def fits(self) -> None:
        """The page does not scroll sideways at this viewport's width."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.viewport["width"], f"{self.page.url} is {width}px wide"

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}-{self.viewport['width']}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def stayed_home(self) -> None:
        host = urlparse(self.base).netloc
        web = [u for u in self.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")]
        assert web, "no request recorded"
        assert [u for u in web if urlparse(u).netloc != host] == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, live_server):
    visits: list[Visit] = []

    def make(viewport=PHONE) -> Visit:
        v = Visit(browser, live_server.url, viewport)
        visits.append(v)
        return v

    yield make
    for v in visits:
        v.close()


def a_year_of_work(principal, teacher, lead_school):
    """What a member school's home shows in October: a pairing with tasks, a teacher posted in
    from the lead school, a mentor pair across the two schools, an activity."""
    member_school = principal.school
    pairing = PairingFactory(
        alliance=Alliance.objects.get(name="实验校联体"), helper_school=lead_school, helped_school=member_school
    )
    PairingTaskFactory(pairing=pairing, title="制定本学期帮扶计划", due_date=dt.date(2025, 10, 31))
    PairingTaskFactory(
        pairing=pairing, title="同课异构教研两次", due_date=dt.date(2025, 12, 20), responsible_person="李主任"
    )
    mentor = TeacherFactory(school=lead_school, name="李老师", is_key_teacher=True)
    ExchangeFactory(teacher=mentor, hosts=[member_school], logged_by=principal, status=Exchange.Status.APPROVED)
    MentorPairFactory(mentor=mentor, mentee=TeacherFactory(school=member_school, name="陈老师"))
    ActivityFactory(host_school=lead_school, schools=[member_school], title="语文同课异构", date=dt.date(2025, 10, 9))


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_member_principal_logs_an_exchange_records_spending_and_stays_in_their_school(
    visit,
    viewport,
    principal,
    teacher,
    lead_school,
    other_teacher,
    research_line,
    proposed,
):
    other = ExchangeFactory(teacher=other_teacher, hosts=[lead_school])
    a_year_of_work(principal, teacher, lead_school)
    v = visit(viewport)
    page = v.page

    # given the member principal signed in: their home, in Chinese
    v.sign_in("principal")
    assert page.url == f"{v.base}/"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "校联体与结对" in page.inner_text("main")
    assert "制定本学期帮扶计划" in page.inner_text("#tasks")
    assert "李老师" in page.inner_text("#exchanges-in")
    assert "¥100,000.00" in page.inner_text("#money")
    v.fits()
    home = v.shot("principal-home")

    # when they log an exchange that ends before it starts
    v.go("/exchanges/")
    page.select_option("#id_teacher", label="王老师")
    page.get_by_label("实验小学").check()
    page.fill("#id_start_date", "2025-10-01")
    page.fill("#id_end_date", "2025-09-01")
    with page.expect_navigation():
        page.click("#new-exchange button[type=submit]")

    # then the error stands beside the end date, and nothing is logged
    error = page.locator("#field-end_date .errorlist")
    assert error.is_visible()
    assert "结束日期" in page.inner_text("#field-end_date")
    assert not Exchange.objects.filter(origin_school=principal.school, teacher=teacher).exists()
    v.fits()
    v.shot("exchange-error")

    # when they correct it, then it is listed
    page.fill("#id_end_date", "2026-01-15")
    with page.expect_navigation():
        page.click("#new-exchange button[type=submit]")
    assert "王老师" in page.inner_text("#exchange-list")
    assert Exchange.objects.filter(origin_school=principal.school, teacher=teacher).count() == 1
    v.fits()
    v.shot("exchanges")

    # when they record spending with a receipt
    v.go("/spending/")
    page.select_option("#id_plan_line", index=1)
    page.fill("#id_date", "2025-10-15")
    page.fill("#id_amount", "1234.56")
    page.fill("#id_payee", "新华书店")
    page.set_input_files("#id_receipt", {"name": "发票.pdf", "mimeType": "application/pdf", "buffer": PDF})
    with page.expect_navigation():
        page.click("#new-spending button[type=submit]")
    assert "¥1,234.56" in page.inner_text("#records")
    assert SpendingRecord.objects.get().receipt
    v.fits()
    v.shot("spending")

    # and their result page, with its chart
    v.go("/result/")
    assert page.locator("#dimensions svg rect").count() >= 1
    v.fits()
    v.shot("result")

    # but another school's exchange is not found
    assert v.go(f"/exchanges/{other.pk}/").status == 404
    b_result = SchoolResult.objects.get(period=proposed, school=other_teacher.school)
    assert v.go(f"/result/{b_result.pk}/").status == 404

    v.stayed_home()
    if viewport is PHONE:
        docs = Path(__file__).parent.parent / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        (docs / "principal-home.png").write_bytes(home.read_bytes())


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_assessor_fills_a_schools_grid(visit, viewport, assessor, year_period, simple_rubric, member_school):
    v = visit(viewport)
    page = v.page
    v.sign_in("assessor")
    assert "东山小学" in page.inner_text("#schools")
    v.fits()
    v.shot("assessor-home")

    # when one value is out of range
    with page.expect_navigation():
        page.click(f"a[href='/assess/{year_period.pk}/']")
    assert "2" in page.inner_text("#missing")
    cells = page.locator(f"#school-{member_school.pk} .cell input")
    cells.nth(0).fill("150")
    cells.nth(1).fill("60")
    with page.expect_navigation():
        page.click(f"#school-{member_school.pk} button[type=submit]")

    # then the error is at that cell and nothing of the school is saved
    bad = page.locator(f"#school-{member_school.pk} .cell.has-error")
    assert bad.count() == 1
    assert "0" in bad.inner_text() and "100" in bad.inner_text()
    assert not IndicatorValue.objects.exists()
    v.fits()
    v.shot("assess-error")

    # when corrected, both are saved
    page.locator(f"#school-{member_school.pk} .cell input").nth(0).fill("90")
    with page.expect_navigation():
        page.click(f"#school-{member_school.pk} button[type=submit]")
    assert IndicatorValue.objects.count() == 2
    assert "0" in page.inner_text("#missing")
    v.fits()
    v.shot("assess")
    v.stayed_home()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_bureau_overview_shows_its_to_do_and_charts(
    visit,
    viewport,
    bureau_staff,
    principal,
    teacher,
    lead_school,
    research_line,
    proposed,
):
    ExchangeFactory(teacher=teacher, hosts=[lead_school], logged_by=principal)
    v = visit(viewport)
    page = v.page
    v.sign_in("bureau")
    assert page.url == f"{v.base}/"
    assert page.inner_text("#todo-exchanges .count") == "1"
    assert page.inner_text("#todo-appeals .count") == "0"
    assert page.locator("#alliance-scores svg rect").count() == 2
    assert page.locator("#awards svg rect").count() >= 1
    assert page.locator("#execution svg rect").count() == 1
    assert page.locator("a.admin-link").get_attribute("href") == "/admin/"
    v.fits()
    v.shot("overview")

    # and the footer's button switches the portal to English, on the same page
    with page.expect_navigation():
        page.click("footer button[lang=en]")
    assert page.url == f"{v.base}/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.inner_text("main h1") == "County overview"
    v.stayed_home()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_lead_principal_sees_the_alliance_and_the_plans_live_total(
    visit, viewport, lead_principal, open_year, alliance, lead_school, member_school
):
    v = visit(viewport)
    page = v.page
    v.sign_in("lead")
    v.go("/alliance/")
    assert "东山小学" in page.inner_text(f"#alliance-{alliance.pk}")
    v.fits()
    v.shot("alliance")

    # when the plan is started and amounts typed, the total follows them, in whole fen
    with page.expect_navigation():
        page.click(f"a[href='/plan/{alliance.pk}/']")
    with page.expect_navigation():
        page.click("button[value=start]")
    page.fill(f"#id_c{member_school.pk}_teaching_research", "1000.10")
    page.fill(f"#id_c{lead_school.pk}_training", "0.20")
    assert page.inner_text("#plan-total") == "¥1,000.30"
    assert page.locator("#plan-over").is_hidden()
    page.fill(f"#id_c{lead_school.pk}_training", "279000")
    assert page.inner_text("#plan-total") == "¥280,000.10"
    assert page.locator("#plan-over").is_visible()
    v.fits()
    v.shot("plan")
    v.stayed_home()


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (the uploads are checked by their first bytes and their name; the browser
    decodes it), one green pixel after another."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\xa0\x40" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_member_principal_logs_an_activity_with_a_photo_a_meeting_and_a_tasks_progress(
    visit, viewport, principal, teacher, lead_school
):
    a_year_of_work(principal, teacher, lead_school)
    v = visit(viewport)
    page = v.page
    v.sign_in("principal")

    # when they open the activity form: a donation's fields only for a donation
    v.go("/activities/")
    assert not page.locator("#field-donation_amount").is_visible()
    page.select_option("#id_kind", "donation")
    assert page.locator("#field-donation_amount").is_visible()
    assert not page.locator("#field-resource_count").is_visible()
    page.select_option("#id_kind", "teaching_research")
    assert not page.locator("#field-donation_amount").is_visible()

    # and log a teaching-research activity with a photo
    page.fill("#id_title", "数学组联合教研")
    page.fill("#id_date", "2025-10-20")
    page.fill("#id_person_times", "24")
    page.get_by_label("实验小学").check()
    page.set_input_files("#id_uploads", {"name": "现场.png", "mimeType": "image/png", "buffer": png()})
    with page.expect_navigation():
        page.click("#activity-form button[type=submit]")

    # then it is listed with its photo, which the browser loads from the portal
    item = page.locator("#activity-list li.activity", has_text="数学组联合教研")
    assert item.is_visible()
    photo = item.locator("img")
    photo.wait_for()
    # (the element is there before its bytes are: wait until the browser has loaded or failed it)
    page.wait_for_function("(img) => img.complete", arg=photo.element_handle(), timeout=10_000)
    assert page.evaluate("(img) => img.complete && img.naturalWidth", photo.element_handle()) == 2
    activity = Activity.objects.get(title="数学组联合教研")
    assert activity.attachments.count() == 1 and list(activity.schools.all()) == [lead_school]
    v.fits()
    v.shot("activities")

    # when they log a mentoring meeting outside the pair's dates, then the error is beside the date
    v.go("/meetings/")
    page.select_option("#id_pair", label="李老师 → 陈老师")
    page.fill("#id_date", "2024-01-01")
    page.select_option("#id_kind", "observation")
    with page.expect_navigation():
        page.click("#meeting-form button[type=submit]")
    assert page.locator("#field-date .errorlist").is_visible()
    page.fill("#id_date", "2025-10-22")
    page.fill("#id_notes", "听课两节并评课")
    with page.expect_navigation():
        page.click("#meeting-form button[type=submit]")
    assert "听课两节并评课" in page.inner_text("#meeting-list")
    v.fits()
    v.shot("meetings")

    # and report a task's progress: done needs its date
    v.go("/tasks/")
    task = page.locator("section.task", has_text="制定本学期帮扶计划")
    task.locator("select").select_option("done")
    with page.expect_navigation():
        task.locator("button[type=submit]").click()
    task = page.locator("section.task", has_text="制定本学期帮扶计划")
    assert task.locator(".errorlist").is_visible()
    task.locator("input[type=date]").fill("2025-10-30")
    with page.expect_navigation():
        task.locator("button[type=submit]").click()
    assert PairingTask.objects.get(title="制定本学期帮扶计划").status == PairingTask.Status.DONE
    v.fits()
    v.shot("tasks")

    v.stayed_home()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_principal_reads_its_own_and_its_teachers_results(visit, viewport, principal, people_proposed):
    from evaluation.models import PersonResult

    # given the principals' terms and the teachers' year on public notice
    own = PersonResult.objects.get(period=people_proposed["principals"][1], school=principal.school)
    v = visit(viewport)
    page = v.page
    v.sign_in("principal")
    # when the principal follows the navigation to the people's results
    with page.expect_navigation():
        page.click("nav.tabs a[href='/people/']")
    # then its two principal results and its teacher's are listed, nobody else's
    assert page.locator("#person-results tbody tr").count() == 3
    v.fits()
    v.shot("person-results")
    # and filtered to the teachers, its school's teacher alone
    page.select_option("#id_subject", "teacher")
    with page.expect_navigation():
        page.click("#person-filters button[type=submit]")
    assert page.locator("#person-results tbody tr").count() == 1
    assert "张老师" in page.inner_text("#person-results")
    # and its own result's page shows the warning, the dimensions' chart and every indicator
    v.go(f"/people/{own.pk}/")
    assert "56.00" in page.inner_text("#totals")
    assert page.locator("#decline").is_visible()
    assert page.locator("#dimensions svg rect").count() == 2
    assert page.locator("#indicators li.indicator").count() == 2
    v.fits()
    v.shot("person-result")
    v.stayed_home()
