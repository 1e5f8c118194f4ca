"""The chapter's member status report (会员管理报告): figures and exports.

The counting is :func:`hq.members.service.member_status_report` (SQL, GROUP BY) for
the one chapter; this module adds what the chapter page shows besides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from clubplatform.extensions import db
from hq.members import service as members
from hq.members.models import Transfer


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
