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

import xlrd
from lxml import etree

XLSX_MAGIC = b"PK\x03\x04"
XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
XLSX_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
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


def read_table(data, filename="", max_rows=1_000_000, limit=None):
    """Parse a table.

    :param data: file content (bytes)
    :param filename: used for the type when the content does not tell
    :param max_rows: refuse larger files (bounds memory and time)
    :param limit: stop quietly after this many data rows (a preview)
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
            if limit is not None and len(rows) >= limit:
                break
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
    """Rows of the first worksheet, read with a streaming XML parser.

    Much faster than openpyxl on large files; values come as in the file
    (shared or inline strings, numbers, booleans; dates stay serial numbers).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        shared = (
            _xlsx_shared_strings(archive) if "xl/sharedStrings.xml" in names else []
        )
        with archive.open(_xlsx_first_sheet(archive, names)) as stream:
            for _event, row in etree.iterparse(
                stream, tag=f"{XLSX_NS}row", resolve_entities=False, huge_tree=True
            ):
                yield _xlsx_row_values(row, shared)
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]


def _xlsx_row_values(row, shared):
    values = []
    for cell in row.iterchildren(f"{XLSX_NS}c"):
        reference = cell.get("r")
        if reference:
            index = _xlsx_column_index(reference)
            values.extend([None] * (index - len(values)))
        values.append(_xlsx_cell_value(cell, shared))
    return values


def _xlsx_cell_value(cell, shared):
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(node.text or "" for node in cell.iter(f"{XLSX_NS}t"))
    node = cell.find(f"{XLSX_NS}v")
    raw = node.text if node is not None else None
    if raw is None:
        return None
    if kind == "s":
        return shared[int(raw)]
    if kind == "b":
        return raw == "1"
    if kind in ("str", "e"):
        return raw
    number = float(raw)
    return int(number) if number.is_integer() and "E" not in raw.upper() else number


def _xlsx_column_index(reference):
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - 64
    return index - 1


def _xlsx_shared_strings(archive):
    strings = []
    with archive.open("xl/sharedStrings.xml") as stream:
        for _event, item in etree.iterparse(
            stream, tag=f"{XLSX_NS}si", resolve_entities=False, huge_tree=True
        ):
            # phonetic guides (rPh) are not part of the text
            strings.append(
                "".join(
                    node.text or ""
                    for node in item.iter(f"{XLSX_NS}t")
                    if node.getparent().tag != f"{XLSX_NS}rPh"
                )
            )
            item.clear()
    return strings


def _xlsx_first_sheet(archive, names):
    """Path of the first worksheet named in the workbook."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    workbook = etree.fromstring(archive.read("xl/workbook.xml"), parser)
    sheet = workbook.find(f"{XLSX_NS}sheets/{XLSX_NS}sheet")
    if sheet is not None and "xl/_rels/workbook.xml.rels" in names:
        rel_id = sheet.get(f"{{{XLSX_REL_NS}}}id")
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
        for rel in rels:
            if rel.get("Id") == rel_id:
                target = rel.get("Target", "")
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if path in names:
                    return path
    sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet"))
    if not sheets:
        raise SpreadsheetError("corrupt", "no worksheet")
    return sheets[0]


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
