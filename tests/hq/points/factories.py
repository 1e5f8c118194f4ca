"""Factories for points tests: HQ rules and ledger entries, committed."""

from __future__ import annotations

import itertools
from datetime import date

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.points import ledger
from hq.points.models import PointRule

_seq = itertools.count(1)


def make_rule(kind: str, value: int, *, key: str = "", effective_from: date = date(2000, 1, 1),
              effective_to: date | None = None) -> PointRule:
    rule = PointRule(kind=kind, key=key, value=value, effective_from=effective_from,
                     effective_to=effective_to)
    db.session.add(rule)
    db.session.commit()
    return rule


def award(member_id: int, chapter_id: int, points: int, *, on: date | None = None,
          reason: str = "manual", funder: str = "hq", key: str | None = None):
    """An earn entry, committed."""
    with unscoped("test: points"):
        posted = ledger.post(member_id=member_id, chapter_id=chapter_id, kind="earn",
                             reason=reason, points=points, funder=funder, business_date=on,
                             idempotency_key=key or f"test-award-{next(_seq)}")
        db.session.commit()
    return posted.entry
