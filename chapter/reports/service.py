"""The chapter's reports (会员管理报告): daily work, member status, points; exports.

The member status counting is :func:`hq.members.service.member_status_report` (SQL,
GROUP BY) for the one chapter, the points figures :mod:`hq.settlement.reports`, the
churn figures :mod:`chapter.churn.service`; this module adds the daily work counts
and what the chapter's reports page shows besides.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.recruitment.models import Application
from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.errors import field_error
from clubplatform.extensions import db
from clubplatform.tabular import to_csv, to_xlsx
from hq.members import service as members
from hq.members.models import Transfer
from hq.points.models import PointEntry
from hq.settlement import reports as points_reports


@dataclass
class ChapterStatus:
    """The chapter's line of the report, and transfers waiting for a decision."""

    report: members.StatusReport
    row: members.StatusRow
    waiting_in: int
    waiting_out: int


def chapter_status(chapter_id: int, month: date) -> ChapterStatus:
    """Member status of one chapter for a month (as of its last day, or today)."""
    report = members.member_status_report(month, group="chapter", chapter_id=chapter_id)
    row = report.rows[0] if report.rows else members.StatusRow.empty(chapter_id)
    waiting_in, waiting_out = db.session.execute(
        sa.select(sa.func.count().filter(Transfer.to_chapter_id == chapter_id),
                  sa.func.count().filter(Transfer.from_chapter_id == chapter_id))
        .where(Transfer.status == members.REQUESTED,
               sa.or_(Transfer.to_chapter_id == chapter_id,
                      Transfer.from_chapter_id == chapter_id))).one()
    return ChapterStatus(report=report, row=row, waiting_in=waiting_in, waiting_out=waiting_out)


def export_chapter_status(chapter_id: int, month: date, *, fmt: str, encoding: str | None,
                          actor, ip: str | None = None) -> members.ExportFile:
    """The chapter's report as CSV/XLSX; the file name carries the chapter id; audited."""
    report = members.member_status_report(month, group="chapter", chapter_id=chapter_id)
    return members.export_member_status(report, fmt=fmt, encoding=encoding, actor=actor, ip=ip)


# --- daily work (tasks done, applications, check-ins, points awarded, complaints) ----------

#: the longest date range the daily work report covers
MAX_RANGE_DAYS = 92


@dataclass
class DailyWork:
    """What the chapter did between two business dates (inclusive); ``None``: not available."""

    first: date
    last: date
    figures: dict  # key -> int | None, in display order


DAILY_WORK_LABELS = {
    "tasks_done": _l("Care tasks done"),
    "applications_received": _l("Applications received"),
    "applications_approved": _l("Applications approved"),
    "applications_rejected": _l("Applications rejected"),
    "check_ins": _l("Event check-ins"),
    "points_awarded": _l("Points awarded"),
    "points_awards": _l("Point awards"),
    "complaints_received": _l("Complaints received"),
    "complaints_closed": _l("Complaints closed"),
}


def parse_range(first_text: str | None, last_text: str | None, month: date) -> tuple[date, date]:
    """``from``/``to`` (YYYY-MM-DD) or, when both are blank, the month up to today."""
    if not (first_text or "").strip() and not (last_text or "").strip():
        return month.replace(day=1), min(dates.month_end(month), dates.today())
    parsed = {}
    for name, text in (("from", first_text), ("to", last_text)):
        try:
            parsed[name] = date.fromisoformat((text or "").strip())
        except ValueError:
            raise field_error(name, _l("Enter a date as YYYY-MM-DD.")) from None
    if parsed["to"] < parsed["from"]:
        raise field_error("to", _l("The end is before the start."))
    if (parsed["to"] - parsed["from"]).days >= MAX_RANGE_DAYS:
        raise field_error("to", _l("Choose at most %(n)s days.", n=MAX_RANGE_DAYS))
    return parsed["from"], parsed["to"]


