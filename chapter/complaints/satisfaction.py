"""Satisfaction after service visits (满意度): the 3D/7D follow-up scores, per advisor and chapter.

The scores (1–5 and a comment) are captured on the care list and stored in its
``service_feedback`` table (:class:`chapter.care.models.ServiceFeedback`); this module
only reads them, in SQL (one GROUP BY per figure). Periods are Asia/Shanghai business
dates of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.care.models import ServiceFeedback
from clubplatform import dates
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer
from clubplatform.tenancy import unscoped

WHY = "HQ service satisfaction: every chapter's follow-up scores"


@dataclass
class SatisfactionRow:
    key: str
    label: str
    responses: int
    average: float | None
    #: scores of 1 or 2
    low: int


@dataclass
class SatisfactionReport:
    rows: list[SatisfactionRow]
    #: whether the follow-up scores are recorded (always, since the care list stores them)
    available: bool = True


def _measures(f):
    return [sa.func.count(f.c.score).label("responses"),
            sa.func.avg(sa.cast(f.c.score, sa.Float)).label("average"),
            sa.func.sum(sa.case((f.c.score <= 2, 1), else_=0)).label("low")]


def _period(f, start: date | None, end: date | None) -> list:
    where = []
    if start:
        where.append(f.c.recorded_at >= dates.day_start_utc(start))
    if end:
        where.append(f.c.recorded_at < dates.day_end_utc(end))
    return where


def _to_row(key, label, m) -> SatisfactionRow:
    return SatisfactionRow(str(key), str(label), int(m["responses"] or 0),
                           None if m["average"] is None else round(float(m["average"]), 2),
                           int(m["low"] or 0))


def per_advisor(chapter_id: int, *, start: date | None = None,
                end: date | None = None) -> SatisfactionReport:
    """The chapter's follow-up scores per care advisor (worst average first)."""
    f, u = ServiceFeedback.__table__, User.__table__
    average = sa.func.avg(sa.cast(f.c.score, sa.Float))
    stmt = (sa.select(f.c.advisor_id, u.c.display_name, *_measures(f))
            .select_from(f.outerjoin(u, u.c.id == f.c.advisor_id))
            .where(f.c.chapter_id == chapter_id, *_period(f, start, end))
            .group_by(f.c.advisor_id, u.c.display_name)
            .order_by(average, u.c.display_name))
    rows = db.session.execute(stmt).all()
    return SatisfactionReport(
        [_to_row(r.advisor_id or "", r.display_name or _l("No advisor"), r._mapping)
         for r in rows])


def chapter_average(chapter_id: int, *, start: date | None = None,
                    end: date | None = None) -> SatisfactionRow:
    """The chapter's overall follow-up score."""
    f = ServiceFeedback.__table__
    row = db.session.execute(sa.select(*_measures(f)).where(
        f.c.chapter_id == chapter_id, *_period(f, start, end))).one()
    return _to_row(chapter_id, _l("The chapter"), row._mapping)


def per_chapter(*, start: date | None = None, end: date | None = None,
                region_id: int | None = None) -> SatisfactionReport:
    """Every chapter's follow-up scores (HQ): one GROUP BY across chapters."""
    f, ch, d = ServiceFeedback.__table__, Chapter.__table__, Dealer.__table__
    stmt = (sa.select(ch.c.id, ch.c.name, *_measures(f))
            .select_from(f.join(ch, ch.c.id == f.c.chapter_id).join(d, d.c.id == ch.c.dealer_id))
            .where(*_period(f, start, end)).group_by(ch.c.id, ch.c.name).order_by(ch.c.name))
    if region_id:
        stmt = stmt.where(d.c.region_id == region_id)
    with unscoped(WHY):
        rows = db.session.execute(stmt).all()
    return SatisfactionReport([_to_row(r.id, r.name, r._mapping) for r in rows])
