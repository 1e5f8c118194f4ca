"""Reading uploaded CSV/XLSX tables and writing CSV/XLSX exports, one way for all.

CSV files from Chinese dealer systems come as UTF-8, UTF-8 with BOM or GBK/GB18030;
all are read. Headers are matched to fields through an alias table (Chinese and
English column names).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from clubplatform.errors import ValidationFailed

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Any]]  # data rows, without the header
    first_row_number: int = 2  # spreadsheet row number of rows[0]


@dataclass
class RowError:
    row: int
    field: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: counts, and every bad row with its field and reason."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed_rows,
        }


def _bad_file(message) -> ValidationFailed:
    return ValidationFailed(message, {"file": [message]})


def read_table(filename: str, content: bytes, *, max_bytes: int) -> Table:
    """Parse an uploaded CSV or XLSX file into a :class:`Table`.

    Raises :class:`ValidationFailed` on the ``file`` field for an empty, oversized,
    undecodable or headerless file.
    """
    if not content:
        raise _bad_file(_l("The file is empty."))
    if len(content) > max_bytes:
        raise _bad_file(_l("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    name = (filename or "").lower()
    if name.endswith(".xlsx") or content[:2] == b"PK":
        table = _read_xlsx(content)
    elif name.endswith((".csv", ".txt")) or not name:
        table = _read_csv(content)
    else:
        raise _bad_file(_l("Upload a CSV or XLSX file."))
    headers = [str(h or "").strip() for h in table.headers]
    if not any(headers):
        raise _bad_file(_l("The file has no header row."))
    table.headers = headers
    return table


def _read_csv(content: bytes) -> Table:
    text = None
    for enc in ENCODINGS:
        try:
            text = content.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise _bad_file(_l("The file's text encoding could not be read; save it as UTF-8 or GBK."))
    if "\x00" in text:
        raise _bad_file(_l("This does not look like a CSV file."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect)]
    rows = _drop_blank(rows)
    if not rows:
        raise _bad_file(_l("The file is empty."))
    return Table(headers=rows[0], rows=rows[1:])


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise _bad_file(_l("The spreadsheet could not be opened.")) from exc
    try:
        ws = wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    rows = _drop_blank(rows)
    if not rows:
        raise _bad_file(_l("The file is empty."))
    return Table(headers=[str(h) if h is not None else "" for h in rows[0]], rows=rows[1:])


def _drop_blank(rows: list[list[Any]]) -> list[list[Any]]:
    def blank(r):
        return all(v is None or str(v).strip() == "" for v in r)

    while rows and blank(rows[-1]):
        rows.pop()
    return rows


def map_headers(headers: Sequence[str], aliases: dict[str, Sequence[str]]) -> dict[str, int]:
    """Map field names to column indexes using each field's aliases (case-insensitive)."""
    norm = {h.strip().lower().replace(" ", "").replace("_", ""): i for i, h in enumerate(headers)}
    mapping: dict[str, int] = {}
    for fld, names in aliases.items():
        for n in (fld, *names):
            key = n.strip().lower().replace(" ", "").replace("_", "")
            if key in norm:
                mapping[fld] = norm[key]
                break
    return mapping


def iter_records(table: Table, mapping: dict[str, int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row_number, {field: value})`` with strings stripped and blanks as None."""
    for offset, row in enumerate(table.rows):
        rec: dict[str, Any] = {}
        for fld, idx in mapping.items():
            v = row[idx] if idx < len(row) else None
            if isinstance(v, str):
                v = v.strip() or None
            rec[fld] = v
        if all(v is None for v in rec.values()):
            continue
        yield table.first_row_number + offset, rec


def error_report_csv(errors: Iterable[RowError], headers: Sequence[str]) -> bytes:
    """The per-row error report, as CSV with a BOM so that Excel opens it in UTF-8."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for e in errors:
        w.writerow([e.row, e.field, e.reason])
    return buf.getvalue().encode("utf-8-sig")


def to_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding, errors="replace")


def to_xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
