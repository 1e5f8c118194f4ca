"""Monthly points settlement (积分结算): statements per chapter and per partner.

A month's statements settle every ledger entry not settled yet whose business date is
on or before the month's last day and that moves money:

- a chapter's statement: points redeemed at its dealer (HQ owes the dealer their value)
  and chapter-funded points it issued, earned or adjusted (the dealer owes HQ their
  value); ``net_fen`` = HQ owes − dealer owes;
- a partner's statement: points spent on its perks (HQ owes the partner).

``settlement_lines`` has the entry as its primary key, so an entry is settled exactly
once, and a line is never taken back. Drafting is set-based SQL (INSERT … SELECT …
WHERE NOT EXISTS, then the totals by one GROUP BY) and idempotent: a re-draft keeps
the draft's lines and adds the entries posted since; confirmed, approved and paid
statements never change. A month is closed once HQ approved every statement of it; an
entry arriving late for a closed month (its business date in that month) is unsettled
and falls into the next open month.

What bounds a draft's reading (the watermark): each draft records in its statements
``entries_through``, the highest entry id it covered; then every entry of the chapter
(partner) that settles there, with a business date up to the statement's month end and
an id up to it, is settled — for good, since lines are never deleted. A later draft
of that chapter therefore reads only the entries dated after the recorded statement's
month, and the older ones with a higher id (late corrections, and what arrived since a
re-drafted month's last draft), instead of anti-joining the whole history. An entry is covered only once it is
:data:`WATERMARK_LAG` old, so that an entry still uncommitted while a draft runs (its
id below ids already visible) never falls below a mark unseen.

Workflow: draft → confirmed (the chapter's manager; for a partner, its partner user or
HQ) → approved (HQ admin) → paid (HQ admin, payment reference and date). Each step is
audited. Services flush only; the edge commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.auth.models import CHAPTER_MANAGER, HQ_ADMIN, PARTNER
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, PermissionDenied, field_error
from clubplatform.extensions import db
from clubplatform.org.models import Chapter
from hq.points.models import (
    SETTLES_AT_CHAPTER,
    SETTLES_AT_PARTNER,
    ChapterStatement,
    Partner,
    PartnerStatement,
    PartnerUser,
    PointEntry,
    SettlementLine,
)

DRAFT, CONFIRMED, APPROVED, PAID = "draft", "confirmed", "approved", "paid"
CLOSED_STATUSES = (APPROVED, PAID)
STATUS_LABELS = {DRAFT: _l("Draft"), CONFIRMED: _l("Confirmed by the chapter"),
                 APPROVED: _l("Approved by HQ"), PAID: _l("Paid")}

_cs = ChapterStatement.__table__
_ps = PartnerStatement.__table__
_sl = SettlementLine.__table__
_pe = PointEntry.__table__
_ch = Chapter.__table__


class WrongStatus(Conflict):
    """The statement is not at the step this action needs."""

    code = "wrong_status"


# --- months ---------------------------------------------------------------------------

def first_of(month: date) -> date:
    return month.replace(day=1)


def previous_month(today: date | None = None) -> date:
    """The first day of the month before ``today``'s (what the monthly job drafts)."""
    first = (today or dates.today()).replace(day=1)
    return (first - timedelta(days=1)).replace(day=1)


def month_statuses(month: date) -> list[str]:
    """The status of every statement (chapters and partners) of the month."""
    month = first_of(month)
    return list(db.session.execute(sa.select(_cs.c.status).where(_cs.c.month == month)
                                   .union_all(sa.select(_ps.c.status)
                                              .where(_ps.c.month == month))).scalars())


def month_closed(month: date) -> bool:
    """HQ approved every statement of the month (and there is at least one)."""
    statuses = month_statuses(month)
    return bool(statuses) and all(s in CLOSED_STATUSES for s in statuses)


# --- drafting -------------------------------------------------------------------------

@dataclass(frozen=True)
class DraftResult:
    month: date
    closed: bool
    chapter_statements: int
    partner_statements: int
    lines: int

    def as_dict(self) -> dict:
        return {"month": self.month.isoformat(), "closed": self.closed,
                "chapter_statements": self.chapter_statements,
                "partner_statements": self.partner_statements, "lines": self.lines,
                "message": f"{self.month:%Y-%m}: {self.chapter_statements} chapter and "
                           f"{self.partner_statements} partner statements, {self.lines} lines"}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _lock(key: str) -> None:
    """Serialise drafting of one month / chapter on PostgreSQL (a transaction lock)."""
    if _dialect() == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


