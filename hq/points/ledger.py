"""The points ledger: every write goes through :func:`post`, every rule read through :func:`rule_at`.

Invariants kept here, in the database:

- append-only: entries are inserted, never updated or deleted;
- idempotent: each entry has a unique ``idempotency_key``; posting the same key again
  (a retried job, a double click, 100 parallel requests) writes nothing and returns the
  entry already there;
- the balance never goes negative: ``members.points_balance`` moves in the same
  savepoint as the insert, with ``UPDATE … WHERE points_balance + delta >= 0``, which
  PostgreSQL re-checks after taking the row lock, so parallel redemptions serialise;
- each entry's value in fen is fixed when written, so settlement sums it to the fen.

Services only flush; the edge commits. The balance update is Core SQL on the members
table: the ledger follows the member wherever their chapter is now, and the caller has
already found the member in its own scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.db import insert, utcnow
from clubplatform.errors import Conflict, field_error
from clubplatform.extensions import db
from hq.members.models import Member
from hq.points.models import ADJUST, EARN, EXPIRE, REDEEM, PointEntry, PointRule

#: used when HQ has set no rule of the kind yet
FALLBACKS = {"expiry_months": 24, "point_value": 100}


class InsufficientPoints(Conflict):
    """The balance does not cover the points asked for; nothing was written."""

    code = "insufficient_points"


# --- rules ----------------------------------------------------------------------------

def rule_at(kind: str, key: str = "", on: date | None = None) -> PointRule | None:
    """The HQ rule of ``kind``/``key`` in force on business date ``on`` (today by default)."""
    on = on or dates.today()
    return db.session.execute(
        sa.select(PointRule).where(
            PointRule.kind == kind, PointRule.key == key,
            PointRule.effective_from <= on,
            sa.or_(PointRule.effective_to.is_(None), PointRule.effective_to > on),
        ).order_by(PointRule.effective_from.desc()).limit(1)
    ).scalar_one_or_none()


def rule_value(kind: str, key: str = "", on: date | None = None) -> int | None:
    rule = rule_at(kind, key, on)
    if rule is not None:
        return rule.value
    return FALLBACKS.get(kind)


def add_months_end(d: date, months: int) -> date:
    """The last day of the month ``months`` months after ``d``'s month."""
    index = d.year * 12 + (d.month - 1) + months
    return dates.month_end(date(index // 12, index % 12 + 1, 1))


def expiry_for(earned_on: date) -> date:
    """Points earned on ``earned_on`` expire at the end of this business date."""
    return add_months_end(earned_on, rule_value("expiry_months", on=earned_on) or 24)


def fen_for(points: int, fen_per_100: int) -> int:
    """The value of ``points`` in fen, rounded half away from zero (sign kept)."""
    sign = -1 if points < 0 else 1
    return sign * ((abs(points) * fen_per_100 + 50) // 100)


def value_fen(points: int, on: date) -> int:
    return fen_for(points, rule_value("point_value", on=on) or 0)


# --- writing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Posted:
    entry: PointEntry
    #: False when the key was already there (a retry): nothing was written
    created: bool


def post(*, member_id: int, chapter_id: int, kind: str, reason: str, points: int,
         idempotency_key: str, business_date: date | None = None, funder: str | None = None,
         venue: str | None = None, partner_id: int | None = None, rule_id: int | None = None,
         expires_on: date | None = None, source_ref: str | None = None,
         note: str | None = None, actor=None) -> Posted:
    """Write one ledger entry and move the balance, or nothing if the key is known.

    Raises :class:`InsufficientPoints` (nothing written) when a negative entry would
    take the balance below zero.
    """
    if points == 0:
        raise field_error("points", _l("Enter a number of points other than zero."))
    on = business_date or dates.today()
    if points > 0 and kind in (EARN, ADJUST) and expires_on is None:
        expires_on = expiry_for(on)
    existing = _by_key(idempotency_key)
    if existing is not None:
        return Posted(existing, False)
    values = dict(
        member_id=member_id, chapter_id=chapter_id, kind=kind, reason=reason, points=points,
        value_fen=value_fen(points, on), funder=funder, venue=venue, partner_id=partner_id,
        rule_id=rule_id, business_date=on, expires_on=expires_on if points > 0 else None,
        idempotency_key=idempotency_key, source_ref=source_ref, note=note,
        created_by_id=getattr(actor, "id", None), created_at=utcnow(),
    )
    with db.session.begin_nested():
        inserted = db.session.execute(
            _insert_ignoring_duplicates(values).returning(PointEntry.__table__.c.id)
        ).scalar_one_or_none()
        if inserted is None:  # a parallel writer got there first
            pass
        else:
            moved = db.session.execute(
                sa.update(Member.__table__)
                .where(Member.__table__.c.id == member_id,
                       Member.__table__.c.points_balance + points >= 0)
                .values(points_balance=Member.__table__.c.points_balance + points)
            ).rowcount
            if moved != 1:
                raise InsufficientPoints(
                    _l("The member has not enough points for this."),
                    {"points": [_l("The member has not enough points for this.")]})
    entry = _by_key(idempotency_key)
    _refresh_member_balance(member_id)
    return Posted(entry, inserted is not None)


def _insert_ignoring_duplicates(values: dict):
    table = PointEntry.__table__
    return insert(table).values(**values).on_conflict_do_nothing(
        index_elements=[table.c.idempotency_key])


def _by_key(key: str) -> PointEntry | None:
    return db.session.execute(
        sa.select(PointEntry).where(PointEntry.idempotency_key == key)
    ).scalar_one_or_none()


def _refresh_member_balance(member_id: int) -> None:
    """Let a loaded Member object see the balance Core SQL just moved."""
    for obj in db.session.identity_map.values():
        if isinstance(obj, Member) and obj.id == member_id:
            db.session.expire(obj, ["points_balance"])


# --- reading ----------------------------------------------------------------------------

def balance(member_id: int) -> int:
    return db.session.execute(
        sa.select(Member.__table__.c.points_balance).where(Member.__table__.c.id == member_id)
    ).scalar_one()


def ledger_sum(member_id: int) -> int:
    """The balance as the ledger tells it (equals :func:`balance`; used by checks)."""
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(PointEntry.points), 0))
        .where(PointEntry.member_id == member_id)
    ).scalar_one()


