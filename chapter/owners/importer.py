"""Importing a dealer system's owners + vehicles and service visits (CSV or XLSX).

Two kinds of file: ``owners`` (one row = an owner and, optionally, their vehicle) and
``visits`` (one row = a work order of a vehicle known by its VIN). Headers in Chinese
or English are mapped to fields automatically (:data:`ALIASES`); the person importing
can correct the mapping before the run.

The bulk path, in batches of :data:`BATCH_SIZE` rows:

1. every row is checked in Python with the same validators and helpers as
   :mod:`chapter.owners.service` (no query per row); a bad row is reported with its
   row number, field and reason, and left out;
2. the batch is written with set-based SQL: one SELECT of the existing rows by their
   natural keys (owner by mobile, else by ID number digest; vehicle by VIN; visit by
   work-order number, all within the chapter), one multi-row
   ``INSERT … ON CONFLICT DO NOTHING … RETURNING`` of the new rows, one executemany
   ``UPDATE`` of the changed rows; unchanged rows are not written at all, so
   re-importing a file changes nothing;
3. a batch refused by the database is retried row by row, so that only the rows the
   database refuses are reported.

What keeps it fast (bench/import_owners.py): a CSV's rows are parsed while the import
goes instead of all at once; well-formed mobiles, ID numbers and VINs are accepted by
the validators' quick path for values in their normal form (anything else gets their
precise message); the keys for sealing and the blind index are prepared once per
import, and a number is sealed again only when its digest changed; on PostgreSQL the
lookups run on the driver's cursor, and a table that grew is analysed before the rows
that refer to it are inserted (their foreign-key checks are planned with its size).
For each owner of the file only a fingerprint of its values is kept, to find a later
row of the same owner with different values.

The statements are Core statements, which the tenant scope does not filter: every
one of them carries the job's ``chapter_id`` itself, never a value from the file.
Functions only flush; the caller commits (the job commits after each batch).
"""

from __future__ import annotations

import base64
import csv
import hmac
import io
import json
import os
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.owners import service
from chapter.owners.models import VISIT_TYPES, Owner, ServiceVisit, Vehicle
from clubplatform import crypto, dates, tabular
from clubplatform.db import utcnow
from clubplatform.errors import NotFound, ValidationFailed
from clubplatform.extensions import db
from clubplatform.jobs import make_job_id
from clubplatform.jobs.models import FINISHED, JobFile, JobRun
from clubplatform.money import parse_yuan
from clubplatform.tabular import (
    ImportReport,
    RowError,
    Table,
    iter_records,
    map_headers,
    read_table,
)
from clubplatform.validators import (
    InvalidValue,
    id_number_and_birthday,
    mask_id_number,
    validate_mobile,
    validate_vin,
)

OWNERS = "owners"
VISITS = "visits"
KINDS = (OWNERS, VISITS)
KIND_LABELS = {OWNERS: _l("Owners and vehicles"), VISITS: _l("Service visits")}

#: rows written per batch (one SELECT, one INSERT, one UPDATE per table and batch)
BATCH_SIZE = 5000

#: called after each batch of service visits is written and committed, with
#: ``(chapter_id, visit_ids)``: the ids of the visits that batch created (not those it
#: updated or left unchanged). A capability that reacts to imported visits appends its
#: function here; it runs in the import job, inside the job's chapter scope, and what it
#: writes is committed with the next batch (or at the job's end).
after_visit_batch: list[Callable[[int, list[int]], None]] = []

#: seconds spent per phase by the latest import in this process: ``parse`` (reading the
#: file), ``validate`` (checking the rows, blind indexes), ``write`` (the rows to write,
#: prepared in Python), ``seal`` (encrypting ID numbers), ``database`` (the SQL: lookups,
#: COPY, INSERT/UPDATE, ANALYZE, commits), and ``rows``: a benchmark reads them
last_run_timings: dict[str, float] = {}
#: rows shown on the mapping page
PREVIEW_ROWS = 5
#: bytes of a CSV file read for the mapping page (the job reads the whole file)
PREVIEW_BYTES = 256 * 1024

OWNER_FIELDS = ("name", "gender", "mobile", "id_number", "birthday", "occupation", "address",
                "postal_code", "work_address", "email", "hobbies")
VEHICLE_FIELDS = ("vin", "plate", "model", "colour", "purchase_date", "delivery_date",
                  "insurance_expiry", "next_inspection_on", "mileage_km")
VISIT_FIELDS = ("order_no", "vin", "visit_date", "visit_type", "amount", "mileage_km")
FIELDS = {OWNERS: OWNER_FIELDS + VEHICLE_FIELDS, VISITS: VISIT_FIELDS}

#: column headers each field is recognised by (case, spaces and underscores ignored)
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    OWNERS: {
        "name": ("姓名", "客户姓名", "车主姓名", "客户名称", "车主", "客户", "name", "owner name",
                 "customer name", "full name", "owner"),
        "gender": ("性别", "gender", "sex"),
        "mobile": ("手机", "手机号", "手机号码", "移动电话", "联系电话", "联系手机", "电话",
                   "mobile", "mobile phone", "mobile number", "phone", "cell phone"),
        "id_number": ("身份证号", "身份证号码", "身份证", "证件号码", "证件号", "id number",
                      "id no", "id card", "id card number", "national id"),
        "birthday": ("生日", "出生日期", "birthday", "date of birth", "birth date", "dob"),
        "occupation": ("职业", "occupation", "job", "profession"),
        "address": ("地址", "住址", "家庭地址", "家庭住址", "联系地址", "address",
                    "home address"),
        "postal_code": ("邮编", "邮政编码", "postal code", "postcode", "zip", "zip code"),
        "work_address": ("工作单位地址", "单位地址", "工作地址", "工作单位", "work address",
                         "company address", "employer address"),
        "email": ("邮箱", "电子邮箱", "电子邮件", "email", "e-mail", "email address"),
        "hobbies": ("爱好", "兴趣爱好", "兴趣", "hobbies", "hobby", "interests"),
        "vin": ("车架号/VIN", "车架号", "VIN", "VIN码", "车辆识别代号", "车辆识别码", "vin code",
                "chassis number"),
        "plate": ("车牌", "车牌号", "车牌号码", "plate", "plate number", "licence plate",
                  "license plate"),
        "model": ("车型", "车型名称", "model", "vehicle model", "car model"),
        "colour": ("颜色", "车身颜色", "colour", "color"),
        "purchase_date": ("购车日期", "购买日期", "开票日期", "purchase date", "purchased on"),
        "delivery_date": ("交车日期", "交车日", "交付日期", "delivery date", "delivered on"),
        "insurance_expiry": ("保险到期", "保险到期日", "保险到期日期", "保险截止日期",
                             "insurance expiry", "insurance expires", "insurance expiry date"),
        "next_inspection_on": ("下次年检", "下次年检日期", "年检到期", "年检到期日",
                               "next inspection", "next inspection date", "inspection due"),
        "mileage_km": ("里程", "行驶里程", "公里数", "里程(km)", "里程（km）", "mileage",
                       "mileage (km)", "odometer"),
    },
    VISITS: {
        "order_no": ("工单号", "工单编号", "维修工单号", "委托书号", "结算单号", "work order",
                     "work order no", "work-order number", "order no", "order number",
                     "ro number"),
        "vin": ("车架号/VIN", "车架号", "VIN", "VIN码", "车辆识别代号", "车辆识别码", "vin code",
                "chassis number"),
        "visit_date": ("日期", "进厂日期", "维修日期", "服务日期", "结算日期", "工单日期", "date",
                       "visit date", "service date"),
        "visit_type": ("类型", "维修类型", "工单类型", "服务类型", "业务类型", "type",
                       "visit type", "service type"),
        "amount": ("金额", "结算金额", "工单金额", "总金额", "amount", "amount (yuan)", "total"),
        "mileage_km": ("里程", "进厂里程", "行驶里程", "公里数", "mileage", "mileage (km)",
                       "odometer"),
    },
}