def _settles_at_chapter(negate: bool = False):
    """The partial index's own predicate, as literal SQL so the planner can match it."""
    return sa.text(("NOT " if negate else "") + "(" + SETTLES_AT_CHAPTER.replace("kind", "point_entries.kind")
                   .replace("venue", "point_entries.venue")
                   .replace("funder", "point_entries.funder") + ")")


def _settles_at_partner():
    return sa.text("(" + SETTLES_AT_PARTNER.replace("kind", "point_entries.kind")
                   .replace("venue", "point_entries.venue") + ")")


def _unsettled():
    return ~sa.exists().where(_sl.c.entry_id == _pe.c.id)


#: how old an entry must be before a draft's watermark covers it: longer than any
#: transaction that writes the ledger stays open (requests and job batches: seconds)
WATERMARK_LAG = timedelta(hours=1)


def _watermark() -> int | None:
    """The highest entry id a draft starting now may record as covered (see the module's
    docstring): the newest entry created :data:`WATERMARK_LAG` ago or earlier."""
    return db.session.scalar(sa.select(sa.func.max(_pe.c.id))
                             .where(_pe.c.created_at < utcnow() - WATERMARK_LAG))


@dataclass(frozen=True)
class _Side:
    """Chapter or partner statements: their table, whose they are, which entries settle."""

    table: sa.Table
    #: ``chapter_id`` / ``partner_id``: on the statement and on the entry
    owner: str
    #: the entries' SQL predicate (the partial indexes' own)
    settles: Callable[[], sa.TextClause]
    line_column: str


_CHAPTERS = _Side(_cs, "chapter_id", _settles_at_chapter, "chapter_statement_id")
_PARTNERS = _Side(_ps, "partner_id", _settles_at_partner, "partner_statement_id")


def _bounds(side: _Side, month: date, owner_id: int | None) -> list[tuple[tuple, list[int]]]:
    """The month's draft statements grouped by the bound of their reading:
    ``((from_month, through), [statement ids])`` from the latest statement of the same
    chapter (partner) up to this month that has a watermark, or ``(None, None)`` where
    there is none (the first draft reads the whole history)."""
    st, b, prev = side.table, side.table.alias("b"), side.table.alias("prev")
    owner = st.c[side.owner]
    latest = (sa.select(sa.func.max(b.c.month))
              .where(b.c[side.owner] == owner, b.c.month <= month,
                     b.c.entries_through.is_not(None))
              .scalar_subquery())
    q = (sa.select(st.c.id, prev.c.month, prev.c.entries_through)
         .select_from(st.outerjoin(prev, sa.and_(prev.c[side.owner] == owner,
                                                 prev.c.month == latest)))
         .where(st.c.month == month, st.c.status == DRAFT))
    if owner_id is not None:
        q = q.where(owner == owner_id)
    rows = sorted(db.session.execute(q).all(), key=lambda r: (r[1] or date.min, r[2] or 0))
    return [(key, [r[0] for r in group])
            for key, group in groupby(rows, key=lambda r: (r[1], r[2]))]


def _insert_lines(side: _Side, month: date, last: date, owner_id: int | None = None) -> int:
    """Settle in the month's draft statements of ``side`` every unsettled entry up to the
    month's end that settles there, reading only what the watermarks leave open; then
    record the new watermark. Returns the lines added."""
    through = _watermark()
    st = side.table
    added = 0
    for (from_month, prev_through), ids in _bounds(side, month, owner_id):
        join_on = sa.and_(st.c[side.owner] == _pe.c[side.owner], st.c.month == month,
                          st.c.status == DRAFT, st.c.id.in_(ids))
        base = [side.settles(), _pe.c.business_date <= last, _unsettled()]
        if owner_id is not None:
            base.append(_pe.c[side.owner] == owner_id)
        if from_month is None:
            parts = [base]
        else:  # all that is dated after the bound's month; up to its end, what came since
            covered_to = dates.month_end(from_month)
            parts = [base + [_pe.c.business_date <= covered_to, _pe.c.id > prev_through]]
            if covered_to < last:  # not a re-draft of the bound's own month
                parts.append(base + [_pe.c.business_date > covered_to])
        for where in parts:
            added += db.session.execute(_sl.insert().from_select(
                ["entry_id", side.line_column],
                sa.select(_pe.c.id, st.c.id).select_from(_pe.join(st, join_on)).where(*where)
            ).execution_options(preserve_rowcount=True)).rowcount
    if through is not None:
        mark = st.update().where(st.c.month == month, st.c.status == DRAFT,
                                 sa.or_(st.c.entries_through.is_(None),
                                        st.c.entries_through < through))
        if owner_id is not None:
            mark = mark.where(st.c[side.owner] == owner_id)
        db.session.execute(mark.values(entries_through=through))
    return added


