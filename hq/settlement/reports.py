"""Points reports: issued, redeemed, expired and the outstanding liability.

Per chapter, region or the nation for a month, and month by month; all sums are SQL
GROUP BY over the ledger (Core tables, explicit chapter predicates), never rows in
Python. An entry counts where it happened (its ``chapter_id``): points issued at a
chapter, redeemed there, expired there. The outstanding liability is the sum of every
entry up to the month's last day (points, and their value in fen as fixed when
written), so for a chapter it is what was issued there less what was used there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.db import read_replica
from clubplatform.errors import field_error
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region
from hq.points.models import PointEntry

GROUPS = ("chapter", "region", "nation")
_pe = PointEntry.__table__
_ch, _dl, _rg = Chapter.__table__, Dealer.__table__, Region.__table__


@dataclass
class PointsRow:
    key: int | None
    code: str = ""
    name: str = ""
    issued: int = 0
    redeemed: int = 0
    expired: int = 0
    adjusted: int = 0
    issued_fen: int = 0
    redeemed_fen: int = 0
    expired_fen: int = 0
    outstanding: int = 0
    outstanding_fen: int = 0


@dataclass
class PointsReport:
    month: date
    month_end: date
    group: str
    rows: list[PointsRow]
    total: PointsRow
    chapter_id: int | None = None
    region_id: int | None = None
    by_month: list[PointsRow] = field(default_factory=list)


def _sums(first: date, last: date):
    """Aggregates for entries in [first, last] and the liability up to ``last``."""
    in_month = sa.and_(_pe.c.business_date >= first, _pe.c.business_date <= last)

    def s(cond, col):
        return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(in_month, cond), col), else_=0)), 0)

    earn, redeem, expire, adjust = (_pe.c.kind == k for k in ("earn", "redeem", "expire",
                                                               "adjust"))
    return [s(earn, _pe.c.points).label("issued"), s(redeem, -_pe.c.points).label("redeemed"),
            s(expire, -_pe.c.points).label("expired"), s(adjust, _pe.c.points).label("adjusted"),
            s(earn, _pe.c.value_fen).label("issued_fen"),
            s(redeem, -_pe.c.value_fen).label("redeemed_fen"),
            s(expire, -_pe.c.value_fen).label("expired_fen"),
            sa.func.coalesce(sa.func.sum(_pe.c.points), 0).label("outstanding"),
            sa.func.coalesce(sa.func.sum(_pe.c.value_fen), 0).label("outstanding_fen")]


def _row(key, r) -> PointsRow:
    return PointsRow(key=key, **{k: int(r._mapping[k]) for k in (
        "issued", "redeemed", "expired", "adjusted", "issued_fen", "redeemed_fen",
        "expired_fen", "outstanding", "outstanding_fen")})


@read_replica()  # HQ reporting reads the streaming replica when DATABASE_REPLICA_URL is set
def points_report(month: date, *, group: str = "chapter", chapter_id: int | None = None,
                  region_id: int | None = None, months: int = 12) -> PointsReport:
    """The month's points by chapter/region/nation, and the last ``months`` months."""
    if group not in GROUPS:
        raise field_error("group", _l("Group by chapter, region or nation."))
    first = month.replace(day=1)
    last = dates.month_end(first)
    base = _pe.join(_ch, _ch.c.id == _pe.c.chapter_id).join(_dl, _dl.c.id == _ch.c.dealer_id)
    where = [_pe.c.business_date <= last]
    if chapter_id is not None:
        where.append(_pe.c.chapter_id == chapter_id)
    if region_id is not None:
        where.append(_dl.c.region_id == region_id)
    key = {"chapter": _pe.c.chapter_id, "region": _dl.c.region_id,
           "nation": sa.literal(0)}[group]
    result = db.session.execute(sa.select(key.label("k"), *_sums(first, last))
                                .select_from(base).where(*where).group_by(key)).all()
    rows = [_row(r.k, r) for r in result]
    _label(rows, group)
    rows.sort(key=lambda r: (r.code, r.key or 0))
    total = _total(rows, None, str(_l("Total")))
    return PointsReport(month=first, month_end=last, group=group, rows=rows, total=total,
                        chapter_id=chapter_id, region_id=region_id,
                        by_month=points_by_month(first, months, chapter_id=chapter_id,
                                                 region_id=region_id))