FIELD_LABELS = {
    "name": _l("Name"),
    "gender": _l("Gender"),
    "mobile": _l("Mobile"),
    "id_number": _l("ID number"),
    "birthday": _l("Birthday"),
    "occupation": _l("Occupation"),
    "address": _l("Home address"),
    "postal_code": _l("Postal code"),
    "work_address": _l("Work address"),
    "email": _l("E-mail"),
    "hobbies": _l("Hobbies and interests"),
    "vin": _l("VIN"),
    "plate": _l("Plate"),
    "model": _l("Model"),
    "colour": _l("Colour"),
    "purchase_date": _l("Purchase date"),
    "delivery_date": _l("Delivery date"),
    "insurance_expiry": _l("Insurance expiry"),
    "next_inspection_on": _l("Next inspection"),
    "mileage_km": _l("Mileage (km)"),
    "order_no": _l("Work-order number"),
    "visit_date": _l("Visit date"),
    "visit_type": _l("Type"),
    "amount": _l("Amount (yuan)"),
}

#: gender as written in dealer systems
GENDER_WORDS = {"男": "male", "女": "female", "m": "male", "f": "female", "male": "male",
                "female": "female", "先生": "male", "女士": "female"}

#: service visit types as written in dealer systems (DOMAIN.md), besides the codes
VISIT_TYPE_WORDS = {
    "首保": "first_service", "首次保养": "first_service", "保养": "maintenance",
    "定期保养": "maintenance", "索赔": "warranty", "保修": "warranty", "小修": "minor_repair",
    "一般维修": "minor_repair", "大修": "major_repair", "保险维修": "insurance_repair",
    "事故维修": "insurance_repair", "钣喷": "body_paint", "钣金喷漆": "body_paint",
    "装饰": "accessories", "精品装饰": "accessories", "续保": "insurance_renewal",
    "代办年检": "inspection", "年检": "inspection",
    "first service": "first_service", "maintenance": "maintenance", "warranty": "warranty",
    "warranty claim": "warranty", "minor repair": "minor_repair",
    "major repair": "major_repair", "insurance repair": "insurance_repair",
    "body and paint": "body_paint", "body & paint": "body_paint", "accessories": "accessories",
    "insurance renewal": "insurance_renewal", "inspection": "inspection",
    "annual inspection service": "inspection",
}

_NEED_KEY = _l("Give a mobile number or an ID number: imported owners are matched by them.")
_DUPLICATE_ID = _l("Another owner of this chapter has this ID number.")
_ANONYMISED = _l("This owner's personal data was removed on request.")
_DB_REFUSED = _l("The database refused this row.")

#: unique keys the database enforces, and the field a violation concerns
_CONSTRAINT_FIELDS = (
    (("uq_owners_chapter_id_mobile", "owners.mobile"), "mobile",
     _l("Another owner of this chapter has this mobile number.")),
    (("uq_owners_chapter_id_id_digest", "owners.id_number_digest"), "id_number", _DUPLICATE_ID),
    (("uq_vehicles_chapter_id_vin", "vehicles.vin"), "vin",
     _l("A vehicle with this VIN is already registered.")),
    (("uq_service_visits_chapter_id_order_no", "service_visits.order_no"), "order_no",
     _l("This work order is already recorded.")),
)


# --- the file and its columns ---------------------------------------------------------

@dataclass
class Preview:
    """What the mapping page shows: the headers, the detected mapping, the first rows."""

    kind: str
    headers: list[str]
    mapping: dict[str, int]
    rows: list[list[str]]


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        msg = _l("Choose what the file holds.")
        raise ValidationFailed(msg, {"kind": [msg]})
    return kind


def detect_mapping(kind: str, headers: list[str]) -> dict[str, int]:
    """Field → column index, from the headers and :data:`ALIASES`."""
    return map_headers(headers, ALIASES[check_kind(kind)])


def preview(kind: str, filename: str, content: bytes, *, max_bytes: int,
            rows: int = PREVIEW_ROWS) -> Preview:
    """Read the headers and the first rows of an upload, cheaply, for the mapping page.

    A large CSV is cut after :data:`PREVIEW_BYTES` (at a line end) and a spreadsheet
    is streamed, so the page answers quickly; the job reads the whole file. Raises
    :class:`ValidationFailed` on the ``file`` field for an unreadable file.
    """
    check_kind(kind)
    is_xlsx = (filename or "").lower().endswith(".xlsx") or content[:2] == b"PK"
    if not content or len(content) > max_bytes or not is_xlsx:
        head = content
        if 0 < len(content) <= max_bytes and len(content) > PREVIEW_BYTES:
            # neither UTF-8 nor GB18030 uses the byte 0x0A inside a character
            cut = content.rfind(b"\n", 0, PREVIEW_BYTES)
            head = content[: cut + 1] if cut > 0 else content
        table = read_table(filename, head, max_bytes=max_bytes)
    else:
        table = _xlsx_head(content, rows + 1)
    shown = [[_cell(v) for v in r] for r in table.rows[:rows]]
    return Preview(kind=kind, headers=table.headers, mapping=detect_mapping(kind, table.headers),
                   rows=shown)


