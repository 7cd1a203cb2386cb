"""Read a customer table from .xlsx, .xls or .csv bytes, without Odoo.

Every reader returns ``(headers, rows)``: the first non-empty row as column
names and the other non-empty rows as lists of strings of the same length.
Problems raise :class:`SpreadsheetError` with a ``code`` the caller turns into
a translated message.
"""

import csv
import datetime
import io
import zipfile

import openpyxl
import xlrd

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


class SpreadsheetError(Exception):
    """A file that cannot be read as a table.

    ``code`` is one of ``empty``, ``unsupported``, ``corrupt``, ``encoding``,
    ``no_rows``, ``too_many_rows``; ``detail`` is a technical hint.
    """

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


def cell_text(value):
    """One cell as stripped text (integers stored as floats lose their ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).strip()


def detect_kind(data, filename=""):
    """``"xlsx"``, ``"xls"`` or ``"csv"`` from the content and the name."""
    if not data:
        raise SpreadsheetError("empty")
    extension = (
        (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    )
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    if extension in ("xlsx", "xls"):
        raise SpreadsheetError("corrupt", "not an Excel file")
    if extension not in ("csv", "txt", ""):
        raise SpreadsheetError("unsupported", extension)
    return "csv"


def read_table(data, filename="", max_rows=1_000_000):
    """Parse a table.

    :param data: file content (bytes)
    :param filename: used for the type when the content does not tell
    :param max_rows: refuse larger files (bounds memory and time)
    :return: ``(headers, rows)``
    """
    kind = detect_kind(data, filename)
    reader = {"xlsx": _iter_xlsx, "xls": _iter_xls, "csv": _iter_csv}[kind]
    headers = None
    rows = []
    try:
        for raw in reader(data):
            values = [cell_text(value) for value in raw]
            if not any(values):
                continue
            if headers is None:
                headers = values
                continue
            if len(rows) >= max_rows:
                raise SpreadsheetError("too_many_rows", str(max_rows))
            rows.append(values)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise SpreadsheetError("corrupt", str(error)) from error
    except Exception as error:  # xlrd and openpyxl raise their own classes
        raise SpreadsheetError("corrupt", str(error)) from error
    if not headers or not rows:
        raise SpreadsheetError("no_rows")
    width = len(headers)
    rows = [(row + [""] * width)[:width] for row in rows]
    return headers, rows


def _iter_xlsx(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _iter_xls(data):
    book = xlrd.open_workbook(file_contents=data)
    sheet = book.sheet_by_index(0)
    for index in range(sheet.nrows):
        yield sheet.row_values(index)


def _iter_csv(data):
    if b"\x00" in data[:4096]:
        raise SpreadsheetError("corrupt", "binary content")
    text = None
    for encoding in TEXT_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise SpreadsheetError("encoding")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def write_csv(headers, rows):
    """Rows as CSV bytes that Excel opens with Chinese text intact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
