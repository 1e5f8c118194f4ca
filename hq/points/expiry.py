"""Monthly points expiry: what expires at a month end leaves the balance, oldest first.

For the month end ``on``, each member with points expiring then (earned points with
``expires_on <= on`` less every debit so far: :func:`hq.points.ledger.expiring_amount_sql`)
gets one ``expire`` entry (reason ``expiry``), booked at the member's current chapter,
valued at the point value in force on ``on``, with the idempotency key
``expire:<member_id>:<on>``, and the balance goes down by as much. An expire entry is
itself a debit, so a second run finds nothing left to expire — and the key would
refuse a duplicate anyway; a run killed half way and run again expires nothing twice.

Set-based for ten million entries: one member id range at a time. On PostgreSQL one
statement per range::

    WITH ins AS (INSERT INTO point_entries … SELECT … ON CONFLICT DO NOTHING RETURNING …),
         upd AS (UPDATE members … FROM ins … RETURNING ins.points)
    SELECT count(*), sum(points) FROM upd

On SQLite (development) each member's entry goes through :func:`hq.points.ledger.post`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from clubplatform import dates
from clubplatform.db import utcnow
from clubplatform.extensions import db
from hq.members.models import Member
from hq.points import ledger
from hq.points.models import EXPIRE, PointEntry

#: members per chunk
CHUNK = 20_000
REASON = "expiry"


@dataclass
class ExpiryRun:
    """What an expiry run did (``entries`` written, ``points`` taken off balances)."""

    on: date
    entries: int = 0
    points: int = 0

    def as_dict(self) -> dict:
        return {"on": self.on.isoformat(), "entries": self.entries, "points": self.points,
                "message": f"{self.entries} members, {self.points} points expired on {self.on}"}


def idempotency_key(member_id: int, on: date) -> str:
    return f"expire:{member_id}:{on.isoformat()}"


def expire_month(on: date, *, chunk: int = CHUNK,
                 after_chunk: Callable[[int, int], None] | None = None) -> ExpiryRun:
    """Expire the points that expire at the end of business date ``on`` (a month end).

    ``after_chunk(done, total)`` is called after each member id range (a job commits
    there and reports progress); the service itself only flushes. Returns what it
    wrote: a second run for the same date writes nothing.
    """
    run = ExpiryRun(on)
    m = Member.__table__
    lo, hi = db.session.execute(sa.select(sa.func.min(m.c.id), sa.func.max(m.c.id))).one()
    if lo is None:
        return run
    fen_per_100 = ledger.rule_value("point_value", on=on) or 0
    rule = ledger.rule_at("point_value", on=on)
    rule_id = rule.id if rule is not None else None
    postgres = db.session.get_bind().dialect.name == "postgresql"
    total = hi - lo + 1
    start = lo
    while start <= hi:
        stop = min(start + chunk - 1, hi)
        if postgres:
            n, pts = _expire_range_pg(start, stop, on, fen_per_100, rule_id)
        else:
            n, pts = _expire_range_simple(start, stop, on, rule_id)
        run.entries += n
        run.points += pts
        db.session.flush()
        if after_chunk is not None:
            after_chunk(stop - lo + 1, total)
        start = stop + 1
    if run.entries:
        _expire_loaded_balances()
    return run


def _amounts(lo: int, hi: int, on: date) -> sa.Subquery:
    pe = PointEntry.__table__
    return ledger.expiring_amount_sql(on).where(pe.c.member_id.between(lo, hi)).subquery("amt")


def _expire_range_pg(lo: int, hi: int, on: date, fen_per_100: int,
                     rule_id: int | None) -> tuple[int, int]:
    from sqlalchemy.dialects.postgresql import insert

    pe = PointEntry.__table__
    m = Member.__table__
    amt = _amounts(lo, hi, on)
    amount = sa.cast(amt.c.amount, sa.BigInteger)
    src = (
        sa.select(
            amt.c.member_id, m.c.chapter_id, sa.literal(EXPIRE), sa.literal(REASON),
            -amount,
            -((amount * fen_per_100 + 50) // 100),
            sa.literal(rule_id, sa.Integer),
            sa.literal(on, sa.Date),
            sa.literal("expire:") + sa.cast(amt.c.member_id, sa.String)
            + sa.literal(f":{on.isoformat()}"),
            sa.literal(f"expiry:{on.isoformat()}"),
            sa.literal(utcnow(), pe.c.created_at.type),
        )
        .select_from(amt.join(m, m.c.id == amt.c.member_id))
    )
    ins = (
        insert(pe).from_select(
            ["member_id", "chapter_id", "kind", "reason", "points", "value_fen", "rule_id",
             "business_date", "idempotency_key", "source_ref", "created_at"], src)
        .on_conflict_do_nothing(index_elements=[pe.c.idempotency_key])
        .returning(pe.c.member_id, pe.c.points)
        .cte("ins")
    )
    upd = (
        sa.update(m).where(m.c.id == ins.c.member_id)
        .values(points_balance=m.c.points_balance + ins.c.points, updated_at=utcnow())
        .returning(ins.c.points.label("points"))
        .cte("upd")
    )
    n, pts = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(upd.c.points), 0))
        .select_from(upd)
    ).one()
    return int(n), -int(pts)


def _expire_range_simple(lo: int, hi: int, on: date, rule_id: int | None) -> tuple[int, int]:
    m = Member.__table__
    amt = _amounts(lo, hi, on)
    rows = db.session.execute(
        sa.select(amt.c.member_id, m.c.chapter_id, amt.c.amount)
        .select_from(amt.join(m, m.c.id == amt.c.member_id)).order_by(amt.c.member_id)
    ).all()
    n = pts = 0
    for member_id, chapter_id, amount in rows:
        posted = ledger.post(
            member_id=member_id, chapter_id=chapter_id, kind=EXPIRE, reason=REASON,
            points=-int(amount), idempotency_key=idempotency_key(member_id, on),
            business_date=on, rule_id=rule_id, source_ref=f"expiry:{on.isoformat()}")
        if posted.created:
            n += 1
            pts += int(amount)
    return n, pts


def _expire_loaded_balances() -> None:
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Member):
            db.session.expire(obj, ["points_balance"])


def last_month_end(today: date | None = None) -> date:
    """The end of the month before ``today``'s (the month a 1st-of-month run closes)."""
    today = today or dates.today()
    return today.replace(day=1) - timedelta(days=1)


__all__ = ["CHUNK", "ExpiryRun", "expire_month", "idempotency_key", "last_month_end"]
