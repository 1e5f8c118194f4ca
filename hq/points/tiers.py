"""Monthly tier recomputation, and each member's tier history.

**Qualifying points** of a member for a month are the points of their ``earn`` entries
whose business date falls in the 12 months ending at that month's end, except manual
awards (``reason = 'manual'``: a goodwill gesture should not buy a tier). Redemptions,
expiry and adjustments do not lower them: spending points never costs a tier.

The member's tier is the highest tier whose threshold (``tier_threshold`` rules in
force on the month end) the qualifying points reach; a tier without a threshold rule
cannot be reached, the first tier (silver) is the floor. Tiers go down as well as up.
Members who left keep the tier they had.

A change updates ``members.tier`` and adds a :class:`~hq.points.models.TierChange`
effective the day after the month end; ``(member_id, effective_on)`` is unique, so a
retried run (or one killed half way and run again) writes nothing twice. The work is
set-based SQL (``INSERT … SELECT … ON CONFLICT DO NOTHING`` and ``UPDATE … FROM``), one
member id range at a time; it runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from clubplatform import dates
from clubplatform.db import insert, utcnow
from clubplatform.extensions import db
from hq.members.models import LEFT, TIERS, Member
from hq.points.ledger import add_months_end
from hq.points.models import EARN, PointEntry, TierChange
from hq.points.rules import thresholds_on

#: members per chunk (one INSERT … SELECT and one UPDATE each)
CHUNK = 20_000


@dataclass
class TierRun:
    """What a recomputation did."""

    month_end: date
    effective_on: date
    changed: int = 0
    by_tier: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"month_end": self.month_end.isoformat(),
                "effective_on": self.effective_on.isoformat(),
                "changed": self.changed, "by_tier": self.by_tier,
                "message": f"{self.changed} tier changes for {self.month_end:%Y-%m}"}


def qualifying_window(month_end: date) -> tuple[date, date]:
    """First and last business date (inclusive) of the 12 months ending at ``month_end``."""
    start = add_months_end(month_end, -12) + timedelta(days=1)
    return start, month_end


def qualifying_points_sql(month_end: date) -> sa.Select:
    """Per member: qualifying points over the 12 months ending at ``month_end``."""
    pe = PointEntry.__table__
    start, end = qualifying_window(month_end)
    return (sa.select(pe.c.member_id, sa.func.sum(pe.c.points).label("points"))
            .where(pe.c.kind == EARN, pe.c.reason != "manual",
                   pe.c.business_date >= start, pe.c.business_date <= end)
            .group_by(pe.c.member_id))


def _tier_case(points, thresholds: dict[str, int]):
    """SQL: the highest tier whose threshold ``points`` reaches."""
    whens = [(points >= thresholds[t], sa.literal(t))
             for t in reversed(TIERS) if t in thresholds and t != TIERS[0]]
    if not whens:
        return sa.literal(TIERS[0])
    return sa.case(*whens, else_=sa.literal(TIERS[0]))


def recompute_month(month_end: date, *, chunk: int = CHUNK,
                    after_chunk: Callable[[int, int], None] | None = None) -> TierRun:
    """Recompute every member's tier for the month ending ``month_end``.

    ``after_chunk(done, total)`` is called after each member id range (the job commits
    there and reports progress); the service itself only flushes.
    """
    month_end = dates.month_end(month_end)
    effective_on = month_end + timedelta(days=1)
    thresholds = thresholds_on(month_end)
    run = TierRun(month_end, effective_on)
    m = Member.__table__
    lo, hi = db.session.execute(sa.select(sa.func.min(m.c.id), sa.func.max(m.c.id))).one()
    if lo is None:
        return run
    total = hi - lo + 1
    start = lo
    while start <= hi:
        stop = min(start + chunk - 1, hi)
        _recompute_range(start, stop, month_end, effective_on, thresholds, run)
        db.session.flush()
        if after_chunk is not None:
            after_chunk(stop - lo + 1, total)
        start = stop + 1
    return run


def _recompute_range(lo: int, hi: int, month_end: date, effective_on: date,
                     thresholds: dict[str, int], run: TierRun) -> None:
    m = Member.__table__
    tc = TierChange.__table__
    q = qualifying_points_sql(month_end).where(
        PointEntry.__table__.c.member_id.between(lo, hi)).subquery("q")
    points = sa.func.coalesce(q.c.points, 0)
    new_tier = _tier_case(points, thresholds)
    src = (sa.select(m.c.id, new_tier, m.c.tier, sa.literal(effective_on, sa.Date), points,
                     sa.literal(utcnow(), tc.c.created_at.type))
           .select_from(m.outerjoin(q, q.c.member_id == m.c.id))
           .where(m.c.id.between(lo, hi), m.c.status != LEFT, new_tier != m.c.tier))
    inserted = len(db.session.execute(
        insert(tc).from_select(
            ["member_id", "tier", "previous_tier", "effective_on", "qualifying_points",
             "created_at"], src)
        .on_conflict_do_nothing(index_elements=[tc.c.member_id, tc.c.effective_on])
        .returning(tc.c.member_id)
    ).all())
    if not inserted:
        return
    db.session.execute(
        sa.update(m).where(m.c.id == tc.c.member_id, tc.c.effective_on == effective_on,
                           m.c.id.between(lo, hi), m.c.tier != tc.c.tier)
        .values(tier=tc.c.tier, updated_at=utcnow()))
    for tier, n in db.session.execute(
            sa.select(tc.c.tier, sa.func.count()).where(
                tc.c.effective_on == effective_on, tc.c.member_id.between(lo, hi))
            .group_by(tc.c.tier)).all():
        run.by_tier[tier] = run.by_tier.get(tier, 0) + n
    run.changed += inserted
    _expire_loaded_members()


def _expire_loaded_members() -> None:
    """Let loaded Member objects see tiers Core SQL just moved."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Member):
            db.session.expire(obj, ["tier"])


def tier_history(member_id: int) -> list[TierChange]:
    """The member's tier changes, oldest first (the tier before the first is silver)."""
    return list(db.session.execute(
        sa.select(TierChange).where(TierChange.member_id == member_id)
        .order_by(TierChange.effective_on, TierChange.id)).scalars())


def tier_on(member_id: int, on: date) -> str:
    """The member's tier on business date ``on`` according to the history."""
    tier = db.session.execute(
        sa.select(TierChange.tier).where(TierChange.member_id == member_id,
                                         TierChange.effective_on <= on)
        .order_by(TierChange.effective_on.desc()).limit(1)).scalar_one_or_none()
    return tier or TIERS[0]


__all__ = ["CHUNK", "TierRun", "qualifying_points_sql", "qualifying_window",
           "recompute_month", "tier_history", "tier_on"]