def history(member_id: int, *, limit: int = 50, offset: int = 0) -> list[PointEntry]:
    return list(db.session.execute(
        sa.select(PointEntry).where(PointEntry.member_id == member_id)
        .order_by(PointEntry.id.desc()).limit(limit).offset(offset)
    ).scalars())


def expiring_amount_sql(on: sa.ColumnElement | date):
    """Per member: points that expire at the end of business date ``on`` (oldest first).

    Debits (redeem, expire, downward adjust) consume the oldest points first, so what
    expires by ``on`` is what was added with ``expires_on <= on`` less every debit so
    far, when that is positive. Returns a subquery (member_id, amount).
    """
    pe = PointEntry.__table__
    amount = (
        sa.func.sum(sa.case(((pe.c.points > 0) & (pe.c.expires_on <= on), pe.c.points), else_=0))
        + sa.func.sum(sa.case((pe.c.points < 0, pe.c.points), else_=0))
    )
    return (sa.select(pe.c.member_id, amount.label("amount"))
            .group_by(pe.c.member_id).having(amount > 0))


@dataclass(frozen=True)
class NextExpiry:
    on: date
    points: int


def next_expiry(member_id: int, today: date | None = None) -> NextExpiry | None:
    """The next date some of the member's points expire, and how many (oldest first)."""
    today = today or dates.today()
    pe = PointEntry.__table__
    ends = db.session.execute(
        sa.select(pe.c.expires_on).where(pe.c.member_id == member_id, pe.c.points > 0,
                                         pe.c.expires_on >= today)
        .group_by(pe.c.expires_on).order_by(pe.c.expires_on)
    ).scalars().all()
    for end in ends:
        sub = expiring_amount_sql(end).where(pe.c.member_id == member_id).subquery()
        amount = db.session.execute(sa.select(sub.c.amount)).scalar_one_or_none()
        if amount:
            return NextExpiry(end, int(amount))
    return None


__all__ = [
    "ADJUST", "EARN", "EXPIRE", "REDEEM", "InsufficientPoints", "NextExpiry", "Posted",
    "add_months_end", "balance", "expiring_amount_sql", "expiry_for", "fen_for", "history",
    "ledger_sum", "next_expiry", "post", "rule_at", "rule_value", "value_fen",
]
