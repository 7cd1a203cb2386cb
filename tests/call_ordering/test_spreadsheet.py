"""Spreadsheet reading of the customer import, without Odoo."""

import io

import openpyxl
import pytest
import xlwt
from conftest import load_module

spreadsheet = load_module("call_ordering/tools/spreadsheet.py")


def _xlsx(rows):
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xls(rows):
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("s")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


ROWS = [
    ["姓名", "手机"],
    ["王五", 13812345678],
    [None, None],
    ["李四", "139 0000 1111"],
]
EXPECTED = (["姓名", "手机"], [["王五", "13812345678"], ["李四", "139 0000 1111"]])


def test_xlsx():
    assert spreadsheet.read_table(_xlsx(ROWS), "a.xlsx") == EXPECTED


def test_xls():
    rows = [[v if v is not None else "" for v in row] for row in ROWS]
    assert spreadsheet.read_table(_xls(rows), "a.xls") == EXPECTED


def test_csv_utf8_and_gb18030():
    text = "姓名,手机\n王五,13812345678\n\n李四,139 0000 1111\n"
    assert spreadsheet.read_table(text.encode("utf-8-sig"), "a.csv") == EXPECTED
    assert spreadsheet.read_table(text.encode("gb18030"), "a.csv") == EXPECTED


def test_short_rows_are_padded():
    _headers, rows = spreadsheet.read_table(b"a,b,c\n1\n", "a.csv")
    assert rows == [["1", "", ""]]


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "a.csv", "empty"),
        (b"PK\x03\x04broken", "a.xlsx", "corrupt"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1broken", "a.xls", "corrupt"),
        (b"plain text", "a.xlsx", "corrupt"),
        (b"%PDF-1.4", "a.pdf", "unsupported"),
        (b"\x00\x01binary", "a.csv", "corrupt"),
        (b"only,header\n", "a.csv", "no_rows"),
    ],
)
def test_bad_files(data, name, code):
    with pytest.raises(spreadsheet.SpreadsheetError) as caught:
        spreadsheet.read_table(data, name)
    assert caught.value.code == code


def test_row_limit():
    data = "n,m\n" + "x,1\n" * 11
    with pytest.raises(spreadsheet.SpreadsheetError) as caught:
        spreadsheet.read_table(data.encode(), "a.csv", max_rows=10)
    assert caught.value.code == "too_many_rows"


def test_write_csv_round_trip():
    data = spreadsheet.write_csv(["姓名", "Error"], [["王五", "Missing name"]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert spreadsheet.read_table(data, "e.csv") == (
        ["姓名", "Error"],
        [["王五", "Missing name"]],
    )


def test_limit_reads_only_a_preview():
    data = ("n,m\n" + "x,1\n" * 50).encode()
    headers, rows = spreadsheet.read_table(data, "a.csv", max_rows=10, limit=5)
    assert headers == ["n", "m"]
    assert len(rows) == 5


@pytest.mark.parametrize("options", [{}, {"constant_memory": True}])
def test_xlsx_from_another_writer_with_gaps(options):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, dict(options, in_memory=True))
    sheet = workbook.add_worksheet("客户")
    sheet.write_row(0, 0, ["姓名", "手机", "备注"])
    sheet.write(1, 0, "王五")
    sheet.write_number(1, 1, 13812345678)
    sheet.write(2, 0, "李四")
    sheet.write(2, 2, "VIP")  # column B left empty
    sheet.write_boolean(3, 0, True)
    sheet.write_number(3, 1, 1.5)
    workbook.close()
    headers, rows = spreadsheet.read_table(buffer.getvalue(), "w.xlsx")
    assert headers == ["姓名", "手机", "备注"]
    assert rows == [
        ["王五", "13812345678", ""],
        ["李四", "", "VIP"],
        ["1", "1.5", ""],
    ]


def test_xlsx_without_worksheet_is_corrupt():
    buffer = io.BytesIO()
    import zipfile  # noqa: PLC0415

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(spreadsheet.SpreadsheetError) as caught:
        spreadsheet.read_table(buffer.getvalue(), "x.xlsx")
    assert caught.value.code == "corrupt"