def _total(rows, key, name) -> PointsRow:
    t = PointsRow(key=key, name=name)
    for r in rows:
        for f in ("issued", "redeemed", "expired", "adjusted", "issued_fen", "redeemed_fen",
                  "expired_fen", "outstanding", "outstanding_fen"):
            setattr(t, f, getattr(t, f) + getattr(r, f))
    return t


def _label(rows: list[PointsRow], group: str) -> None:
    keys = [r.key for r in rows]
    if group == "chapter" and keys:
        names = {cid: (code, name) for cid, code, name in db.session.execute(
            sa.select(_ch.c.id, _dl.c.code, _ch.c.name)
            .join(_dl, _dl.c.id == _ch.c.dealer_id).where(_ch.c.id.in_(keys))).all()}
    elif group == "region" and keys:
        names = {rid: (code, name) for rid, code, name in db.session.execute(
            sa.select(_rg.c.id, _rg.c.code, _rg.c.name_zh).where(_rg.c.id.in_(keys))).all()}
    else:
        names = {0: ("", str(_l("Nation")))}
    for r in rows:
        r.code, r.name = names.get(r.key, ("", ""))


def _month_key():
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(_pe.c.business_date, "YYYY-MM")
    return sa.func.strftime("%Y-%m", _pe.c.business_date)


@read_replica()
def points_by_month(month: date, months: int = 12, *, chapter_id: int | None = None,
                    region_id: int | None = None) -> list[PointsRow]:
    """Month by month up to ``month`` (oldest first), the liability at each month's end."""
    first_index = month.year * 12 + month.month - 1 - (months - 1)
    start = date(first_index // 12, first_index % 12 + 1, 1)
    last = dates.month_end(month)
    base = _pe
    where = [_pe.c.business_date <= last]
    if chapter_id is not None:
        where.append(_pe.c.chapter_id == chapter_id)
    if region_id is not None:
        base = _pe.join(_ch, _ch.c.id == _pe.c.chapter_id).join(_dl, _dl.c.id == _ch.c.dealer_id)
        where.append(_dl.c.region_id == region_id)
    opening = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(_pe.c.points), 0),
                  sa.func.coalesce(sa.func.sum(_pe.c.value_fen), 0))
        .select_from(base).where(*where, _pe.c.business_date < start)).one()
    mk = _month_key().label("m")
    found = {r.m: r for r in db.session.execute(
        sa.select(mk, *_sums(start, last)).select_from(base)
        .where(*where, _pe.c.business_date >= start).group_by(mk)).all()}
    out, points, fen = [], int(opening[0]), int(opening[1])
    for i in range(months):
        idx = first_index + i
        label = f"{idx // 12:04d}-{idx % 12 + 1:02d}"
        r = found.get(label)
        row = _row(None, r) if r is not None else PointsRow(key=None)
        points, fen = points + row.outstanding, fen + row.outstanding_fen
        row.outstanding, row.outstanding_fen, row.code, row.name = points, fen, label, label
        out.append(row)
    return out


def report_table(report: PointsReport) -> tuple[list[str], list[list]]:
    headers = [str(_l("Month")), str(_l("Code")), str(_l("Name")), str(_l("Points issued")),
               str(_l("Points redeemed")), str(_l("Points expired")), str(_l("Points adjusted")),
               str(_l("Issued (fen)")), str(_l("Redeemed (fen)")), str(_l("Expired (fen)")),
               str(_l("Outstanding points")), str(_l("Outstanding (fen)"))]
    m = report.month.strftime("%Y-%m")

    def line(r):
        return [m, r.code, r.name, r.issued, r.redeemed, r.expired, r.adjusted, r.issued_fen,
                r.redeemed_fen, r.expired_fen, r.outstanding, r.outstanding_fen]

    return headers, [line(r) for r in report.rows] + ([line(report.total)]
                                                       if len(report.rows) > 1 else [])
