"""HQ's complaint figures: counts, causes, time to acknowledge and close, reopen rate, satisfaction.

Per chapter, region or month, computed in SQL (one GROUP BY over ``complaints`` joined
to the organisation tables), across chapters inside :func:`unscoped`. Months are the
Asia/Shanghai business month a complaint was received in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.complaints.forms import CAUSE_LABELS
from chapter.complaints.models import CAUSES, CLOSED, OPEN, Complaint
from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region
from clubplatform.tenancy import unscoped

GROUPS = ("chapter", "region", "month")
GROUP_LABELS = {"chapter": _l("Chapter"), "region": _l("Region"), "month": _l("Month")}
WHY = "HQ complaint figures: every chapter's complaints"


@dataclass
class FigureRow:
    key: str
    label: str
    total: int
    open: int
    closed: int
    escalated: int
    reopened: int
    causes: dict[str, int]
    avg_ack_hours: float | None
    avg_close_hours: float | None
    avg_satisfaction: float | None
    rated: int

    @property
    def reopen_rate(self) -> float | None:
        """Share of complaints ever closed that were reopened."""
        base = self.closed + self.reopened_open
        return round(self.reopened / base, 3) if base else None

    #: reopened complaints that are open again (closed once, so in the rate's base)
    reopened_open: int = 0


@dataclass
class Figures:
    group: str
    start: date
    end: date
    rows: list[FigureRow]
    totals: FigureRow | None
    cause_totals: dict[str, int] = field(default_factory=dict)

    @property
    def max_total(self) -> int:
        return max([r.total for r in self.rows] + [1])


def month_expr(column):
    """``YYYY-MM`` of a date column, in the database's own dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM")
    return sa.func.strftime("%Y-%m", column)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, this one included."""
    today = today or dates.today()
    index = today.year * 12 + today.month - 1 - 11
    return date(index // 12, index % 12 + 1, 1), dates.month_end(today)


def _hours(minutes) -> float | None:
    return None if minutes is None else round(float(minutes) / 60, 1)


def complaint_figures(*, group: str = "chapter", start: date | None = None,
                      end: date | None = None, region_id: int | None = None) -> Figures:
    """The figures of complaints received between ``start`` and ``end`` (business dates)."""
    if group not in GROUPS:
        group = "chapter"
    d_start, d_end = default_period()
    start, end = start or d_start, end or d_end
    c, ch, d, r = (Complaint.__table__, Chapter.__table__, Dealer.__table__, Region.__table__)
    if group == "chapter":
        keys = [ch.c.id, ch.c.name]
    elif group == "region":
        keys = [r.c.code, r.c.name_zh]
    else:
        month = month_expr(c.c.received_on)
        keys = [month.label("month"), month.label("month_label")]
    closed = c.c.status == CLOSED
    measures = [
        sa.func.count().label("total"),
        sa.func.sum(sa.case((c.c.status == OPEN, 1), else_=0)).label("open"),
        sa.func.sum(sa.case((closed, 1), else_=0)).label("closed"),
        sa.func.sum(sa.case((c.c.escalated_at.is_not(None), 1), else_=0)).label("escalated"),
        sa.func.sum(sa.case((c.c.reopen_count > 0, 1), else_=0)).label("reopened"),
        sa.func.sum(sa.case((sa.and_(c.c.reopen_count > 0, c.c.status == OPEN), 1),
                            else_=0)).label("reopened_open"),
        sa.func.avg(c.c.ack_minutes).label("ack"),
        sa.func.avg(sa.case((closed, c.c.close_minutes))).label("close"),
        sa.func.avg(sa.cast(c.c.satisfaction, sa.Float)).label("satisfaction"),
        sa.func.count(c.c.satisfaction).label("rated"),
    ] + [sa.func.sum(sa.case((c.c.cause == cause, 1), else_=0)).label(f"cause_{cause}")
         for cause in CAUSES]
    base = (c.join(ch, ch.c.id == c.c.chapter_id).join(d, d.c.id == ch.c.dealer_id)
            .join(r, r.c.id == d.c.region_id))
    where = [c.c.received_on >= start, c.c.received_on <= end]
    if region_id:
        where.append(r.c.id == region_id)
    stmt = (sa.select(*keys, *measures).select_from(base).where(*where)
            .group_by(*keys).order_by(*keys))
    total_stmt = sa.select(*measures).select_from(base).where(*where)
    with unscoped(WHY):
        rows = db.session.execute(stmt).all()
        total = db.session.execute(total_stmt).one()
    out = [_row(str(row[0]), str(row[1]), row._mapping) for row in rows]
    totals = _row("", str(_l("All")), total._mapping) if total.total else None
    cause_totals = {cause: totals.causes[cause] if totals else 0 for cause in CAUSES}
    return Figures(group, start, end, out, totals, cause_totals)


def _row(key: str, label: str, m) -> FigureRow:
    return FigureRow(
        key=key, label=label, total=int(m["total"] or 0), open=int(m["open"] or 0),
        closed=int(m["closed"] or 0), escalated=int(m["escalated"] or 0),
        reopened=int(m["reopened"] or 0),
        causes={cause: int(m[f"cause_{cause}"] or 0) for cause in CAUSES},
        avg_ack_hours=_hours(m["ack"]), avg_close_hours=_hours(m["close"]),
        avg_satisfaction=None if m["satisfaction"] is None else round(float(m["satisfaction"]), 2),
        rated=int(m["rated"] or 0), reopened_open=int(m["reopened_open"] or 0))


def figures_table(fig: Figures) -> tuple[list[str], list[list]]:
    """Headers and rows of the figures, for the CSV and XLSX exports."""
    headers = [str(GROUP_LABELS[fig.group]), str(_l("Complaints")), str(_l("Being handled")),
               str(_l("Closed")), str(_l("Escalated")),
               *[str(CAUSE_LABELS[c]) for c in CAUSES],
               str(_l("Hours to acknowledge")), str(_l("Hours to close")),
               str(_l("Reopened")), str(_l("Reopen rate")), str(_l("Satisfaction (1-5)")),
               str(_l("Ratings"))]
    rows = []
    for r in fig.rows + ([fig.totals] if fig.totals else []):
        rows.append([r.label, r.total, r.open, r.closed, r.escalated,
                     *[r.causes[c] for c in CAUSES], r.avg_ack_hours, r.avg_close_hours,
                     r.reopened, r.reopen_rate, r.avg_satisfaction, r.rated])
    return headers, rows