def draft_month(month: date, *, actor=None) -> DraftResult:
    """Draft (or re-draft) the month's statements for every chapter and every partner.

    Set-based: statements are created by INSERT … SELECT, the entries posted since the
    last draft added as lines (bounded by the watermarks), totals computed by one
    GROUP BY per kind. A closed month is left as it is. ``lines``: the lines of the
    month's draft statements.
    """
    month = first_of(month)
    last = dates.month_end(month)
    _lock(f"settlement:{month.isoformat()}")
    if month_closed(month):
        return DraftResult(month, True, 0, 0, 0)
    now = utcnow()
    # statements: every chapter founded by the month's end, every partner
    db.session.execute(_cs.insert().from_select(
        ["chapter_id", "month", "status", "redeemed_points", "hq_owes_fen",
         "chapter_funded_points", "dealer_owes_fen", "net_fen", "entry_count",
         "created_at", "updated_at"],
        sa.select(_ch.c.id, sa.literal(month, sa.Date), sa.literal(DRAFT), *[sa.literal(0)] * 6,
                  sa.literal(now, _cs.c.created_at.type), sa.literal(now, _cs.c.updated_at.type))
        .where(_ch.c.founded_on <= last,
               ~sa.exists().where(_cs.c.chapter_id == _ch.c.id, _cs.c.month == month))))
    pt = Partner.__table__
    db.session.execute(_ps.insert().from_select(
        ["partner_id", "month", "status", "redeemed_points", "hq_owes_fen", "entry_count",
         "created_at", "updated_at"],
        sa.select(pt.c.id, sa.literal(month, sa.Date), sa.literal(DRAFT), *[sa.literal(0)] * 3,
                  sa.literal(now, _ps.c.created_at.type), sa.literal(now, _ps.c.updated_at.type))
        .where(~sa.exists().where(_ps.c.partner_id == pt.c.id, _ps.c.month == month))))
    _insert_lines(_CHAPTERS, month, last)
    _insert_lines(_PARTNERS, month, last)
    _total_chapter_statements(_cs.c.month == month)
    _total_partner_statements(month)
    n_c, lines_c = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_cs.c.entry_count), 0))
        .where(_cs.c.month == month, _cs.c.status == DRAFT)).one()
    n_p, lines_p = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(_ps.c.entry_count), 0))
        .where(_ps.c.month == month, _ps.c.status == DRAFT)).one()
    lines = int(lines_c) + int(lines_p)
    audit.record("settlement.draft", actor=actor, actor_name=None if actor else "system",
                 target_type="settlement_month", target_id=month.isoformat(),
                 details={"chapter_statements": n_c, "partner_statements": n_p,
                          "lines": lines})
    db.session.flush()
    return DraftResult(month, False, n_c, n_p, lines)