def _optional(module: str, name: str):
    """A model of a capability that may not be installed (events, care, complaints)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def daily_work(chapter_id: int, first: date, last: date) -> DailyWork:
    """Counts of the chapter's work in the range, each one SQL aggregate with the chapter
    predicate written out (Core). Figures of a capability that is not there are ``None``."""
    start, end = dates.day_start_utc(first), dates.day_end_utc(last)
    figures: dict = dict.fromkeys(DAILY_WORK_LABELS)

    def one(stmt):
        return db.session.execute(stmt).one()

    task = _optional("chapter.care.models", "CareTask")
    if task is not None:
        t = task.__table__
        figures["tasks_done"] = one(sa.select(sa.func.count()).where(
            t.c.chapter_id == chapter_id, t.c.status == "done",
            t.c.done_on.between(first, last)))[0]
    a = Application.__table__
    received, approved, rejected = one(sa.select(
        sa.func.count().filter(a.c.applied_on.between(first, last)),
        sa.func.count().filter(a.c.status == "approved", a.c.decided_on.between(first, last)),
        sa.func.count().filter(a.c.status == "rejected", a.c.decided_on.between(first, last)),
    ).where(a.c.chapter_id == chapter_id))
    figures.update(applications_received=received, applications_approved=approved,
                   applications_rejected=rejected)
    reg = _optional("chapter.events.models", "EventRegistration")
    if reg is not None:
        r = reg.__table__
        figures["check_ins"] = one(sa.select(sa.func.count()).where(
            r.c.chapter_id == chapter_id, r.c.checked_in_at >= start,
            r.c.checked_in_at < end))[0]
    pe = PointEntry.__table__
    awards, points = one(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(pe.c.points), 0))
                         .where(pe.c.chapter_id == chapter_id, pe.c.kind == "earn",
                                pe.c.business_date.between(first, last)))
    figures.update(points_awarded=int(points), points_awards=awards)
    complaint = _optional("chapter.complaints.models", "Complaint")
    if complaint is not None:
        c = complaint.__table__
        got, closed = one(sa.select(
            sa.func.count().filter(c.c.received_on.between(first, last)),
            sa.func.count().filter(c.c.closed_at >= start, c.c.closed_at < end),
        ).where(c.c.chapter_id == chapter_id))
        figures.update(complaints_received=got, complaints_closed=closed)
    return DailyWork(first=first, last=last, figures=figures)


def export_daily_work(chapter_id: int, work: DailyWork, *, fmt: str, actor,
                      ip: str | None = None) -> members.ExportFile:
    """The daily work figures as CSV or XLSX (one line per figure); audited."""
    if fmt not in members.EXPORT_FORMATS:
        raise field_error("format", _l("Choose CSV or XLSX."))
    headers = [str(_l("From")), str(_l("To")), str(_l("Figure")), str(_l("Count"))]
    rows = [[work.first, work.last, str(DAILY_WORK_LABELS[k]), "" if v is None else v]
            for k, v in work.figures.items()]
    stem = f"daily-work-c{chapter_id}-{work.first}-{work.last}"
    audit.record("export", actor=actor, ip=ip, chapter_id=chapter_id, target_type="daily_work",
                 details={"from": work.first.isoformat(), "to": work.last.isoformat(),
                          "format": fmt})
    return _file(stem, headers, rows, fmt, str(_l("Daily work")))


def export_points(chapter_id: int, month: date, *, fmt: str, actor,
                  ip: str | None = None) -> members.ExportFile:
    """The chapter's points report of a month as CSV or XLSX; audited."""
    if fmt not in members.EXPORT_FORMATS:
        raise field_error("format", _l("Choose CSV or XLSX."))
    report = points_reports.points_report(month, group="chapter", chapter_id=chapter_id)
    if not report.rows:  # nothing happened: still the chapter's line, with zeros
        report.rows = [report.total]
    headers, rows = points_reports.report_table(report)
    audit.record("export", actor=actor, ip=ip, chapter_id=chapter_id,
                 target_type="points_report",
                 details={"month": month.strftime("%Y-%m"), "format": fmt})
    return _file(f"points-c{chapter_id}-{month:%Y-%m}", headers, rows, fmt, str(_l("Points")))


def _file(stem: str, headers, rows, fmt: str, title: str) -> members.ExportFile:
    if fmt == "csv":
        return members.ExportFile(to_csv(headers, rows), "text/csv; charset=utf-8", f"{stem}.csv")
    return members.ExportFile(
        to_xlsx(headers, rows, title=title),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}.xlsx")
