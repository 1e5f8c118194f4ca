"""HQ's view of events: per chapter, region and month (Asia/Shanghai), with export.

Reads across chapters inside :func:`clubplatform.tenancy.unscoped`; counted in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from chapter.events.models import CANCELLED, REGISTERED, Event, EventFeedback, EventRegistration
from chapter.recruitment.models import Application
from clubplatform import dates, tabular
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region
from clubplatform.tenancy import unscoped

HEADERS = ("month", "region", "chapter_id", "chapter", "events", "registered", "attended",
           "attendance_rate", "average_rating", "new_members")


@dataclass
class ReportRow:
    month: str
    region: str
    chapter_id: int
    chapter: str
    events: int
    registered: int
    attended: int
    average_rating: float | None
    new_members: int

    @property
    def attendance_rate(self) -> float | None:
        return round(self.attended / self.registered, 4) if self.registered else None

    def values(self) -> list:
        return [self.month, self.region, self.chapter_id, self.chapter, self.events,
                self.registered, self.attended, self.attendance_rate, self.average_rating,
                self.new_members]


def first_month(months: int, today: date | None = None) -> date:
    first = (today or dates.today()).replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def event_rows(*, months: int = 12, region: str | None = None,
               today: date | None = None) -> list[ReportRow]:
    """Scheduled events of the last ``months`` months, per month, region and chapter."""
    today = today or dates.today()
    since = dates.day_start_utc(first_month(months, today))
    until = dates.day_end_utc(dates.month_end(today))
    r = EventRegistration
    regs = (sa.select(r.chapter_id, r.event_id,
                      sa.func.count().filter(r.status == REGISTERED).label("registered"),
                      sa.func.count().filter(r.checked_in_at.is_not(None)).label("attended"))
            .group_by(r.chapter_id, r.event_id).subquery())
    ratings = (sa.select(EventFeedback.chapter_id, EventFeedback.event_id,
                         sa.func.sum(EventFeedback.rating).label("rating_sum"),
                         sa.func.count().label("rating_n"))
               .group_by(EventFeedback.chapter_id, EventFeedback.event_id).subquery())
    recruits = (sa.select(Application.chapter_id, Application.event_id,
                          sa.func.count().label("n"))
                .where(Application.source == "event", Application.event_id.is_not(None))
                .group_by(Application.chapter_id, Application.event_id).subquery())
    stmt = (sa.select(Event.chapter_id, Event.starts_at, Region.code, Chapter.name,
                      sa.func.coalesce(regs.c.registered, 0), sa.func.coalesce(regs.c.attended, 0),
                      sa.func.coalesce(ratings.c.rating_sum, 0),
                      sa.func.coalesce(ratings.c.rating_n, 0), sa.func.coalesce(recruits.c.n, 0))
            .join(Chapter, Chapter.id == Event.chapter_id)
            .join(Dealer, Dealer.id == Chapter.dealer_id)
            .join(Region, Region.id == Dealer.region_id)
            .outerjoin(regs, sa.and_(regs.c.chapter_id == Event.chapter_id,
                                     regs.c.event_id == Event.id))
            .outerjoin(ratings, sa.and_(ratings.c.chapter_id == Event.chapter_id,
                                        ratings.c.event_id == Event.id))
            .outerjoin(recruits, sa.and_(recruits.c.chapter_id == Event.chapter_id,
                                         recruits.c.event_id == Event.id))
            .where(Event.status != CANCELLED, Event.starts_at >= since, Event.starts_at < until))
    if region:
        stmt = stmt.where(Region.code == region)
    grouped: dict[tuple, list] = {}
    with unscoped("HQ events report: events of every chapter"):
        rows = db.session.execute(stmt).all()
    for chapter_id, starts_at, region_code, chapter_name, reg, att, rsum, rn, new in rows:
        month = dates.local(starts_at).strftime("%Y-%m")
        key = (month, region_code, chapter_id, chapter_name)
        acc = grouped.setdefault(key, [0, 0, 0, 0, 0, 0])
        acc[0] += 1
        acc[1] += int(reg)
        acc[2] += int(att)
        acc[3] += int(rsum)
        acc[4] += int(rn)
        acc[5] += int(new)
    out = []
    for (month, region_code, chapter_id, chapter_name), acc in grouped.items():
        out.append(ReportRow(month, region_code, chapter_id, chapter_name, acc[0], acc[1], acc[2],
                             round(acc[3] / acc[4], 2) if acc[4] else None, acc[5]))
    out.sort(key=lambda x: (x.month, x.region, x.chapter), reverse=False)
    out.sort(key=lambda x: x.month, reverse=True)
    return out


def totals_by(rows: list[ReportRow], key) -> list[tuple[str, int, int, int]]:
    """(label, events, registered, attended) grouped by ``key`` (region or month)."""
    acc: dict[str, list[int]] = {}
    for row in rows:
        a = acc.setdefault(key(row), [0, 0, 0])
        a[0] += row.events
        a[1] += row.registered
        a[2] += row.attended
    return sorted(((k, *v) for k, v in acc.items()), key=lambda t: t[0])


def export(rows: list[ReportRow], fmt: str) -> tuple[bytes, str, str]:
    """The rows as CSV or XLSX: (content, mimetype, file extension)."""
    values = [row.values() for row in rows]
    if fmt == "xlsx":
        return (tabular.to_xlsx(HEADERS, values, title="events"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    return tabular.to_csv(HEADERS, values), "text/csv; charset=utf-8", "csv"