def _xlsx_head(content: bytes, rows: int) -> Table:
    """The header and first rows of a workbook's first sheet, streamed (read-only mode)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            got = [list(r) for r in wb.worksheets[0].iter_rows(max_row=rows + 1,
                                                               values_only=True)]
        finally:
            wb.close()
    except Exception as exc:  # openpyxl raises many types for broken files
        msg = _l("The spreadsheet could not be opened.")
        raise ValidationFailed(msg, {"file": [msg]}) from exc
    if not got:
        msg = _l("The file is empty.")
        raise ValidationFailed(msg, {"file": [msg]})
    headers = [str(h).strip() if h is not None else "" for h in got[0]]
    if not any(headers):
        msg = _l("The file has no header row.")
        raise ValidationFailed(msg, {"file": [msg]})
    return Table(headers=headers, rows=got[1:])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value)


def resolve_mapping(kind: str, headers: list[str], given: dict[str, Any] | None) -> dict[str, int]:
    """The mapping to use: ``given`` (field → column index or header text; ``None`` or
    ``""`` = not in the file) for the fields it names, detected for the others.

    Raises :class:`ValidationFailed` naming the field for an unknown column, a column
    chosen twice, or a required field left out.
    """
    mapping = detect_mapping(kind, headers)
    errors: dict[str, list] = {}
    for name, value in (given or {}).items():
        if name not in FIELDS[kind]:
            errors.setdefault(name, []).append(_l("Unknown field."))
            continue
        if value is None or value == "" or value == -1:
            mapping.pop(name, None)
            continue
        index = _column_index(headers, value)
        if index is None:
            errors.setdefault(name, []).append(
                _l("The file has no column %(col)s.", col=str(value)))
        else:
            mapping[name] = index
    used: dict[int, str] = {}
    for name in FIELDS[kind]:
        if name in mapping and mapping[name] in used and name in (given or {}):
            errors.setdefault(name, []).append(_l("Column %(col)s is already used for %(other)s.",
                                                  col=headers[mapping[name]],
                                                  other=FIELD_LABELS[used[mapping[name]]]))
        elif name in mapping:
            used.setdefault(mapping[name], name)
    for name in _missing(kind, mapping):
        errors.setdefault(name, []).append(_l("Choose the column that holds this."))
    if errors:
        summary = _l("Check the columns of: %(fields)s.",
                     fields=", ".join(str(FIELD_LABELS.get(f, f)) for f in errors))
        raise ValidationFailed(summary, errors)
    return mapping


def full_mapping(kind: str, columns: dict[str, int]) -> dict[str, int | None]:
    """Every field of ``kind`` → its column, or None: what the job is given, so that a
    field the person set to "not in the file" is not detected again from the headers."""
    return {name: columns.get(name) for name in FIELDS[check_kind(kind)]}


def _column_index(headers: list[str], value) -> int | None:
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()
                                  and value.strip() not in headers):
        index = int(value)
        return index if 0 <= index < len(headers) else None
    wanted = str(value).strip().lower()
    for i, h in enumerate(headers):
        if h.strip().lower() == wanted:
            return i
    return None


def _missing(kind: str, mapping: dict[str, int]) -> list[str]:
    if kind == OWNERS:
        missing = [] if "name" in mapping else ["name"]
        if "mobile" not in mapping and "id_number" not in mapping:
            missing.append("mobile")
        return missing
    return [f for f in ("order_no", "vin", "visit_date", "visit_type") if f not in mapping]


def required_fields(kind: str) -> tuple[str, ...]:
    """Fields the mapping page marks as needed (owners: a name and a mobile or ID number)."""
    return ("name", "mobile") if kind == OWNERS else ("order_no", "vin", "visit_date",
                                                     "visit_type")


def read_upload(kind: str, filename: str, content: bytes, mapping: dict[str, Any] | None, *,
                max_bytes: int) -> tuple[Table, dict[str, int]]:
    """Read the whole file and settle the mapping; raises :class:`ValidationFailed`."""
    check_kind(kind)
    started = time.perf_counter()
    table = _read_csv_lazily(filename, content, max_bytes)
    if table is None:
        table = read_table(filename, content, max_bytes=max_bytes)
    last_run_timings.clear()
    last_run_timings["parse"] = time.perf_counter() - started
    return table, resolve_mapping(kind, table.headers, mapping)


def _read_csv_lazily(filename: str, content: bytes, max_bytes: int) -> Table | None:
    """A CSV upload read as :func:`read_table` reads it, but with rows that are parsed
    while the import goes (a file of 100,000 rows as lists of cells is many times its
    size); None for anything else, or anything :func:`read_table` would refuse (it then
    says why)."""
    name = (filename or "").lower()
    if not content or len(content) > max_bytes or name.endswith(".xlsx") or \
            content[:2] == b"PK" or not (name.endswith((".csv", ".txt")) or not name):
        return None
    text = None
    for encoding in tabular.ENCODINGS:
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or "\x00" in text:
        return None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    headers = next(reader, None)
    count = last = 0  # data rows, and the number up to the last one not blank
    for row in reader:
        count += 1
        if any(str(v).strip() for v in row):
            last = count
    headers = [str(h or "").strip() for h in headers or []]
    if not any(headers):
        return None
    return Table(headers=headers, rows=_CsvRows(text, dialect, last))


class _CsvRows:
    """The data rows of a CSV text, parsed when iterated (``len`` without parsing)."""

    def __init__(self, text: str, dialect, count: int):
        self.text, self.dialect, self.count = text, dialect, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[list[str]]:
        reader = csv.reader(io.StringIO(self.text), self.dialect)
        next(reader, None)
        return islice(reader, self.count)

    def __getitem__(self, index):
        return list(self)[index]


# --- uploads waiting for their mapping ------------------------------------------------
#
# Between the upload and the start, the file is kept in the database (a job run of its
# own with the file as its input), so that any app server can show the mapping page and
# start the import: no local temporary file. Starting the import moves the bytes to the
# import job's run and deletes the staged one; a staged upload left behind is an
# ordinary finished run, removed by the jobs clean-up (clubplatform.jobs.purge_before).

#: job-run name of an upload waiting for its mapping
STAGED = "chapter.import_upload"


def stage_upload(chapter_id: int, user_id: int, kind: str, filename: str, content_type: str,
                 content: bytes) -> JobRun:
    """Keep an upload until its mapping is confirmed; return its (staged) run."""
    check_kind(kind)
    run = JobRun(id=make_job_id(STAGED, chapter_id), name=STAGED, chapter_id=chapter_id,
                 user_id=user_id, status=FINISHED, progress=0,
                 message=str(_l("Uploaded; choose the columns to start the import.")),
                 result={"kind": kind, "filename": filename, "bytes": len(content)})
    db.session.add(run)
    db.session.flush()  # the run row first: the file refers to it
    db.session.add(JobFile(job_id=run.id, kind="input", filename=filename,
                           content_type=content_type or "application/octet-stream",
                           content=content))
    db.session.flush()
    return run


def get_staged_upload(chapter_id: int, upload_id: str) -> tuple[JobRun, JobFile]:
    """A staged upload of the chapter; another chapter's (or anything else) is not found."""
    run = db.session.execute(sa.select(JobRun).where(
        JobRun.id == upload_id, JobRun.name == STAGED, JobRun.chapter_id == chapter_id)
    ).scalar_one_or_none()
    upload = None
    if run is not None:
        upload = db.session.execute(sa.select(JobFile).where(
            JobFile.job_id == run.id, JobFile.kind == "input")).scalar_one_or_none()
    if upload is None:
        raise NotFound(_l("This upload is no longer here; upload the file again."))
    return run, upload


def staged_uploads(chapter_id: int, limit: int = 10) -> list[JobRun]:
    """The chapter's uploads still waiting for their mapping, newest first."""
    return list(db.session.execute(
        sa.select(JobRun).where(JobRun.name == STAGED, JobRun.chapter_id == chapter_id)
        .order_by(JobRun.created_at.desc()).limit(limit)).scalars())


def discard_upload(run: JobRun) -> None:
    """Delete a staged upload and its file."""
    db.session.execute(sa.delete(JobFile).where(JobFile.job_id == run.id))
    db.session.delete(run)
    db.session.flush()


def recent_imports(chapter_id: int, names: Iterable[str], limit: int = 20) -> list[JobRun]:
    """The chapter's latest import runs, newest first."""
    return list(db.session.execute(
        sa.select(JobRun).where(JobRun.name.in_(list(names)), JobRun.chapter_id == chapter_id)
        .order_by(JobRun.created_at.desc()).limit(limit)).scalars())


# --- the run --------------------------------------------------------------------------

