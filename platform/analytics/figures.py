"""The figures HQ decides on, as of month ends, in one SQL statement (Core, no ORM).

DOMAIN.md "Figures HQ decides on". For every month end ``E`` of a range and every
chapter, region and the nation:

- chapters open on ``E`` (founded on or before it, not closed by it);
- dealers with full after-sales function on ``E`` (``dealer_after_sales_periods``);
- members on ``E``: a status period of the chapter covers ``E`` (suspended count; a
  member who transferred counts for the chapter whose period covers the date);
- pending applications: made on or before ``E``, not decided by it;
- individual owners who were the dealer's customers on ``E`` (``customer_since``:
  first delivery or first service there; companies excluded);
- new members: joined the chapter in the month; referral purchases: referrals (a lead
  with a referring member) bought in the month, and from 1 January;
- rates in basis points, rounded half up: recruitment = (members + pending) / owners,
  dealer join = chapters / dealers with full after-sales.

A closed (or not yet founded) chapter counts for nothing on ``E``, nor do its owners.

How: the history tables are read once each. Every row becomes a +1 in the month it
starts counting and a −1 in the month it stops (rows older than the range start in
its first month); per chapter and month those deltas are summed (GROUP BY), and a
running ``SUM() OVER (PARTITION BY chapter ORDER BY month)`` turns them into as-of
counts on each month end. Regions and the nation add up their open chapters. The
same statement runs on SQLite and PostgreSQL; every count is an integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from clubplatform import dates
from clubplatform.analytics.models import CHAPTER, NATION, REGION
from clubplatform.extensions import db

#: the figures of a row, in order (what a snapshot stores besides its key)
FIGURES = ("chapters", "dealers_full_after_sales", "join_rate_bp", "members",
           "pending_applications", "new_members", "owners", "recruitment_rate_bp",
           "referral_purchases", "referral_purchases_ytd")
#: the key columns of a row
KEYS = ("month_end", "level", "scope_id", "region_id")


class month_index(FunctionElement):  # noqa: N801 (a SQL function)
    """``year * 12 + month - 1`` of a date, as an integer, on SQLite and PostgreSQL."""

    type = sa.Integer()
    inherit_cache = True


@compiles(month_index)
def _month_index_pg(element, compiler, **kw):
    arg = compiler.process(list(element.clauses)[0], **kw)
    return (f"(CAST(EXTRACT(YEAR FROM {arg}) AS INTEGER) * 12 "
            f"+ CAST(EXTRACT(MONTH FROM {arg}) AS INTEGER) - 1)")


@compiles(month_index, "sqlite")
def _month_index_sqlite(element, compiler, **kw):
    arg = compiler.process(list(element.clauses)[0], **kw)
    return (f"(CAST(strftime('%Y', {arg}) AS INTEGER) * 12 "
            f"+ CAST(strftime('%m', {arg}) AS INTEGER) - 1)")


def index_of(d: date) -> int:
    return d.year * 12 + d.month - 1


def first_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def end_of(index: int) -> date:
    return first_of(index + 1) - timedelta(days=1)


def month_ends(first: date, last: date) -> list[date]:
    """The month ends from ``first``'s month to ``last``'s, oldest first."""
    return [end_of(i) for i in range(index_of(first), index_of(last) + 1)]


def _t(name: str) -> sa.Table:
    return db.metadata.tables[name]


class month_bucket(sa.sql.expression.ColumnElement):  # noqa: N801 (a SQL expression)
    """The month index of a date within a grid of months, dates before the grid in its
    first month: ``first + width_bucket(d, ARRAY[the next months' first days])`` on
    PostgreSQL (a binary search, much cheaper per row than EXTRACT's numerics), a CASE
    over ``strftime`` on SQLite."""

    type = sa.Integer()
    inherit_cache = False

    def __init__(self, col, first_index: int, last_index: int) -> None:
        self.col = col
        self.first_index, self.last_index = first_index, last_index

    def _copy_internals(self, clone=sa.sql.visitors.InternalTraversal, **kw):
        self.col = clone(self.col, **kw) if callable(clone) else self.col

    def get_children(self, **kw):
        return (self.col,)


@compiles(month_bucket)
def _month_bucket_pg(element, compiler, **kw):
    col = compiler.process(element.col, **kw)
    starts = ", ".join(f"'{first_of(i).isoformat()}'"
                       for i in range(element.first_index + 1, element.last_index + 2))
    return f"({element.first_index} + width_bucket({col}, ARRAY[{starts}]::date[]))"


@compiles(month_bucket, "sqlite")
def _month_bucket_sqlite(element, compiler, **kw):
    col = compiler.process(element.col, **kw)
    start = first_of(element.first_index).isoformat()
    index = compiler.process(month_index(element.col), **kw)
    return f"(CASE WHEN {col} < '{start}' THEN {element.first_index} ELSE {index} END)"


def _bucket(col, first_index: int, last_index: int):
    """The month a date falls in, dates before the grid in its first month."""
    return month_bucket(col, first_index, last_index)


#: the delta columns: members, pending applications, owners, new members, referrals
DELTAS = ("d_mem", "d_pend", "d_own", "d_new", "d_ref")
_zero = sa.literal_column("0", sa.BigInteger)


def _int(value: int):
    """An integer constant written into the SQL (no parameter to type)."""
    return sa.literal_column(str(int(value)), sa.Integer)


class date_constant(sa.sql.expression.ColumnElement):  # noqa: N801 (a SQL constant)
    """A date written into the SQL: ``DATE '2024-02-29'`` (SQLite: the ISO text it stores)."""

    type = sa.Date()
    inherit_cache = True

    def __init__(self, value: date) -> None:
        self.value = value

    _traverse_internals = [("value", sa.sql.visitors.InternalTraversal.dp_plain_obj)]


@compiles(date_constant)
def _date_constant(element, compiler, **kw):
    return f"DATE '{element.value.isoformat()}'"


@compiles(date_constant, "sqlite")
def _date_constant_sqlite(element, compiler, **kw):
    return f"'{element.value.isoformat()}'"


def _date(value: date):
    return date_constant(value)


def _text(value: str):
    assert value.isalpha()
    return sa.literal_column(f"'{value}'", sa.String)


def _big(expr):
    return sa.cast(expr, sa.BigInteger)


def _rate_bp(num, den):
    """``num / den`` in basis points, rounded half up; NULL when ``den`` is 0 (integers)."""
    return sa.case((den > 0, (num * 20000 + den) // (den * 2)), else_=sa.null())


def source_scans(first: date, last: date) -> dict[str, sa.Select]:
    """The four history scans of :func:`figures_statement`, each grouped by chapter and
    month: ``periods`` (members, new members), ``applications`` (pending), ``owners`` and
    ``referrals``. Each reads its table once."""
    m0, m_last = index_of(first), index_of(last)
    if m_last < m0:
        raise ValueError("the range ends before it starts")
    g0 = index_of(date(first.year, 1, 1))
    grid_start, range_end = first_of(g0), end_of(m_last)
    p, a, o, lead = _t("member_status_periods"), _t("applications"), _t("owners"), _t("leads")

    def spans(table, chapter_col, start_col, end_col, *where, extra=None):
        """Rows counting from ``start_col`` (inclusive) to ``end_col`` (exclusive), grouped
        by chapter, start month and end month (None: still counting at the range end)."""
        sb = _bucket(start_col, g0, m_last).label("sb")
        if end_col is None:
            eb = sa.cast(sa.null(), sa.Integer).label("eb")
            cond = [start_col <= range_end, *where]
        else:
            eb = sa.case((end_col <= range_end, _bucket(end_col, g0, m_last)),
                         else_=sa.null()).label("eb")
            cond = [start_col <= range_end, sa.or_(end_col.is_(None), end_col > grid_start),
                    *where]
        cols = [chapter_col.label("chapter_id"), sb, eb]
        group = [chapter_col, sb] if end_col is None else list(cols)
        if extra is not None:
            cols.append(extra.label("j"))
            group.append(extra)
        else:  # a constant is never grouped by (SQLite reads GROUP BY 0 as a position)
            cols.append(_int(0).label("j"))
        return (sa.select(*cols, sa.func.count().label("n")).select_from(table)
                .where(*cond).group_by(*group))

    # member status periods: one scan; "joined" periods starting in the grid are new members
    joined = sa.case((sa.and_(p.c.reason == "joined", p.c.valid_from >= grid_start), 1), else_=0)
    return {
        "periods": spans(p, p.c.chapter_id, p.c.valid_from, p.c.valid_to, extra=joined),
        "applications": spans(a, a.c.chapter_id, a.c.applied_on, a.c.decided_on),
        "owners": spans(o, o.c.chapter_id, o.c.customer_since, None, o.c.kind == "individual",
                        o.c.customer_since.is_not(None)),
        "referrals": (sa.select(lead.c.chapter_id, month_index(lead.c.purchased_on).label("mi"),
                                sa.func.count().label("n"))
                      .where(lead.c.status == "purchased", lead.c.referrer_member_id.is_not(None),
                             lead.c.purchased_on >= grid_start, lead.c.purchased_on <= range_end)
                      .group_by(lead.c.chapter_id, month_index(lead.c.purchased_on))),
    }


def figures_statement(first: date, last: date) -> sa.Select:
    """One SELECT giving every level's figures for each month end from ``first``'s month
    to ``last``'s: columns :data:`KEYS` + :data:`FIGURES`."""
    m0, m_last = index_of(first), index_of(last)
    if m_last < m0:
        raise ValueError("the range ends before it starts")
    # the grid starts in January of the first year, for the year-to-date referrals
    g0 = index_of(date(first.year, 1, 1))
    ch, dl, dp, rg = _t("chapters"), _t("dealers"), _t("dealer_after_sales_periods"), _t("regions")

    months = sa.union_all(*[
        sa.select(_int(i).label("mi"), _date(end_of(i)).label("month_end"),
                  _int(i // 12).label("yr"))
        for i in range(g0, m_last + 1)]).cte("months")

    scans = source_scans(first, last)
    # CTEs: each is read twice (its starts and its ends) but its table scanned once
    per, app = scans["periods"].cte("per"), scans["applications"].cte("app")
    own, ref = scans["owners"].subquery("own"), scans["referrals"].subquery("ref")

    def moves_of(sub, slot: int, with_new: bool = False):
        """A source's deltas as (chapter, month, dm, dp, do, dn, dr): +n where it starts
        counting, -n where it stops; ``slot`` picks the figure (0 members, 1 pending,
        2 owners)."""
        def row(mi, sign, new):
            vals = [_zero] * 5
            vals[slot] = sub.c.n if sign > 0 else -sub.c.n
            vals[3] = new
            return sa.select(sub.c.chapter_id.label("chapter_id"), mi.label("mi"),
                             *[v.label(n) for v, n in zip(vals, DELTAS, strict=True)])
        up = row(sub.c.sb, 1, sub.c.n * sub.c.j if with_new else _zero)
        down = row(sub.c.eb, -1, _zero).where(sub.c.eb.is_not(None))
        return [up, down]

    moves = sa.union_all(
        *moves_of(per, 0, with_new=True), *moves_of(app, 1), *moves_of(own, 2)[:1],
        sa.select(ref.c.chapter_id, ref.c.mi, _zero, _zero, _zero, _zero, ref.c.n),
    ).subquery("moves")
    mv = moves.c
    d = (sa.select(mv.chapter_id, mv.mi, *[_big(sa.func.sum(mv[n])).label(n) for n in DELTAS])
         .group_by(mv.chapter_id, mv.mi)).subquery("d")

    # dealers with full after-sales on each month end (dealer level)
    dfas = (sa.select(dp.c.dealer_id, dl.c.region_id, months.c.mi)
            .select_from(dp.join(dl, dl.c.id == dp.c.dealer_id)
                         .join(months, sa.and_(dp.c.valid_from <= months.c.month_end,
                                               sa.or_(dp.c.valid_to.is_(None),
                                                      dp.c.valid_to > months.c.month_end))))
            .where(months.c.mi >= m0,
                   sa.or_(dl.c.closed_on.is_(None), dl.c.closed_on > months.c.month_end))
            .distinct()).cte("dfas")

    def running(col, *partition):
        return _big(sa.func.sum(sa.func.coalesce(col, 0)).over(
            partition_by=partition, order_by=months.c.mi, rows=(None, 0)))

    cm = (sa.select(
        ch.c.id.label("chapter_id"), dl.c.region_id, ch.c.dealer_id, months.c.mi,
        months.c.month_end,
        sa.case((sa.and_(ch.c.founded_on <= months.c.month_end,
                         sa.or_(ch.c.closed_on.is_(None), ch.c.closed_on > months.c.month_end)),
                 1), else_=0).label("open"),
        running(d.c.d_mem, ch.c.id).label("members"),
        running(d.c.d_pend, ch.c.id).label("pending"),
        running(d.c.d_own, ch.c.id).label("owners"),
        _big(sa.func.coalesce(d.c.d_new, 0)).label("new_members"),
        _big(sa.func.coalesce(d.c.d_ref, 0)).label("referrals"),
        running(d.c.d_ref, ch.c.id, months.c.yr).label("referrals_ytd"),
    ).select_from(
        ch.join(dl, dl.c.id == ch.c.dealer_id).join(months, sa.true())
        .outerjoin(d, sa.and_(d.c.chapter_id == ch.c.id, d.c.mi == months.c.mi))
    )).cte("cm")
    live = (sa.select(cm).where(cm.c.open == 1, cm.c.mi >= m0)).cte("live")

    # chapter rows
    chapter_rows = (
        sa.select(live.c.month_end, _text(CHAPTER).label("level"),
                  live.c.chapter_id.label("scope_id"), live.c.region_id,
                  _big(_int(1)).label("chapters"),
                  _big(sa.case((dfas.c.dealer_id.is_not(None), 1), else_=0)).label("dealers"),
                  live.c.members, live.c.pending, live.c.new_members, live.c.owners,
                  live.c.referrals, live.c.referrals_ytd)
        .select_from(live.outerjoin(dfas, sa.and_(dfas.c.dealer_id == live.c.dealer_id,
                                                  dfas.c.mi == live.c.mi))))

    def summed(*group):
        return [_big(sa.func.count()).label("chapters"),
                *[_big(sa.func.sum(getattr(live.c, c))).label(c)
                  for c in ("members", "pending", "new_members", "owners", "referrals",
                            "referrals_ytd")]]

    reg_live = (sa.select(live.c.region_id, live.c.mi, *summed())
                .group_by(live.c.region_id, live.c.mi)).subquery("reg_live")
    reg_fas = (sa.select(dfas.c.region_id, dfas.c.mi, _big(sa.func.count()).label("n"))
               .group_by(dfas.c.region_id, dfas.c.mi)).subquery("reg_fas")
    region_rows = (
        sa.select(months.c.month_end, _text(REGION).label("level"),
                  rg.c.id.label("scope_id"), rg.c.id.label("region_id"),
                  _big(sa.func.coalesce(reg_live.c.chapters, 0)).label("chapters"),
                  _big(sa.func.coalesce(reg_fas.c.n, 0)).label("dealers"),
                  *[_big(sa.func.coalesce(getattr(reg_live.c, c), 0)).label(c)
                    for c in ("members", "pending", "new_members", "owners", "referrals",
                              "referrals_ytd")])
        .select_from(rg.join(months, sa.true())
                     .outerjoin(reg_live, sa.and_(reg_live.c.region_id == rg.c.id,
                                                  reg_live.c.mi == months.c.mi))
                     .outerjoin(reg_fas, sa.and_(reg_fas.c.region_id == rg.c.id,
                                                 reg_fas.c.mi == months.c.mi)))
        .where(months.c.mi >= m0))

    nat_live = (sa.select(live.c.mi, *summed()).group_by(live.c.mi)).subquery("nat_live")
    nat_fas = (sa.select(dfas.c.mi, _big(sa.func.count()).label("n"))
               .group_by(dfas.c.mi)).subquery("nat_fas")
    nation_rows = (
        sa.select(months.c.month_end, _text(NATION).label("level"),
                  _int(0).label("scope_id"), sa.cast(sa.null(), sa.Integer).label("region_id"),
                  _big(sa.func.coalesce(nat_live.c.chapters, 0)).label("chapters"),
                  _big(sa.func.coalesce(nat_fas.c.n, 0)).label("dealers"),
                  *[_big(sa.func.coalesce(getattr(nat_live.c, c), 0)).label(c)
                    for c in ("members", "pending", "new_members", "owners", "referrals",
                              "referrals_ytd")])
        .select_from(months.outerjoin(nat_live, nat_live.c.mi == months.c.mi)
                     .outerjoin(nat_fas, nat_fas.c.mi == months.c.mi))
        .where(months.c.mi >= m0))

    rows = sa.union_all(chapter_rows, region_rows, nation_rows).subquery("rows")
    r = rows.c
    return sa.select(
        r.month_end, r.level, r.scope_id, r.region_id,
        r.chapters.label("chapters"),
        r.dealers.label("dealers_full_after_sales"),
        _rate_bp(r.chapters, r.dealers).label("join_rate_bp"),
        r.members.label("members"),
        r.pending.label("pending_applications"),
        r.new_members.label("new_members"),
        r.owners.label("owners"),
        _rate_bp(r.members + r.pending, r.owners).label("recruitment_rate_bp"),
        r.referrals.label("referral_purchases"),
        r.referrals_ytd.label("referral_purchases_ytd"),
    )


@dataclass
class FigureRow:
    """One level's figures on one month end (from a snapshot or computed live)."""

    month_end: date
    level: str
    scope_id: int
    region_id: int | None
    chapters: int
    dealers_full_after_sales: int
    join_rate_bp: int | None
    members: int
    pending_applications: int
    new_members: int
    owners: int
    recruitment_rate_bp: int | None
    referral_purchases: int
    referral_purchases_ytd: int

    @classmethod
    def from_row(cls, row) -> FigureRow:
        m = row._mapping
        values = {k: m[k] for k in (*KEYS, *FIGURES)}
        md = values["month_end"]
        if isinstance(md, str):  # SQLite returns dates of literal columns as text
            values["month_end"] = date.fromisoformat(md)
        for k in FIGURES:
            if values[k] is not None:
                values[k] = int(values[k])
        values["scope_id"] = int(values["scope_id"])
        if values["region_id"] is not None:
            values["region_id"] = int(values["region_id"])
        return cls(**values)

    def figures(self) -> dict:
        return {k: getattr(self, k) for k in FIGURES}


def give_room() -> None:
    """On PostgreSQL, let this transaction's aggregations stay in memory: ``SET LOCAL
    work_mem`` to ``ANALYTICS_WORK_MEM`` (default 64MB; the default 4MB spills the
    national figures' hash aggregates and sorts to disk)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    from flask import current_app

    value = str(current_app.config.get("ANALYTICS_WORK_MEM", "64MB"))
    if not value.replace("MB", "").replace("kB", "").replace("GB", "").isdigit():
        raise ValueError(f"ANALYTICS_WORK_MEM {value!r}: use e.g. 64MB")
    db.session.execute(sa.text(f"SET LOCAL work_mem = '{value}'"))


def compute(first: date, last: date, *, level: str | None = None,
            scope_id: int | None = None) -> list[FigureRow]:
    """The figures of every month end of the range, computed now from history."""
    give_room()
    stmt = figures_statement(first, last).subquery()
    q = sa.select(stmt)
    if level is not None:
        q = q.where(stmt.c.level == level)
    if scope_id is not None:
        q = q.where(stmt.c.scope_id == scope_id)
    q = q.order_by(stmt.c.month_end, stmt.c.level, stmt.c.scope_id)
    return [FigureRow.from_row(r) for r in db.session.execute(q)]


def last_complete_month_end(today: date | None = None) -> date:
    """The last month end before today (Asia/Shanghai)."""
    return (today or dates.today()).replace(day=1) - timedelta(days=1)