def _total_chapter_statements(which) -> None:
    """Totals of draft chapter statements from their lines, one GROUP BY."""
    redeem = _pe.c.kind == "redeem"
    sums = (sa.select(
        _sl.c.chapter_statement_id.label("sid"),
        sa.func.coalesce(sa.func.sum(sa.case((redeem, -_pe.c.points), else_=0)), 0).label("rp"),
        sa.func.coalesce(sa.func.sum(sa.case((redeem, -_pe.c.value_fen), else_=0)), 0)
        .label("hq"),
        sa.func.coalesce(sa.func.sum(sa.case((redeem, 0), else_=_pe.c.points)), 0).label("cp"),
        sa.func.coalesce(sa.func.sum(sa.case((redeem, 0), else_=_pe.c.value_fen)), 0)
        .label("dl"),
        sa.func.count().label("n"))
        .select_from(_sl.join(_pe, _pe.c.id == _sl.c.entry_id))
        .where(_sl.c.chapter_statement_id.in_(sa.select(_cs.c.id).where(which,
                                                                         _cs.c.status == DRAFT)))
        .group_by(_sl.c.chapter_statement_id)).subquery()
    now = utcnow()
    db.session.execute(_cs.update().where(which, _cs.c.status == DRAFT).values(
        redeemed_points=0, hq_owes_fen=0, chapter_funded_points=0, dealer_owes_fen=0,
        net_fen=0, entry_count=0, updated_at=now))
    db.session.execute(_cs.update().where(_cs.c.id == sums.c.sid).values(
        redeemed_points=sums.c.rp, hq_owes_fen=sums.c.hq, chapter_funded_points=sums.c.cp,
        dealer_owes_fen=sums.c.dl, net_fen=sums.c.hq - sums.c.dl, entry_count=sums.c.n))


def _total_partner_statements(month: date) -> None:
    sums = (sa.select(_sl.c.partner_statement_id.label("sid"),
                      sa.func.coalesce(sa.func.sum(-_pe.c.points), 0).label("rp"),
                      sa.func.coalesce(sa.func.sum(-_pe.c.value_fen), 0).label("hq"),
                      sa.func.count().label("n"))
            .select_from(_sl.join(_pe, _pe.c.id == _sl.c.entry_id))
            .where(_sl.c.partner_statement_id.in_(
                sa.select(_ps.c.id).where(_ps.c.month == month, _ps.c.status == DRAFT)))
            .group_by(_sl.c.partner_statement_id)).subquery()
    db.session.execute(_ps.update().where(_ps.c.month == month, _ps.c.status == DRAFT).values(
        redeemed_points=0, hq_owes_fen=0, entry_count=0, updated_at=utcnow()))
    db.session.execute(_ps.update().where(_ps.c.id == sums.c.sid).values(
        redeemed_points=sums.c.rp, hq_owes_fen=sums.c.hq, entry_count=sums.c.n))


def draft_chapter(chapter_id: int, month: date, *, actor=None) -> ChapterStatement | None:
    """Draft (or re-draft) one chapter's statement of the month.

    Returns the statement, unchanged when it is past draft; None when the chapter
    does not exist.
    """
    month = first_of(month)
    last = dates.month_end(month)
    _lock(f"settlement:{month.isoformat()}:c{chapter_id}")
    if db.session.get(Chapter, chapter_id) is None:
        return None
    sid = db.session.scalar(sa.select(_cs.c.id).where(_cs.c.chapter_id == chapter_id,
                                                      _cs.c.month == month))
    if sid is None:
        now = utcnow()
        sid = db.session.execute(_cs.insert().values(
            chapter_id=chapter_id, month=month, status=DRAFT, redeemed_points=0, hq_owes_fen=0,
            chapter_funded_points=0, dealer_owes_fen=0, net_fen=0, entry_count=0,
            created_at=now, updated_at=now).returning(_cs.c.id)).scalar_one()
    status = db.session.scalar(sa.select(_cs.c.status).where(_cs.c.id == sid))
    if status == DRAFT:
        _insert_lines(_CHAPTERS, month, last, chapter_id)
        _total_chapter_statements(_cs.c.id == sid)
        audit.record("settlement.draft", actor=actor, actor_name=None if actor else "system",
                     chapter_id=chapter_id, target_type="chapter_statement", target_id=sid,
                     details={"month": month.isoformat()})
    db.session.flush()
    statement = db.session.get(ChapterStatement, sid)
    if statement is not None:
        db.session.refresh(statement)
    return statement


# --- reading --------------------------------------------------------------------------

def get_chapter_statement(statement_id: int) -> ChapterStatement:
    """A chapter statement in the current scope (another chapter's: not found)."""
    st = db.session.execute(sa.select(ChapterStatement)
                            .where(ChapterStatement.id == statement_id)).scalar_one_or_none()
    if st is None:
        raise NotFound(_l("No such statement."))
    return st


