"""Bad input: files that are not what they say, zip bombs, entity expansion, wrong sheets and
missing columns are refused with one clear sentence, fast, and nothing is written."""

from __future__ import annotations

import time

import pytest

from alliance.models import School
from imports import reading
from imports.blanks import blank_csv, blank_xlsx
from imports.kinds import KINDS
from imports.services import import_run

from .imports_files import billion_laughs, csv_bytes, lying_zip, xlsx, zip_bomb

pytestmark = pytest.mark.django_db

HEADER = ["学校代码", "学校名称", "学段", "城乡", "办学类别"]
ROW = ["N001", "北山小学", "小学", "农村", "薄弱"]


def _refused(user, data, name, *, sheet_kind="schools"):
    started = time.perf_counter()
    report = import_run(actor=user, kind=sheet_kind, data=data, file_name=name, commit=True)
    elapsed = time.perf_counter() - started
    assert not report.committed and report.file_errors, report.lines()
    return " ".join(report.file_errors), elapsed


def test_a_zip_bomb_is_refused_in_under_a_second(bureau_staff):
    # given a "workbook" whose sheet unpacks to 60 MB (its zip is a few dozen KB)
    bomb = zip_bomb()
    assert len(bomb) < 200_000
    # when it is imported; then it is refused for its unpacked size, fast
    message, elapsed = _refused(bureau_staff, bomb, "学校.xlsx")
    assert "解压" in message and elapsed < 1.0


def test_a_highly_compressed_part_is_refused(bureau_staff):
    # 5 MB of zeros: under the total bound, but a ratio no real sheet has
    message, elapsed = _refused(bureau_staff, zip_bomb(5 * 1024 * 1024), "学校.xlsx")
    assert "解压" in message and elapsed < 1.0


def test_a_zip_whose_directory_lies_about_sizes_is_refused(bureau_staff):
    # given a zip whose headers say 1,000 bytes for a part of 60 MB: the declared sizes pass,
    # and reading stops at the declared size, where the checksum gives the lie away
    message, elapsed = _refused(bureau_staff, lying_zip(), "学校.xlsx")
    assert "损坏" in message and elapsed < 1.0


def test_billion_laughs_is_refused_in_under_a_second(bureau_staff):
    # given a real workbook whose sheet declares the nested entities of "billion laughs"
    data = billion_laughs(xlsx([HEADER, ROW]))
    # when it is imported; then it is refused before any XML parser expands it
    message, elapsed = _refused(bureau_staff, data, "学校.xlsx")
    assert "XML 实体" in message and elapsed < 1.0
    assert not School.objects.filter(code="N001").exists()


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"%PDF-1.4 not a workbook", "学校.xlsx", "不是 XLSX"),  # the name says xlsx, the bytes do not
        (xlsx([HEADER, ROW]), "学校.csv", "不是文本"),  # a workbook renamed .csv
        (b"\x00\x01\x02binary", "学校.csv", "不是文本"),
        (b"MZ\x90\x00", "学校.exe", ".xlsx"),  # neither XLSX nor CSV
        (b"PK\x03\x04garbage that is no zip", "学校.xlsx", "损坏"),
        (b"\xff\xfe\x00\x00", "学校.txt", ".csv"),
    ],
)
def test_a_file_that_is_not_what_it_says_is_refused(bureau_staff, data, name, words):
    message, _elapsed = _refused(bureau_staff, data, name)
    assert words in message


def test_a_wrong_sheet_is_named(bureau_staff):
    data = xlsx([HEADER, ROW], sheet="Sheet1", extra_sheets=("其他",))
    message, _ = _refused(bureau_staff, data, "学校.xlsx")
    assert "学校" in message and "Sheet1" in message and "其他" in message


def test_missing_columns_are_named(bureau_staff):
    message, _ = _refused(bureau_staff, xlsx([["学校代码", "学校名称"], ["N001", "北山小学"]]), "学校.xlsx")
    assert "学段" in message and "城乡" in message and "办学类别" in message


def test_too_many_rows_are_refused_before_any_is_written(bureau_staff, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    rows = [HEADER] + [[f"N{i:03d}", f"第{i}小学", "小学", "农村", "薄弱"] for i in range(5)]
    message, _ = _refused(bureau_staff, xlsx(rows), "学校.xlsx")
    assert "3" in message
    message, _ = _refused(bureau_staff, csv_bytes(rows), "学校.csv")
    assert "3" in message
    assert School.objects.filter(code__startswith="N").count() == 0


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(bureau_staff, county, encoding):
    data = csv_bytes([HEADER, ROW], encoding=encoding)
    report = import_run(actor=bureau_staff, kind="schools", data=data, file_name="学校.csv", commit=True)
    assert report.committed, report.lines()
    assert School.objects.get(county=county, code="N001").name == "北山小学"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_template_reads_back_with_its_columns(bureau_staff, kind):
    # the blank templates name every column in Chinese; read back they have no rows yet
    for data, name in ((blank_xlsx(KINDS[kind]), f"{kind}.xlsx"), (blank_csv(KINDS[kind]), f"{kind}.csv")):
        report = import_run(actor=bureau_staff, kind=kind, data=data, file_name=name)
        assert report.file_errors == ["文件表头下没有数据行。"], (name, report.file_errors)
    table = reading.read_xlsx(blank_xlsx(KINDS["schools"]), ("学校",))
    assert table.sheet == "学校" and table.header[0] == "学校代码*"


def test_entities_in_a_part_not_named_xml_are_refused_too(bureau_staff):
    # a part may be declared XML by [Content_Types].xml whatever its name: every part is scanned
    import io
    import zipfile

    from .imports_files import LAUGHS

    source = zipfile.ZipFile(io.BytesIO(xlsx([HEADER, ROW])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in source.infolist():
            z.writestr(item, source.read(item.filename))
        z.writestr("xl/worksheets/sheet9.bin", LAUGHS + "<worksheet/>")
    message, elapsed = _refused(bureau_staff, out.getvalue(), "学校.xlsx")
    assert "XML 实体" in message and elapsed < 1.0