def import_table(kind: str, chapter_id: int, table: Table, mapping: dict[str, int], *,
                 progress: Callable[[int, int], None] | None = None,
                 after_batch: Callable[[], None] | None = None,
                 batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import the rows of ``table`` into chapter ``chapter_id``; return the report.

    Every good row is kept and every bad row reported (row number, the file's column
    header as the field, the reason in the current locale). ``after_batch`` runs after
    each batch is flushed (the job commits there); ``progress(done, total)`` follows.
    For visits, each batch's new visit ids then go to :data:`after_visit_batch`.

    The rows of ``table`` are consumed: each is dropped from ``table.rows`` once read,
    so that the file's cells are freed while the import goes on.
    """
    check_kind(kind)
    labels = {f: table.headers[i] or str(FIELD_LABELS[f]) for f, i in mapping.items()}
    run = (_OwnerImport if kind == OWNERS else _VisitImport)(chapter_id, mapping, labels)
    report = ImportReport()
    total = len(table.rows)
    done = 0
    timings = run.timings
    _sql_seconds[0] = 0.0
    committing = 0.0
    records = iter_records(_Consumed(table), mapping)
    for chunk in _batched(records, batch_size):
        run.batch(chunk, report)
        report.total += len(chunk)
        done = min(total, chunk[-1][0] - table.first_row_number + 1)
        started = time.perf_counter()
        if after_batch is not None:
            after_batch()
        committing += time.perf_counter() - started
        if run.new_ids:
            new_ids, run.new_ids = run.new_ids, []
            for hook in list(after_visit_batch):
                hook(chapter_id, new_ids)
        if progress is not None:
            progress(done, total)
    report.errors.sort(key=lambda e: e.row)
    # a batch's write: the SQL, and the rows prepared in Python around it (sealing apart)
    timings["write"] = timings.pop("database") - timings["seal"] - _sql_seconds[0]
    timings["database"] = _sql_seconds[0] + committing
    timings["rows"] = total
    last_run_timings.update(timings)
    return report


class _Consumed:
    """A table whose rows are let go as they are read (see :func:`import_table`)."""

    def __init__(self, table: Table):
        self.first_row_number = table.first_row_number
        self.rows = _consume(table.rows)


def _consume(rows) -> Iterator:
    if not isinstance(rows, list):
        yield from rows  # parsed as it is read
        return
    for i, row in enumerate(rows):
        rows[i] = None
        yield row


def _batched(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class _RowFailed(Exception):
    """A row refused while checking; ``errors`` lists (field, message)."""

    def __init__(self, errors: list[tuple[str, Any]]):
        super().__init__("row failed")
        self.errors = errors


class _Raced(Exception):
    """A row another writer inserted between our SELECT and INSERT (ON CONFLICT DO NOTHING
    skipped it); the batch is retried row by row, which sees it."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


class _Errors:
    """One row's field errors (the interface :func:`service._date` writes to)."""

    __slots__ = ("fields",)

    def __init__(self) -> None:
        self.fields: list[tuple[str, Any]] = []

    def add(self, field: str, message, conflict: bool = False) -> None:
        self.fields.append((field, message))

    def __bool__(self) -> bool:
        return bool(self.fields)


def _date(value, name: str, errors: _Errors) -> date | None:
    """A date cell: ISO text the fast way, anything else by the service's rule."""
    if value.__class__ is str and len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return service._date(value, name, errors)


def _mask(id_number: str) -> str:
    """``mask_id_number`` of a normalised 18-character number."""
    if len(id_number) == 18:
        return id_number[:4] + "**********" + id_number[14:]
    return mask_id_number(id_number)


class _Sealer:
    """``crypto.encrypt`` and ``crypto.blind_index`` with the keys prepared once per
    import (the same tokens and digests; a fresh nonce for every value)."""

    def __init__(self, ring: crypto.Keyring, timings: dict):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.ring = ring
        self.prefix = f"{crypto.VERSION}.{ring.active}."
        self.aad = ring.active.encode()
        self.aes = AESGCM(ring.keys[ring.active])
        self.index_key = ring.index_key
        self.timings = timings

    def digest(self, id_number: str) -> str:
        # blind_index of a normalised number (no spaces, upper case)
        return hmac.digest(self.index_key, id_number.encode(), "sha256").hex()

    def seal(self, id_number: str) -> str:
        started = time.perf_counter()
        nonce = os.urandom(12)
        sealed = self.aes.encrypt(nonce, id_number.encode(), self.aad)
        token = self.prefix + base64.urlsafe_b64encode(nonce + sealed).decode()
        self.timings["seal"] += time.perf_counter() - started
        return token


@dataclass
class _Row:
    rowno: int
    #: owner or visit values to store (only the fields the file maps, blanks as None)
    values: dict
    #: the vehicle's values (owners import), None when the row has no vehicle
    vehicle: dict | None = None
    #: natural key of the owner: ("m", mobile) or ("d", ID digest)
    key: tuple | None = None
    id_number: str | None = None
    extra: dict = field(default_factory=dict)


class _Import:
    """What both kinds share: the batch loop with its row-by-row retry."""

    def __init__(self, chapter_id: int, mapping: dict[str, int], labels: dict[str, str]):
        if not isinstance(chapter_id, int):
            raise TypeError("chapter_id must be the job's chapter id")
        self.chapter_id = chapter_id
        self.mapping = mapping
        self.labels = labels
        self.today = dates.today()
        self.now = utcnow()
        self.stats = _Statistics(self.tables)
        self.timings = {"validate": 0.0, "seal": 0.0, "database": 0.0}
        #: ids of the rows a write inserted (visits), and those kept once its savepoint held
        self.inserted: list[int] = []
        self.new_ids: list[int] = []

    def label(self, name: str) -> str:
        return self.labels.get(name) or str(FIELD_LABELS.get(name, name))

    def fail(self, report: ImportReport, rowno: int, errors: list[tuple[str, Any]]) -> None:
        for name, message in errors:
            report.errors.append(RowError(rowno, self.label(name), str(message)))

    def batch(self, chunk: list[tuple[int, dict]], report: ImportReport) -> None:
        started = time.perf_counter()
        rows = []
        clean = self.clean
        for rowno, rec in chunk:
            for name, value in rec.items():
                # a spreadsheet's whole numbers come as floats (a mobile, the mileage)
                if value.__class__ is float and value.is_integer():
                    rec[name] = int(value)
            try:
                rows.append(clean(rowno, rec))
            except _RowFailed as exc:
                self.fail(report, rowno, exc.errors)
        written = time.perf_counter()
        self.timings["validate"] += written - started
        if rows:
            _prepare(self.tables)
            self.inserted = []
            try:
                with db.session.begin_nested():
                    outcomes = self.write(rows, report)
                self.new_ids.extend(self.inserted)
            except _refusals():
                outcomes = self.write_one_by_one(rows, report)
            for outcome in outcomes:
                setattr(report, outcome, getattr(report, outcome) + 1)
            self.stats.refresh()
        self.timings["database"] += time.perf_counter() - written

    def write_one_by_one(self, rows: list[_Row], report: ImportReport) -> list[str]:
        outcomes: list[str] = []
        for row in rows:
            self.inserted = []
            try:
                with db.session.begin_nested():
                    outcomes.extend(self.write([row], report))
                self.new_ids.extend(self.inserted)
            except _refusals() as exc:
                self.fail(report, row.rowno, [_constraint_error(exc)])
        return outcomes

    # subclasses
    tables: tuple[sa.Table, ...] = ()

    def clean(self, rowno: int, rec: dict) -> _Row:  # pragma: no cover - abstract
        raise NotImplementedError

    def write(self, rows: list[_Row], report: ImportReport) -> list[str]:  # pragma: no cover
        raise NotImplementedError


def _refusals() -> tuple[type[Exception], ...]:
    """What a refused write raises: SQLAlchemy's errors, the driver's (raw COPY), ours."""
    dbapi = _conn().dialect.loaded_dbapi
    return (sa.exc.DBAPIError, dbapi.Error, _Raced)


def _constraint_error(exc: Exception) -> tuple[str, Any]:
    text = exc.field if isinstance(exc, _Raced) else str(getattr(exc, "orig", exc))
    for markers, name, message in _CONSTRAINT_FIELDS:
        if name == text or any(m in text for m in markers):
            return name, message
    return "row", _DB_REFUSED


def _conn():
    return db.session.connection()


def _in(column, values) -> sa.ColumnElement:
    """``column IN (values)``; on PostgreSQL ``= ANY(array)``, one parameter for them all."""
    values = list(values)
    if _conn().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


#: seconds spent in the SQL helpers below during the current import (its "database" time)
_sql_seconds = [0.0]


def _timed(func):
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _sql_seconds[0] += time.perf_counter() - started
    timed.__name__, timed.__doc__ = func.__name__, func.__doc__
    return timed


@_timed
def _fetch(table: sa.Table, columns: tuple[str, ...], chapter_id: int, key: str,
           values: Iterable) -> list[dict]:
    """The ``columns`` of the chapter's rows whose ``key`` is one of ``values``, as dicts.

    PostgreSQL: one ``= ANY(array)`` query on the driver's cursor (no per-row result
    processing); SQLite: the same through SQLAlchemy.
    """
    values = list(values)
    conn = _conn()
    if conn.dialect.name == "postgresql":
        from psycopg.rows import dict_row

        with conn.connection.driver_connection.cursor(row_factory=dict_row) as cur:
            cur.execute(f"SELECT {', '.join(columns)} FROM {table.name} "
                        f"WHERE chapter_id = %s AND {key} = ANY(%s)", (chapter_id, values))
            return cur.fetchall()
    return [dict(m) for m in conn.execute(
        sa.select(*[table.c[c] for c in columns])
        .where(table.c.chapter_id == chapter_id, table.c[key].in_(values))).mappings()]


@_timed
def _insert_new(table: sa.Table, rows: list[dict], returning: tuple[str, ...]) -> list:
    """Insert ``rows`` (all with the same keys) skipping any that a unique key refuses
    (``ON CONFLICT DO NOTHING``); return the ``returning`` columns of those inserted.

    PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT … SELECT``. SQLite
    (the embedded default): an executemany INSERT.
    """
    if not rows:
        return []
    conn = _conn()
    columns = list(rows[0])
    if conn.dialect.name != "postgresql":
        from sqlalchemy.dialects.sqlite import insert

        stmt = insert(table).on_conflict_do_nothing().returning(
            *[table.c[c] for c in returning])
        return conn.execute(stmt, rows).all()
    raw = conn.connection.driver_connection
    temp = f"import_{table.name}"
    names = ", ".join(f'"{c}"' for c in columns)
    json_columns = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}
    with raw.cursor() as cur:
        cur.execute(f"DELETE FROM {temp}")
        with cur.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_columns
                                else row[c] for c in columns])
        cur.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {temp} "
                    f"ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}")
        return cur.fetchall()