def get_partner_statement(statement_id: int, *, partner_id: int | None = None) -> PartnerStatement:
    q = sa.select(PartnerStatement).where(PartnerStatement.id == statement_id)
    if partner_id is not None:
        q = q.where(PartnerStatement.partner_id == partner_id)
    st = db.session.execute(q).scalar_one_or_none()
    if st is None:
        raise NotFound(_l("No such statement."))
    return st


def chapter_statements_query(*, month: date | None = None, status: str | None = None,
                             chapter_id: int | None = None) -> sa.Select:
    """Chapter statements (scoped by the caller), newest month first."""
    q = sa.select(ChapterStatement).order_by(ChapterStatement.month.desc(),
                                             ChapterStatement.chapter_id)
    if month is not None:
        q = q.where(ChapterStatement.month == first_of(month))
    if status:
        q = q.where(ChapterStatement.status == status)
    if chapter_id is not None:
        q = q.where(ChapterStatement.chapter_id == chapter_id)
    return q


def partner_statements_query(*, month: date | None = None, status: str | None = None,
                             partner_id: int | None = None) -> sa.Select:
    q = sa.select(PartnerStatement).order_by(PartnerStatement.month.desc(),
                                             PartnerStatement.partner_id)
    if month is not None:
        q = q.where(PartnerStatement.month == first_of(month))
    if status:
        q = q.where(PartnerStatement.status == status)
    if partner_id is not None:
        q = q.where(PartnerStatement.partner_id == partner_id)
    return q


def partner_statements(partner_id: int) -> list[PartnerStatement]:
    """A partner's statements, newest first (for the partner's own page)."""
    return list(db.session.execute(partner_statements_query(partner_id=partner_id)).scalars())


@dataclass(frozen=True)
class MonthSummary:
    month: date
    statements: int
    drafts: int
    confirmed: int
    approved: int
    paid: int
    net_fen: int
    partner_fen: int

    @property
    def closed(self) -> bool:
        return self.statements > 0 and self.drafts == 0 and self.confirmed == 0


def months_overview(limit: int = 24) -> list[MonthSummary]:
    """Per month: statements by status and money, newest first (Core SQL, all chapters)."""
    both = sa.union_all(
        sa.select(_cs.c.month, _cs.c.status, _cs.c.net_fen.label("net"),
                  sa.literal(0, sa.BigInteger).label("partner")),
        sa.select(_ps.c.month, _ps.c.status, sa.literal(0, sa.BigInteger).label("net"),
                  _ps.c.hq_owes_fen.label("partner"))).subquery()
    rows = db.session.execute(
        sa.select(both.c.month, sa.func.count(),
                  *[sa.func.count().filter(both.c.status == s) for s in
                    (DRAFT, CONFIRMED, APPROVED, PAID)],
                  sa.func.coalesce(sa.func.sum(both.c.net), 0),
                  sa.func.coalesce(sa.func.sum(both.c.partner), 0))
        .group_by(both.c.month).order_by(both.c.month.desc()).limit(limit)).all()
    return [MonthSummary(*r) for r in rows]


def statement_lines(statement, *, limit: int | None = None) -> list:
    """The ledger entries a statement settles (Core rows), by business date."""
    col = (_sl.c.chapter_statement_id if isinstance(statement, ChapterStatement)
           else _sl.c.partner_statement_id)
    q = (sa.select(_pe.c.id, _pe.c.business_date, _pe.c.kind, _pe.c.reason, _pe.c.points,
                   _pe.c.value_fen, _pe.c.funder, _pe.c.venue, _pe.c.member_id,
                   _pe.c.source_ref, _pe.c.note)
         .select_from(_sl.join(_pe, _pe.c.id == _sl.c.entry_id))
         .where(col == statement.id).order_by(_pe.c.business_date, _pe.c.id))
    if limit is not None:
        q = q.limit(limit)
    return db.session.execute(q).all()


# --- workflow -------------------------------------------------------------------------

def _partner_of(actor) -> int | None:
    return db.session.scalar(sa.select(PartnerUser.partner_id)
                             .where(PartnerUser.user_id == getattr(actor, "id", None)))


def _need_status(st, status: str, message) -> None:
    if st.status != status:
        raise WrongStatus(message, {"status": [message]})


