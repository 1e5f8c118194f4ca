"""Rows with exact past dates for the analytics tests, written with Core SQL.

The services date what they record today; the figures are about past month ends,
so these helpers write history rows directly (as an import of old data would).
"""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from clubplatform.extensions import db

_seq = itertools.count(1)
STAMP = "2024-01-01 00:00:00+00:00"


def _t(name: str) -> sa.Table:
    return db.metadata.tables[name]


def _insert(table: str, **values) -> int:
    from clubplatform.db import utcnow

    t = _t(table)
    now = utcnow()
    for col in ("created_at", "updated_at"):
        if col in t.c and col not in values:
            values[col] = now
    result = db.session.execute(sa.insert(t).values(**values).returning(t.c.id))
    new_id = result.scalar_one()
    db.session.commit()
    return new_id


def owner(chapter, *, since: date | None, kind: str = "individual") -> int:
    """An owner of the chapter's dealer, a customer since ``since``."""
    n = next(_seq)
    return _insert("owners", chapter_id=chapter.id, kind=kind, name=f"车主{n}",
                   hobbies=[], is_vip=False, customer_since=since)


def member(chapter, *periods, joined: date | None = None) -> int:
    """A member with status periods ``(chapter, from, to, reason, end_reason[, status])``.

    With no periods given: active in ``chapter`` from ``joined`` on.
    """
    n = next(_seq)
    if not periods:
        periods = ((chapter, joined, None, "joined", None),)
    first = periods[0][1]
    mid = _insert("members", chapter_id=periods[-1][0].id, member_number=f"A{n:08d}",
                  name=f"会员{n}", hobbies=[], locale="zh_Hans_CN", joined_on=first,
                  source="showroom", status="active", status_since=periods[-1][1],
                  tier="silver", points_balance=0, consent_sms=False, consent_email=False,
                  consent_phone=False, consent_portal=False)
    for p in periods:
        ch, frm, to, reason, end_reason = p[:5]
        status = p[5] if len(p) > 5 else "active"
        _insert("member_status_periods", chapter_id=ch.id, member_id=mid, status=status,
                valid_from=frm, valid_to=to, reason=reason, end_reason=end_reason)
    return mid


def application(chapter, owner_id: int, *, applied: date, decided: date | None = None,
                status: str | None = None) -> int:
    status = status or ("pending" if decided is None else "approved")
    return _insert("applications", chapter_id=chapter.id, owner_id=owner_id, source="showroom",
                   status=status, applied_on=applied, decided_on=decided)


def lead(chapter, *, referrer: int | None, purchased: date | None) -> int:
    n = next(_seq)
    return _insert("leads", chapter_id=chapter.id, referrer_member_id=referrer,
                   friend_name=f"朋友{n}", friend_mobile=f"139{n:08d}", grade="B",
                   status="purchased" if purchased else "open",
                   purchased_vin=f"VIN{n:014d}" if purchased else None, purchased_on=purchased)