@_timed
def _prepare(tables: Iterable[sa.Table]) -> None:
    """Set up a batch's transaction on PostgreSQL: asynchronous commit, and the
    temporary tables :func:`_insert_new` copies into.

    Outside the batch's savepoint, since a rollback would drop them; per batch, since
    after a commit the session may hold another pooled connection.
    """
    conn = _conn()
    if conn.dialect.name != "postgresql":
        return
    with conn.connection.driver_connection.cursor() as cur:
        # A batch's commit need not wait for its WAL flush: the job's final status is
        # committed synchronously, which flushes every batch before it; a crash before
        # that leaves the run unfinished, and running it again changes nothing written.
        cur.execute("SET LOCAL synchronous_commit = off")
        for table in tables:
            columns = ", ".join(f'"{c.name}"' for c in table.c if c.name != "id")
            cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS import_{table.name} "
                        f"ON COMMIT DELETE ROWS AS SELECT {columns} FROM {table.name} WITH NO DATA")


#: rows a table grows by, at least, before it is analysed again
_ANALYZE_MIN_ROWS = 1000


class _Statistics:
    """Keeps PostgreSQL's statistics of the tables an import fills up to date.

    A plan made while a table was small (a new database, a first import) reads the whole
    table; PostgreSQL keeps such plans (prepared statements, foreign-key checks) until
    the table is analysed, and an import that grows the table tenfold would scan it for
    every row. So, as after any bulk load, the tables are analysed whenever the rows
    added since the last ANALYZE outnumber those counted then: a few times for a table
    that starts empty, never for an established one.
    """

    def __init__(self, tables: Iterable[sa.Table]):
        self.tables = [t.name for t in tables]
        self.counted: dict[str, float] = {}
        self.added: dict[str, int] = dict.fromkeys(self.tables, 0)
        conn = _conn()
        self.active = conn.dialect.name == "postgresql"
        if self.active:
            for name, tuples in conn.execute(sa.text(
                    "SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:names) "
                    "AND relkind = 'r' AND relpersistence = 'p'"), {"names": self.tables}):
                self.counted[name] = max(float(tuples), 0.0)

    def grew(self, table: str, rows: int) -> None:
        self.added[table] = self.added.get(table, 0) + rows

    @_timed
    def refresh(self, *names: str) -> None:
        """ANALYZE the tables (all, or ``names``) that grew past their last count: between
        batches, and right after a table that others refer to grew (the foreign-key checks
        of the rows inserted next are planned then)."""
        if not self.active:
            return
        for name in names or self.tables:
            added = self.added[name]
            if added >= max(_ANALYZE_MIN_ROWS, self.counted.get(name, 0.0)):
                _conn().execute(sa.text(f"ANALYZE {name}"))
                self.counted[name] = self.counted.get(name, 0.0) + added
                self.added[name] = 0


@_timed
def _update_many(table: sa.Table, chapter_id: int, columns: Iterable[str],
                 params: list[dict]) -> None:
    """One executemany UPDATE by id, within the chapter."""
    if not params:
        return
    stmt = (sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"), table.c.chapter_id == chapter_id)
            .values({c: sa.bindparam(f"b_{c}") for c in columns}))
    _conn().execute(stmt, [{f"b_{k}": v for k, v in p.items()} for p in params])


# --- owners + vehicles ----------------------------------------------------------------

_OWNER_COLUMNS = ("name", "gender", "mobile", "birthday", "occupation", "address",
                  "postal_code", "work_address", "email", "hobbies", "customer_since",
                  "id_number_enc", "id_number_digest", "id_number_masked")
_VEHICLE_COLUMNS = ("owner_id", "vin", "plate", "model", "colour", "purchase_date",
                    "delivery_date", "insurance_expiry", "next_inspection_on", "mileage_km")