def _locked(st):
    """Re-read the statement with a row lock (two clicks: the second sees the first)."""
    db.session.execute(sa.select(type(st).__table__.c.id).where(type(st).__table__.c.id == st.id)
                       .with_for_update())
    db.session.refresh(st)
    return st


def _audit(st, action: str, actor, ip, **details) -> None:
    is_chapter = isinstance(st, ChapterStatement)
    audit.record(f"settlement.{action}", actor=actor, ip=ip,
                 chapter_id=st.chapter_id if is_chapter else None,
                 target_type="chapter_statement" if is_chapter else "partner_statement",
                 target_id=st.id,
                 details={"month": st.month.isoformat(), "status": st.status,
                          "net_fen": st.net_fen if is_chapter else st.hq_owes_fen, **details})


def confirm(st, actor, *, ip: str | None = None):
    """The chapter's manager confirms the draft (a partner's: its user or HQ admin)."""
    if isinstance(st, ChapterStatement):
        if getattr(actor, "role", None) != CHAPTER_MANAGER or actor.chapter_id != st.chapter_id:
            raise PermissionDenied(_l("Only the chapter's manager can confirm its statement."))
    elif not (getattr(actor, "role", None) == HQ_ADMIN
              or (getattr(actor, "role", None) == PARTNER and _partner_of(actor) == st.partner_id)):
        raise PermissionDenied(_l("Only the partner or an HQ administrator can confirm this "
                                  "statement."))
    _locked(st)
    _need_status(st, DRAFT, _l("Only a draft statement can be confirmed."))
    st.status, st.confirmed_by_id, st.confirmed_at = CONFIRMED, actor.id, utcnow()
    _audit(st, "confirm", actor, ip)
    db.session.flush()
    return st


def approve(st, actor, *, ip: str | None = None):
    """HQ approves a confirmed statement; the month closes when all are approved."""
    if getattr(actor, "role", None) != HQ_ADMIN:
        raise PermissionDenied(_l("Only an HQ administrator can approve a statement."))
    _locked(st)
    _need_status(st, CONFIRMED, _l("Only a statement the chapter confirmed can be approved."))
    st.status, st.approved_by_id, st.approved_at = APPROVED, actor.id, utcnow()
    _audit(st, "approve", actor, ip)
    db.session.flush()
    return st


def record_payment(st, actor, *, payment_ref: str | None, paid_on: date | None,
                   ip: str | None = None):
    """HQ records the payment of an approved statement (reference and date)."""
    if getattr(actor, "role", None) != HQ_ADMIN:
        raise PermissionDenied(_l("Only an HQ administrator can record a payment."))
    ref = (payment_ref or "").strip()
    if not ref:
        raise field_error("payment_ref", _l("Enter the payment reference."))
    if len(ref) > 64:
        raise field_error("payment_ref", _l("The payment reference is too long."))
    paid_on = paid_on or dates.today()
    if paid_on > dates.today():
        raise field_error("paid_on", _l("The payment date is in the future."))
    _locked(st)
    _need_status(st, APPROVED, _l("Only an approved statement can be paid."))
    st.status, st.payment_ref = PAID, ref
    st.paid_at = dates.day_start_utc(paid_on)
    _audit(st, "pay", actor, ip, payment_ref=ref, paid_on=paid_on.isoformat())
    db.session.flush()
    return st


# --- invariants (checked by tests and by hand) ----------------------------------------

