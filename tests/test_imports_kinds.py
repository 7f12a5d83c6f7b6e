"""Each import's happy path, a second import of the same file changing nothing, and bad rows:
every one named by its row number, nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alliance.models import Alliance, School
from audit.models import AuditRecord
from funding.models import FundingQuota
from imports.services import import_run
from staffing.models import Teacher

from .factories_staffing import TeacherFactory
from .imports_files import csv_bytes, xlsx

pytestmark = pytest.mark.django_db

SCHOOL_HEADER = ["学校代码", "学校名称", "学段", "城乡", "办学类别", "学生数", "教师数", "班级数"]


def _run(user, kind, data, name="file.xlsx", commit=True):
    return import_run(actor=user, kind=kind, data=data, file_name=name, commit=commit)


def test_schools_are_created_then_changed_then_left_alone(bureau_staff, county):
    # given a workbook of two new schools, in Chinese
    data = xlsx([SCHOOL_HEADER, ["N001", "北山小学", "小学", "农村", "薄弱", 320, 28, 12],
                 ["N002", "南湖初中", "初中", "城区", "优质", 900, 70, 24]])  # fmt: skip

    # when it is previewed, then imported, then imported again
    preview = _run(bureau_staff, "schools", data, commit=False)
    assert School.objects.filter(code__in=["N001", "N002"]).count() == 0
    first = _run(bureau_staff, "schools", data)
    again = _run(bureau_staff, "schools", data)

    # then the preview and the import say "create", the second import "unchanged" and writes nothing
    assert preview.ok and not preview.committed and preview.counts["create"] == 2
    assert first.committed and first.counts["create"] == 2
    north = School.objects.get(county=county, code="N001")
    assert (north.name, north.stage, north.location, north.strength, north.students) == (
        "北山小学", "primary", "rural", "weak", 320,
    )  # fmt: skip
    assert again.committed and again.counts == {"create": 0, "update": 0, "unchanged": 2, "bad": 0}
    # and a changed cell is a change of that school only
    changed = xlsx([SCHOOL_HEADER, ["N001", "北山小学", "小学", "农村", "薄弱", 330, 28, 12]])
    report = _run(bureau_staff, "schools", changed)
    assert report.counts["update"] == 1 and report.rows[0].changes == ("学生数",)
    assert School.objects.get(code="N001").students == 330


def test_english_column_names_and_values_are_accepted(bureau_staff, county):
    data = csv_bytes([["School code", "School name", "Stage", "Location", "Strength class"],
                      ["E001", "East school", "Primary school", "urban", "new"]])  # fmt: skip
    report = _run(bureau_staff, "schools", data, name="schools.csv")
    assert report.committed, report.lines()
    assert School.objects.get(code="E001").strength == "new"


def test_the_import_is_recorded_as_an_event(bureau_staff, county):
    data = xlsx([SCHOOL_HEADER, ["N001", "北山小学", "小学", "农村", "薄弱", 1, 1, 1]])
    report = _run(bureau_staff, "schools", data)
    event = AuditRecord.objects.get(action="import")
    assert event.username == "bureau" and event.model == "imports.schools"
    assert event.after["sha256"] == report.sha256 and event.after["create"] == 1
    # and the row itself is in the trail, captured by the database
    assert AuditRecord.objects.filter(action="insert", model="alliance.school").exists()


def test_a_bad_file_writes_nothing_and_names_every_bad_row(bureau_staff, county, member_school, foreign_school):
    # given good rows among bad ones: a duplicate code, a bad stage, an empty name, an
    # existing school of another county's code, a row for another county
    rows = [[*SCHOOL_HEADER, "区县代码"],
            ["N001", "北山小学", "小学", "农村", "薄弱", 1, 1, 1],
            ["N001", "北山小学二", "小学", "农村", "薄弱", 1, 1, 1],
            ["N003", "", "小学", "农村", "薄弱", 1, 1, 1],
            ["N004", "某小学", "大学", "农村", "薄弱", 1, 1, 1],
            ["N005", "某小学", "小学", "农村", "薄弱", "-3", 1, 1],
            ["Y009", "邻县小学", "小学", "农村", "薄弱", 1, 1, 1, "330200"]]  # fmt: skip
    before = School.objects.count()

    # when it is imported
    report = _run(bureau_staff, "schools", xlsx(rows))

    # then nothing is written and each bad row is named with its number and reason, in Chinese
    assert not report.committed and School.objects.count() == before
    bad = {r.rows[0]: " ".join(r.errors) for r in report.bad_rows}
    assert set(bad) == {3, 4, 5, 6}, report.lines()
    assert "第 2 行" in bad[3] or "2" in bad[3]
    assert "学校名称" in bad[4]
    assert "学段" in bad[5]
    assert "学生数" in bad[6]
    # the other county's row is refused once the file's cells are all well-formed
    report = _run(bureau_staff, "schools", xlsx([rows[0], rows[1], rows[6]]))
    assert not report.committed and [r.rows for r in report.bad_rows] == [[3]]
    assert "330200" in report.bad_rows[0].errors[0]
    assert School.objects.count() == before


def test_teachers_by_school_and_name(bureau_staff, member_school, lead_school):
    TeacherFactory(school=member_school, name="王芳", subject="math", title="first", years_of_service=10)
    header = ["学校代码", "姓名", "学科", "性别", "职称", "教龄", "骨干教师"]
    data = xlsx([header, ["M001", "王芳", "数学", "女", "一级教师", 10, "否"],
                 ["L001", "李雷", "语文", "男", "高级教师", 20, "是"]], sheet="教师")  # fmt: skip
    report = _run(bureau_staff, "teachers", data)
    assert report.committed and report.counts == {"create": 1, "update": 0, "unchanged": 1, "bad": 0}, report.lines()
    li = Teacher.objects.get(school=lead_school, name="李雷")
    assert (li.subject, li.title, li.years_of_service, li.is_key_teacher) == ("chinese", "senior", 20, True)
    assert _run(bureau_staff, "teachers", data).counts["unchanged"] == 2


def test_teachers_of_unknown_or_foreign_schools_are_refused(bureau_staff, member_school, foreign_school):
    header = ["学校代码", "姓名", "学科"]
    data = xlsx(
        [header, ["M001", "王芳", "数学"], ["Y001", "外县老师", "数学"], ["ZZZ", "某老师", "数学"]], sheet="教师"
    )
    report = _run(bureau_staff, "teachers", data)
    assert not report.committed and Teacher.objects.count() == 0
    assert [r.rows for r in report.bad_rows] == [[3], [4]]
    assert "Y001" in report.bad_rows[0].errors[0]


def test_alliances_with_their_memberships(bureau_staff, school_year, lead_school, member_school, other_school):
    header = ["学年", "校联体名称", "类型", "学校代码", "角色"]
    data = xlsx([header, [2025, "北山教共体", "教共体", "L001", "牵头校"],
                 [2025, "北山教共体", "教共体", "M001", "成员校"],
                 ["2025-2026", "北山教共体", "教共体", "M002", "成员校"]], sheet="校联体")  # fmt: skip
    report = _run(bureau_staff, "alliances", data)
    assert report.committed, report.lines()
    assert report.rows[0].rows == [2, 3, 4] and report.rows[0].action == "create"
    alliance = Alliance.objects.get(school_year=school_year, name="北山教共体")
    assert alliance.kind == "community"
    assert dict(alliance.memberships.values_list("school__code", "role")) == {
        "L001": "lead", "M001": "member", "M002": "member",
    }  # fmt: skip
    assert _run(bureau_staff, "alliances", data).counts["unchanged"] == 1

    # a file naming a new lead and dropping a member changes the composition
    data = xlsx([header, [2025, "北山教共体", "教共体", "L001", "成员校"],
                 [2025, "北山教共体", "教共体", "M001", "牵头校"]], sheet="校联体")  # fmt: skip
    report = _run(bureau_staff, "alliances", data)
    assert report.committed and report.rows[0].action == "update", report.lines()
    assert dict(alliance.memberships.values_list("school__code", "role")) == {"L001": "member", "M001": "lead"}


def test_an_alliance_without_one_lead_is_refused(bureau_staff, school_year, lead_school, member_school):
    header = ["学年", "校联体名称", "类型", "学校代码", "角色"]
    data = xlsx([header, [2025, "无牵头", "教共体", "L001", "成员校"], [2025, "无牵头", "教共体", "M001", "成员校"],
                 [2026, "无学年", "教共体", "M001", "牵头校"]], sheet="校联体")  # fmt: skip
    report = _run(bureau_staff, "alliances", data)
    assert not report.committed and not Alliance.objects.filter(name__in=["无牵头", "无学年"]).exists()
    assert [r.rows for r in report.bad_rows] == [[2, 3], [4]], report.lines()
    assert "牵头" in report.bad_rows[0].errors[0]
    assert "2026" in report.bad_rows[1].errors[0]


def test_quotas(bureau_staff, funding_year, lead_school, member_school, alliance):
    header = ["学年", "学校代码", "额度（元）", "校联体名称"]
    data = xlsx([header, [2025, "L001", 200000, "实验校联体"], [2025, "M001", "150000.50", ""]], sheet="额度")
    report = _run(bureau_staff, "quotas", data)
    assert report.committed, report.lines()
    assert FundingQuota.objects.get(school=member_school).quota == Decimal("150000.50")
    assert FundingQuota.objects.get(school=lead_school).alliance == alliance
    assert _run(bureau_staff, "quotas", data).counts["unchanged"] == 2


@pytest.mark.parametrize("bad", [1234.567, "1234.567", "1e5", 1e20, "12,000", -5])
def test_quotas_with_bad_amounts_are_refused(bureau_staff, funding_year, member_school, bad):
    header = ["学年", "学校代码", "额度（元）"]
    report = _run(bureau_staff, "quotas", xlsx([header, [2025, "M001", 100], [2025, "L001", bad]], sheet="额度"))
    assert not report.committed and FundingQuota.objects.count() == 0
    assert [r.rows for r in report.bad_rows] == [[3]], report.lines()
    assert "额度" in report.bad_rows[0].errors[0]


def test_formula_looking_cells_are_stored_as_text(bureau_staff, county):
    # given cells that Excel would run as formulas (a real formula cell, and CSV text)
    data = xlsx([SCHOOL_HEADER, ["F001", "=1+1", "小学", "农村", "薄弱", 1, 1, 1],
                 ["F002", '=HYPERLINK("http://x","y")', "小学", "农村", "薄弱", 1, 1, 1]])  # fmt: skip
    csv_data = csv_bytes([SCHOOL_HEADER, ["F003", "@SUM(A1)", "小学", "农村", "薄弱", 1, 1, 1],
                          ["F004", "+cmd|' /C calc'!A0", "小学", "农村", "薄弱", 1, 1, 1]])  # fmt: skip
    assert _run(bureau_staff, "schools", data).committed
    assert _run(bureau_staff, "schools", csv_data, name="s.csv").committed
    # then the text is stored as written, not evaluated
    names = dict(School.objects.filter(code__startswith="F").values_list("code", "name"))
    assert names == {"F001": "=1+1", "F002": '=HYPERLINK("http://x","y")', "F003": "@SUM(A1)",
                     "F004": "+cmd|' /C calc'!A0"}  # fmt: skip


def test_a_service_rule_refuses_the_row(bureau_staff, funding_year, member_school):
    # the funding year is open: its quotas are fixed (the funding service refuses)
    from funding import services as funding_services

    funding_services.funding_quotas_default(actor=bureau_staff, funding_year=funding_year)
    funding_services.funding_year_open(actor=bureau_staff, funding_year=funding_year)
    report = _run(bureau_staff, "quotas", xlsx([["学年", "学校代码", "额度（元）"], [2025, "M001", 1]], sheet="额度"))
    assert not report.committed and [r.rows for r in report.bad_rows] == [[2]]
    assert FundingQuota.objects.get(school=member_school).quota == Decimal("200000.00")


PAIRING_HEADER = ["学年", "校联体名称", "帮扶校代码", "受援校代码", "开始日期", "结束日期", "帮扶重点"]


def test_pairings_with_their_dates(bureau_staff, alliance, lead_school, member_school):
    import datetime as dt

    from alliance.models import Pairing

    data = xlsx([PAIRING_HEADER, [2025, "实验校联体", "L001", "M001", dt.datetime(2025, 9, 1), "2026/7/1",
                                  "教学教研、师资队伍"]], sheet="结对")  # fmt: skip
    report = _run(bureau_staff, "pairings", data)
    assert report.committed, report.lines()
    pairing = Pairing.objects.get(alliance=alliance, helper_school=lead_school, helped_school=member_school)
    assert (pairing.start_date, pairing.end_date) == (dt.date(2025, 9, 1), dt.date(2026, 7, 1))
    assert pairing.focus_areas == ["teaching_research", "teachers"]
    assert _run(bureau_staff, "pairings", data).counts["unchanged"] == 1


def test_pairing_dates_outside_the_school_year_are_refused(bureau_staff, alliance, other_school):
    from alliance.models import Pairing

    data = xlsx([PAIRING_HEADER,
                 [2025, "实验校联体", "L001", "M001", "2025-08-31", "", ""],  # before the year starts
                 [2025, "实验校联体", "L001", "M001", "2025-09-01", "2026-09-01", ""],  # the same pair again
                 [2025, "实验校联体", "M001", "L001", "2025-13-01", "", ""],  # no such date
                 [2025, "实验校联体", "M001", "L001", "2025-10-01", "2026-09-01", ""],  # ends after it
                 [2025, "实验校联体", "L001", "M002", "2025-10-01", "", ""]], sheet="结对")  # not a member  # fmt: skip
    report = _run(bureau_staff, "pairings", data)
    assert not report.committed and Pairing.objects.count() == 0
    bad = {r.rows[0]: " ".join(r.errors) for r in report.bad_rows}
    assert set(bad) == {3, 4}, report.lines()  # the file's own errors first: nothing is looked up
    # once the file's own errors are corrected, the rows' dates and schools are checked
    rows = [PAIRING_HEADER,
            [2025, "实验校联体", "L001", "M001", "2025-08-31", "", ""],
            [2025, "实验校联体", "M001", "L001", "2025-10-01", "2026-09-01", ""],
            [2025, "实验校联体", "L001", "M002", "2025-10-01", "", ""]]  # fmt: skip
    report = _run(bureau_staff, "pairings", xlsx(rows, sheet="结对"))
    bad = {r.rows[0]: " ".join(r.errors) for r in report.bad_rows}
    assert set(bad) == {2, 3, 4}, report.lines()
    assert "2025-08-31" in bad[2] and "学年" in bad[2]
    assert "2026-09-01" in bad[3]
    assert "成员" in bad[4]
    assert Pairing.objects.count() == 0