#: the owner values kept for each owner of the file (to compare a later row of the same owner)
_SEEN_SLOTS = OWNER_FIELDS + ("id_number_digest",)
_SEEN_SLOT = {name: i for i, name in enumerate(_SEEN_SLOTS)}
_PACK = struct.Struct(f"{len(_SEEN_SLOTS)}q").pack


def _value_hash(value) -> int:
    return hash(tuple(value) if isinstance(value, list) else value)


def _fingerprint(owner: dict) -> bytes:
    """The owner's values as one 64-bit hash each, packed (what :func:`_differs` reads)."""
    return _PACK(*[_value_hash(owner.get(n)) for n in _SEEN_SLOTS])


def _differs(fingerprint: bytes, slot: int, value) -> bool:
    return fingerprint[slot * 8:slot * 8 + 8] != struct.pack("q", _value_hash(value))


class _OwnerImport(_Import):
    tables = (Owner.__table__, Vehicle.__table__)

    def __init__(self, *args):
        super().__init__(*args)
        self.ring = crypto.keyring()
        self.sealer = _Sealer(self.ring, self.timings)
        self.owner_fields = [f for f in OWNER_FIELDS if f in self.mapping]
        self.vehicle_fields = [f for f in VEHICLE_FIELDS if f in self.mapping]
        #: in-file state: where each owner key, ID digest and VIN was first seen
        #: (with the owner's values as :func:`_fingerprint`: the values themselves, kept
        #: for every owner of a large file, would take most of the job's memory)
        self.owners_seen: dict[tuple, tuple[int, bytes]] = {}
        self.digests_seen: dict[str, tuple[int, tuple]] = {}
        self.vins_seen: dict[str, int] = {}

    # -- checking ----------------------------------------------------------------------

    def clean(self, rowno: int, rec: dict) -> _Row:
        errors = _Errors()
        owner, id_number = self._clean_owner(rec, errors)
        vehicle = None
        if any(rec.get(f) not in (None, "") for f in self.vehicle_fields):
            vehicle = self._clean_vehicle(rec, errors)
        if errors:
            raise _RowFailed(errors.fields)
        digest = self.sealer.digest(id_number) if id_number else None
        mobile = owner.get("mobile")
        key = ("m", mobile) if mobile else ("d", digest)
        # the same person twice in the file is one owner (an owner with two cars)
        if digest and digest in self.digests_seen:
            first_row, first_key = self.digests_seen[digest]
            if not mobile:
                key = first_key
            elif first_key != key:
                raise _RowFailed([("id_number", _l(
                    "Another owner in row %(n)s of the file has this ID number.", n=first_row))])
        if digest:
            owner["id_number_digest"] = digest
        seen = self.owners_seen.get(key)
        if seen is not None:
            first_row, first_values = seen
            for name, value in owner.items():
                if value is not None and value != [] and \
                        _differs(first_values, _SEEN_SLOT[name], value):
                    name = "id_number" if name == "id_number_digest" else name
                    raise _RowFailed([(name, _l(
                        "This owner is also in row %(n)s of the file, with a different value "
                        "here.", n=first_row))])
        if vehicle is not None:
            first_vin_row = self.vins_seen.get(vehicle["vin"])
            if first_vin_row is not None:
                raise _RowFailed([("vin", _l("This VIN is also in row %(n)s of the file.",
                                             n=first_vin_row))])
            self.vins_seen[vehicle["vin"]] = rowno
        if seen is None:
            self.owners_seen[key] = (rowno, _fingerprint(owner))
        if digest and digest not in self.digests_seen:
            self.digests_seen[digest] = (rowno, key)
        return _Row(rowno, owner, vehicle, key, id_number)

    def _clean_owner(self, rec: dict, errors: _Errors) -> tuple[dict, str | None]:
        # the rules of service.clean_owner, without its query per row (duplicates are
        # found per batch in write())
        out: dict = {}
        mapped = self.owner_fields
        name = service._text(rec.get("name"), 128)
        if not name:
            errors.add("name", _l("Enter the owner's name."))
        out["name"] = name
        if "mobile" in mapped:
            out["mobile"] = None
            if rec.get("mobile"):
                try:
                    out["mobile"] = validate_mobile(rec["mobile"])
                except InvalidValue as exc:
                    errors.add("mobile", exc.message)
        id_number = from_id = None
        if "id_number" in mapped and rec.get("id_number"):
            try:
                id_number, from_id = id_number_and_birthday(rec["id_number"], today=self.today)
            except InvalidValue as exc:
                errors.add("id_number", exc.message)
        if "birthday" in mapped:
            out["birthday"] = _date(rec.get("birthday"), "birthday", errors)
            if out["birthday"] and out["birthday"] > self.today:
                errors.add("birthday", _l("The birthday is in the future."))
        if "gender" in mapped:
            gender = rec.get("gender")
            if gender not in (None, ""):
                gender = GENDER_WORDS.get(str(gender).strip().lower())
                if gender is None:
                    errors.add("gender", _l("Choose male or female."))
            out["gender"] = gender or None
        if id_number:
            if out.get("birthday") and out["birthday"] != from_id:
                errors.add("birthday", _l("The birthday does not match the ID number (%(d)s).",
                                          d=from_id.isoformat()))
            out["birthday"] = from_id
            gender = "male" if int(id_number[16]) % 2 else "female"
            if out.get("gender") and out["gender"] != gender:
                errors.add("gender", _l("The gender does not match the ID number."))
            out["gender"] = gender
        for name_, limit in (("occupation", 64), ("address", 255), ("work_address", 255)):
            if name_ in mapped:
                out[name_] = service._text(rec.get(name_), limit)
        if "postal_code" in mapped:
            code = service._text(rec.get("postal_code"), 16)
            if code and not service.POSTAL_CODE.match(code):
                errors.add("postal_code", _l("Enter a 6-digit postal code."))
            out["postal_code"] = code
        if "email" in mapped:
            email = service._text(rec.get("email"), 254)
            if email and not service.EMAIL.match(email):
                errors.add("email", _l("Enter a valid e-mail address."))
            out["email"] = email
        if "hobbies" in mapped:
            out["hobbies"] = service.hobbies_list(rec.get("hobbies"))
        if not out.get("mobile") and not id_number and not any(
                f in ("mobile", "id_number") for f, _ in errors.fields):
            errors.add("mobile", _NEED_KEY)
        return out, id_number

    def _clean_vehicle(self, rec: dict, errors: _Errors) -> dict:
        # the rules of service.clean_vehicle, without its query per row
        out: dict = {}
        mapped = self.vehicle_fields
        try:
            out["vin"] = validate_vin(rec.get("vin"))
        except InvalidValue as exc:
            errors.add("vin", exc.message)
        if "plate" in mapped:
            out["plate"] = service.normalize_plate(rec.get("plate"))
        for name, limit in (("model", 64), ("colour", 32)):
            if name in mapped:
                out[name] = service._text(rec.get(name), limit)
        for name in ("purchase_date", "delivery_date", "insurance_expiry", "next_inspection_on"):
            if name in mapped:
                out[name] = _date(rec.get(name), name, errors)
        for name in ("purchase_date", "delivery_date"):
            if out.get(name) and out[name] > self.today:
                errors.add(name, _l("The date is in the future."))
        if out.get("purchase_date") and out.get("delivery_date") and \
                out["delivery_date"] < out["purchase_date"]:
            errors.add("delivery_date", _l("The delivery is before the purchase."))
        if "mileage_km" in mapped:
            out["mileage_km"] = service._int(rec.get("mileage_km"), "mileage_km", errors)
        return out

    # -- writing -----------------------------------------------------------------------

    def write(self, rows: list[_Row], report: ImportReport) -> list[str]:
        owners = Owner.__table__
        cid = self.chapter_id
        mobiles = {r.key[1] for r in rows if r.key[0] == "m"}
        digests = {r.values["id_number_digest"] for r in rows if r.values.get("id_number_digest")}
        cols = ("id", "anonymised_at") + _OWNER_COLUMNS
        # two lookups, not one with OR: each is an index scan on its unique key; the
        # second only for the ID numbers the first did not bring
        found = _fetch(owners, cols, cid, "mobile", mobiles) if mobiles else []
        digests.difference_update(o["id_number_digest"] for o in found)
        if digests:
            found.extend(_fetch(owners, cols, cid, "id_number_digest", digests))
        by_mobile = {o["mobile"]: o for o in found if o["mobile"]}
        by_digest = {o["id_number_digest"]: o for o in found if o["id_number_digest"]}

        # one owner per key: the first row of the key in this batch carries the values
        good: list[_Row] = []
        plans: dict[tuple, dict] = {}
        for row in rows:
            plan = plans.get(row.key)
            delivery = row.vehicle.get("delivery_date") if row.vehicle else None
            if plan is not None:
                plan["rows"].append(row)
                if delivery and (plan["since"] is None or delivery < plan["since"]):
                    plan["since"] = delivery
                good.append(row)
                continue
            digest = row.values.get("id_number_digest")
            existing = by_mobile.get(row.key[1]) if row.key[0] == "m" else None
            if existing is None and digest:
                existing = by_digest.get(digest)
            if digest and digest in by_digest and existing is not None and \
                    by_digest[digest]["id"] != existing["id"]:
                self.fail(report, row.rowno, [("id_number", _DUPLICATE_ID)])
                continue
            if existing is not None and existing["anonymised_at"] is not None:
                self.fail(report, row.rowno, [("name", _ANONYMISED)])
                continue
            plans[row.key] = {"row": row, "existing": existing, "since": delivery, "rows": [row]}
            good.append(row)

        inserts, updates, outcome = [], [], {}
        for key, plan in plans.items():
            row, existing = plan["row"], plan["existing"]
            values = dict(row.values)
            if plan["since"] is not None:
                values["customer_since"] = plan["since"]
            if existing is None:
                inserts.append(self._owner_insert(values, row.id_number))
                outcome[key] = "created"
                continue
            change = self._owner_change(values, existing, row.id_number)
            if change:
                updates.append(change)
                outcome[key] = "updated"
            else:
                outcome[key] = "unchanged"
            plan["owner_id"] = existing["id"]

        if inserts:
            got = _insert_new(owners, inserts, ("id", "mobile", "id_number_digest"))
            self.stats.grew(owners.name, len(got))
            self.stats.refresh(owners.name)  # before the vehicles' foreign keys are checked
            for new_id, mobile, digest in got:
                plans[("m", mobile) if mobile else ("d", digest)]["owner_id"] = new_id
            if any("owner_id" not in p for p in plans.values()):
                raise _Raced("mobile")  # another import of this chapter inserted it meanwhile
        if updates:
            _update_many(owners, cid, [c for c in _OWNER_COLUMNS] + ["updated_at"], updates)

        vehicle_outcome = self._write_vehicles([r for r in good if r.vehicle], plans, report)
        results = []
        firsts = {id(p["row"]) for p in plans.values()}
        for row in good:
            if row.rowno in vehicle_outcome and vehicle_outcome[row.rowno] is None:
                continue  # refused while writing its vehicle
            owner_part = outcome[row.key] if id(row) in firsts else "unchanged"
            results.append(_combine(owner_part, vehicle_outcome.get(row.rowno, "unchanged")))
        return results

    def _owner_insert(self, values: dict, id_number: str | None) -> dict:
        row = {c: None for c in _OWNER_COLUMNS}
        row.update(values)
        row.setdefault("hobbies", None)
        if row["hobbies"] is None:
            row["hobbies"] = []
        if id_number:
            row["id_number_enc"] = self.sealer.seal(id_number)
            row["id_number_masked"] = _mask(id_number)
        row.update(chapter_id=self.chapter_id, kind="individual", is_vip=False,
                   created_at=self.now, updated_at=self.now)
        return row

    def _owner_change(self, values: dict, existing, id_number: str | None) -> dict | None:
        """The full row to write when anything differs, else None (blanks keep values)."""
        merged = {c: existing[c] for c in _OWNER_COLUMNS}
        changed = False
        for name, value in values.items():
            if value is None or value == [] or name == "customer_since":
                continue
            if merged[name] != value:
                merged[name] = value
                changed = True
        since = values.get("customer_since")
        if since and (merged["customer_since"] is None or since < merged["customer_since"]):
            merged["customer_since"] = since
            changed = True
        if not changed:
            return None
        if id_number and existing["id_number_digest"] != values.get("id_number_digest"):
            # sealed again only when the number changed (a new nonce each time)
            merged["id_number_enc"] = self.sealer.seal(id_number)
            merged["id_number_masked"] = _mask(id_number)
        merged.update(id=existing["id"], updated_at=self.now)
        return merged

    def _write_vehicles(self, rows: list[_Row], plans: dict, report: ImportReport) -> dict:
        """Insert/update the rows' vehicles; return rowno → outcome (None = refused)."""
        result: dict[int, str | None] = {}
        if not rows:
            return result
        vehicles = Vehicle.__table__
        cid = self.chapter_id
        vins = [r.vehicle["vin"] for r in rows]
        found = {v["vin"]: v for v in _fetch(vehicles, ("id",) + _VEHICLE_COLUMNS, cid, "vin",
                                             vins)}
        inserts, updates, moved_delivery = [], [], {}
        for row in rows:
            values = dict(row.vehicle, owner_id=plans[row.key]["owner_id"])
            existing = found.get(values["vin"])
            if existing is None:
                insert = {c: None for c in _VEHICLE_COLUMNS}
                insert.update(values, chapter_id=cid, created_at=self.now, updated_at=self.now)
                inserts.append(insert)
                result[row.rowno] = "created"
                continue
            merged = {c: existing[c] for c in _VEHICLE_COLUMNS}
            changed = False
            for name, value in values.items():
                if value is None:
                    continue
                if name == "mileage_km" and merged[name] is not None and value <= merged[name]:
                    continue  # the odometer only goes up
                if merged[name] != value:
                    merged[name] = value
                    changed = True
            if not changed:
                result[row.rowno] = "unchanged"
                continue
            if merged["delivery_date"] != existing["delivery_date"] and merged["delivery_date"]:
                moved_delivery[existing["id"]] = (row, merged["delivery_date"])
            merged.update(id=existing["id"], updated_at=self.now)
            updates.append(merged)
            result[row.rowno] = "updated"
        if moved_delivery:
            refused = self._visits_before_delivery(moved_delivery, report)
            updates = [u for u in updates if u["id"] not in refused]
            for vid in refused:
                result[moved_delivery[vid][0].rowno] = None
        if inserts:
            got = _insert_new(vehicles, inserts, ("vin",))
            self.stats.grew(vehicles.name, len(got))
            if len(got) != len(inserts):
                raise _Raced("vin")  # a VIN inserted meanwhile by another import
        _update_many(vehicles, cid, list(_VEHICLE_COLUMNS) + ["updated_at"], updates)
        return result

    def _visits_before_delivery(self, moved: dict, report: ImportReport) -> set[int]:
        visits = ServiceVisit.__table__
        first = dict(_conn().execute(
            sa.select(visits.c.vehicle_id, sa.func.min(visits.c.visit_date))
            .where(visits.c.chapter_id == self.chapter_id, _in(visits.c.vehicle_id, moved))
            .group_by(visits.c.vehicle_id)).all())
        refused = set()
        for vid, (row, delivery) in moved.items():
            if first.get(vid) and first[vid] < delivery:
                self.fail(report, row.rowno, [("delivery_date", _l(
                    "A service visit on %(d)s is before this delivery date.",
                    d=first[vid].isoformat()))])
                refused.add(vid)
        return refused