def month_mismatches(month: date) -> list[str]:
    """Differences between the month's statements and the entries they cover (empty: ok).

    Each statement's totals must equal the sums of its lines' entries, to the fen; the
    month's statements together must equal the entries they cover; every line's entry
    must belong to its statement (chapter or partner, kind, business date ≤ month end).
    """
    month = first_of(month)
    last = dates.month_end(month)
    problems: list[str] = []
    redeem = _pe.c.kind == "redeem"
    c_rows = db.session.execute(
        sa.select(_cs.c.id, _cs.c.hq_owes_fen, _cs.c.dealer_owes_fen, _cs.c.net_fen,
                  _cs.c.entry_count,
                  sa.func.coalesce(sa.func.sum(sa.case((redeem, -_pe.c.value_fen), else_=0)), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((redeem, 0), else_=_pe.c.value_fen)), 0),
                  sa.func.count(_pe.c.id))
        .select_from(_cs.outerjoin(_sl, _sl.c.chapter_statement_id == _cs.c.id)
                     .outerjoin(_pe, _pe.c.id == _sl.c.entry_id))
        .where(_cs.c.month == month).group_by(_cs.c.id)).all()
    for sid, hq, dl, net, n, e_hq, e_dl, e_n in c_rows:
        if (hq, dl, net, n) != (e_hq, e_dl, e_hq - e_dl, e_n):
            problems.append(f"chapter statement {sid}: {(hq, dl, net, n)} != "
                            f"{(e_hq, e_dl, e_hq - e_dl, e_n)}")
    p_rows = db.session.execute(
        sa.select(_ps.c.id, _ps.c.hq_owes_fen, _ps.c.entry_count,
                  sa.func.coalesce(sa.func.sum(-_pe.c.value_fen), 0), sa.func.count(_pe.c.id))
        .select_from(_ps.outerjoin(_sl, _sl.c.partner_statement_id == _ps.c.id)
                     .outerjoin(_pe, _pe.c.id == _sl.c.entry_id))
        .where(_ps.c.month == month).group_by(_ps.c.id)).all()
    for sid, hq, n, e_hq, e_n in p_rows:
        if (hq, n) != (e_hq, e_n):
            problems.append(f"partner statement {sid}: {(hq, n)} != {(e_hq, e_n)}")
    wrong_place = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            _sl.join(_pe, _pe.c.id == _sl.c.entry_id)
            .outerjoin(_cs, _cs.c.id == _sl.c.chapter_statement_id)
            .outerjoin(_ps, _ps.c.id == _sl.c.partner_statement_id))
        .where(sa.or_(_cs.c.month == month, _ps.c.month == month),
               sa.or_(_pe.c.business_date > last,
                      sa.and_(_cs.c.id.is_not(None),
                              sa.or_(_cs.c.chapter_id != _pe.c.chapter_id,
                                     _settles_at_chapter(negate=True))),
                      sa.and_(_ps.c.id.is_not(None),
                              sa.or_(_ps.c.partner_id != _pe.c.partner_id,
                                     _pe.c.venue != "partner")))))
    if wrong_place:
        problems.append(f"{wrong_place} lines settle an entry in the wrong statement")
    return problems


def entries_settled_twice() -> int:
    """Entries that appear in more than one line (the primary key makes this 0)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(
        sa.select(_sl.c.entry_id).group_by(_sl.c.entry_id)
        .having(sa.func.count() > 1).subquery()))


def month_totals(month: date) -> dict:
    """The month's statements summed, and the entries they cover summed (both in fen)."""
    month = first_of(month)
    redeem = _pe.c.kind == "redeem"
    st = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(_cs.c.hq_owes_fen), 0),
        sa.func.coalesce(sa.func.sum(_cs.c.dealer_owes_fen), 0),
        sa.func.coalesce(sa.func.sum(_cs.c.entry_count), 0)).where(_cs.c.month == month)).one()
    pst = db.session.execute(sa.select(
        sa.func.coalesce(sa.func.sum(_ps.c.hq_owes_fen), 0),
        sa.func.coalesce(sa.func.sum(_ps.c.entry_count), 0)).where(_ps.c.month == month)).one()
    ent = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(sa.case((redeem, -_pe.c.value_fen), else_=0)), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((redeem, 0), else_=_pe.c.value_fen)), 0),
                  sa.func.count())
        .select_from(_sl.join(_pe, _pe.c.id == _sl.c.entry_id))
        .where(sa.or_(_sl.c.chapter_statement_id.in_(sa.select(_cs.c.id)
                                                     .where(_cs.c.month == month)),
                      _sl.c.partner_statement_id.in_(sa.select(_ps.c.id)
                                                     .where(_ps.c.month == month))))).one()
    return {"statements_hq_owes_fen": int(st[0]) + int(pst[0]),
            "statements_dealer_owes_fen": int(st[1]),
            "statements_entries": int(st[2]) + int(pst[1]),
            "entries_hq_owes_fen": int(ent[0]), "entries_dealer_owes_fen": int(ent[1]),
            "entries": int(ent[2])}


# --- exports --------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_statement(st, *, actor, ip: str | None = None):
    """One statement as XLSX: its totals, then every entry it settles; audited."""
    from clubplatform.tabular import to_xlsx
    from hq.members.service import ExportFile

    is_chapter = isinstance(st, ChapterStatement)
    headers = [str(_l("Entry")), str(_l("Business date")), str(_l("Kind")), str(_l("Reason")),
               str(_l("Points")), str(_l("Value (fen)")), str(_l("Funder")), str(_l("Venue")),
               str(_l("Member ID")), str(_l("Reference"))]
    rows = [[r.id, r.business_date, r.kind, r.reason, r.points, r.value_fen, r.funder or "",
             r.venue or "", r.member_id, r.source_ref or ""] for r in statement_lines(st)]
    rows.append([])
    rows.append([str(_l("Status")), st.status])
    rows.append([str(_l("Points redeemed")), st.redeemed_points])
    rows.append([str(_l("HQ owes (fen)")), st.hq_owes_fen])
    if is_chapter:
        rows.append([str(_l("Chapter-funded points")), st.chapter_funded_points])
        rows.append([str(_l("Dealer owes (fen)")), st.dealer_owes_fen])
        rows.append([str(_l("Net (fen)")), st.net_fen])
    who = f"c{st.chapter_id}" if is_chapter else f"p{st.partner_id}"
    filename = f"statement-{who}-{st.month:%Y-%m}.xlsx"
    audit.record("export", actor=actor, ip=ip, chapter_id=st.chapter_id if is_chapter else None,
                 target_type="chapter_statement" if is_chapter else "partner_statement",
                 target_id=st.id, details={"file": filename, "rows": len(rows)})
    return ExportFile(content=to_xlsx(headers, rows, title=str(_l("Statement"))),
                      mimetype=XLSX, filename=filename)


def export_month(month: date, *, actor, ip: str | None = None):
    """Every chapter and partner statement of a month as XLSX (HQ); audited."""
    from clubplatform.tabular import to_xlsx
    from hq.members.service import ExportFile

    month = first_of(month)
    headers = [str(_l("Month")), str(_l("Kind")), str(_l("ID")), str(_l("Code")),
               str(_l("Name")), str(_l("Status")), str(_l("Points redeemed")),
               str(_l("HQ owes (fen)")), str(_l("Chapter-funded points")),
               str(_l("Dealer owes (fen)")), str(_l("Net (fen)")), str(_l("Entries")),
               str(_l("Payment reference"))]
    from clubplatform.org.models import Dealer

    d = Dealer.__table__
    pt = Partner.__table__
    rows = [[f"{month:%Y-%m}", "chapter", *r] for r in db.session.execute(
        sa.select(_cs.c.chapter_id, d.c.code, _ch.c.name, _cs.c.status, _cs.c.redeemed_points,
                  _cs.c.hq_owes_fen, _cs.c.chapter_funded_points, _cs.c.dealer_owes_fen,
                  _cs.c.net_fen, _cs.c.entry_count, _cs.c.payment_ref)
        .select_from(_cs.join(_ch, _ch.c.id == _cs.c.chapter_id)
                     .join(d, d.c.id == _ch.c.dealer_id))
        .where(_cs.c.month == month).order_by(d.c.code)).all()]
    rows += [[f"{month:%Y-%m}", "partner", *r] for r in db.session.execute(
        sa.select(_ps.c.partner_id, pt.c.code, pt.c.name, _ps.c.status, _ps.c.redeemed_points,
                  _ps.c.hq_owes_fen, sa.literal(0), sa.literal(0), _ps.c.hq_owes_fen,
                  _ps.c.entry_count, _ps.c.payment_ref)
        .select_from(_ps.join(pt, pt.c.id == _ps.c.partner_id))
        .where(_ps.c.month == month).order_by(pt.c.code)).all()]
    filename = f"settlement-{month:%Y-%m}.xlsx"
    audit.record("export", actor=actor, ip=ip, target_type="settlement_month",
                 target_id=month.isoformat(), details={"file": filename, "rows": len(rows)})
    return ExportFile(content=to_xlsx(headers, rows, title=str(_l("Settlement"))),
                      mimetype=XLSX, filename=filename)