def _combine(*outcomes: str) -> str:
    for outcome in ("created", "updated"):
        if outcome in outcomes:
            return outcome
    return "unchanged"


# --- service visits -------------------------------------------------------------------

_VISIT_COLUMNS = ("order_no", "vehicle_id", "owner_id", "visit_date", "visit_type", "amount_fen",
                  "mileage_km")


class _VisitImport(_Import):
    tables = (ServiceVisit.__table__,)

    def __init__(self, *args):
        super().__init__(*args)
        self.orders_seen: dict[str, int] = {}
        self.type_words = dict(VISIT_TYPE_WORDS)
        self.type_words.update({code: code for code in VISIT_TYPES})
        self.type_words.update({str(label).strip().lower(): code
                                for code, label in service.VISIT_TYPE_LABELS.items()})

    def clean(self, rowno: int, rec: dict) -> _Row:
        # the rules of service.clean_visit that need no database; the vehicle's are
        # checked per batch in write()
        errors = _Errors()
        out: dict = {}
        order_no = service._text(rec.get("order_no"), 32)
        if not order_no:
            errors.add("order_no", _l("Enter the work-order number."))
        out["order_no"] = order_no
        vin = None
        try:
            vin = validate_vin(rec.get("vin"))
        except InvalidValue as exc:
            errors.add("vin", exc.message)
        out["visit_date"] = _date(rec.get("visit_date"), "visit_date", errors)
        if out["visit_date"] is None and not any(f == "visit_date" for f, _ in errors.fields):
            errors.add("visit_date", _l("Enter the visit date."))
        elif out["visit_date"] and out["visit_date"] > self.today:
            errors.add("visit_date", _l("The date is in the future."))
        raw_type = rec.get("visit_type")
        out["visit_type"] = self.type_words.get(str(raw_type or "").strip().lower())
        if out["visit_type"] is None:
            errors.add("visit_type", _l("Choose the type of visit."))
        amount = rec.get("amount")
        try:
            out["amount_fen"] = parse_yuan(amount if amount not in (None, "") else 0)
        except ValueError:
            errors.add("amount", _l("Enter an amount in yuan, e.g. 680.00."))
        else:
            if out["amount_fen"] < 0:
                errors.add("amount", _l("The amount cannot be negative."))
        if "mileage_km" in self.mapping:
            out["mileage_km"] = service._int(rec.get("mileage_km"), "mileage_km", errors)
        if errors:
            raise _RowFailed(errors.fields)
        first = self.orders_seen.get(order_no)
        if first is not None:
            raise _RowFailed([("order_no", _l(
                "This work order is also in row %(n)s of the file.", n=first))])
        self.orders_seen[order_no] = rowno
        return _Row(rowno, out, extra={"vin": vin})

    def write(self, rows: list[_Row], report: ImportReport) -> list[str]:
        vehicles, visits, owners = Vehicle.__table__, ServiceVisit.__table__, Owner.__table__
        cid = self.chapter_id
        conn = _conn()
        cars = {v["vin"]: SimpleNamespace(**v) for v in _fetch(
            vehicles, ("id", "vin", "owner_id", "delivery_date", "mileage_km"), cid, "vin",
            {r.extra["vin"] for r in rows})}
        found = {v["order_no"]: v for v in _fetch(
            visits, ("id",) + _VISIT_COLUMNS, cid, "order_no",
            [r.values["order_no"] for r in rows])}
        inserts, updates, results = [], [], []
        mileage: dict[int, int] = {}
        since: dict[int, date] = {}
        for row in rows:
            car = cars.get(row.extra["vin"])
            if car is None:
                self.fail(report, row.rowno, [("vin", _l(
                    "No vehicle of this chapter has this VIN; import the owners and vehicles "
                    "first."))])
                continue
            values = dict(row.values, vehicle_id=car.id, owner_id=car.owner_id)
            if car.delivery_date and values["visit_date"] < car.delivery_date:
                self.fail(report, row.rowno, [("visit_date", _l(
                    "The visit is before the car's delivery (%(d)s).",
                    d=car.delivery_date.isoformat()))])
                continue
            existing = found.get(values["order_no"])
            if existing is None:
                inserts.append(dict({c: None for c in _VISIT_COLUMNS}, **values,
                                    chapter_id=cid, created_at=self.now))
                results.append("created")
            else:
                merged = {c: existing[c] for c in _VISIT_COLUMNS}
                merged.update({k: v for k, v in values.items() if v is not None})
                if merged != {c: existing[c] for c in _VISIT_COLUMNS}:
                    updates.append(dict(merged, id=existing["id"]))
                    results.append("updated")
                else:
                    results.append("unchanged")
            km = values.get("mileage_km")
            if km and (car.mileage_km or 0) < km and mileage.get(car.id, 0) < km:
                mileage[car.id] = km
            day = values["visit_date"]
            if car.owner_id not in since or day < since[car.owner_id]:
                since[car.owner_id] = day
        if inserts:
            got = _insert_new(visits, inserts, ("id",))
            self.stats.grew(visits.name, len(got))
            self.inserted.extend(r[0] for r in got)
            if len(got) != len(inserts):
                raise _Raced("order_no")  # a work order inserted meanwhile
        _update_many(visits, cid, _VISIT_COLUMNS, updates)
        # what service.add_visit keeps up to date: the odometer, and "customer since"
        if mileage:
            conn.execute(
                sa.update(vehicles)
                .where(vehicles.c.id == sa.bindparam("b_id"), vehicles.c.chapter_id == cid,
                       sa.or_(vehicles.c.mileage_km.is_(None),
                              vehicles.c.mileage_km < sa.bindparam("b_km")))
                .values(mileage_km=sa.bindparam("b_km")),
                [{"b_id": k, "b_km": v} for k, v in mileage.items()])
        if since:
            conn.execute(
                sa.update(owners)
                .where(owners.c.id == sa.bindparam("b_id"), owners.c.chapter_id == cid,
                       sa.or_(owners.c.customer_since.is_(None),
                              owners.c.customer_since > sa.bindparam("b_day")))
                .values(customer_since=sa.bindparam("b_day")),
                [{"b_id": k, "b_day": v} for k, v in since.items()])
        return results
