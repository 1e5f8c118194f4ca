"""Factories for settlement tests: redemptions and partners, committed."""

from __future__ import annotations

import itertools
from datetime import date

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.points import ledger
from hq.points.models import Partner

_seq = itertools.count(1)


def redeem(member_id: int, chapter_id: int, points: int, *, on: date | None = None,
           venue: str = "dealer", partner_id: int | None = None):
    """A redeem entry (at the chapter's dealer, or a partner's perk), committed."""
    with unscoped("test: points"):
        posted = ledger.post(member_id=member_id, chapter_id=chapter_id, kind="redeem",
                             reason="perk" if venue == "partner" else "dealer_service",
                             venue=venue, partner_id=partner_id, points=-points,
                             business_date=on, idempotency_key=f"test-redeem-{next(_seq)}")
        db.session.commit()
    return posted.entry


def adjust(member_id: int, chapter_id: int, points: int, *, on: date | None = None,
           funder: str = "chapter"):
    with unscoped("test: points"):
        posted = ledger.post(member_id=member_id, chapter_id=chapter_id, kind="adjust",
                             reason="correction", funder=funder, points=points,
                             business_date=on, note="test",
                             idempotency_key=f"test-adjust-{next(_seq)}")
        db.session.commit()
    return posted.entry


def make_partner(code: str | None = None) -> Partner:
    n = next(_seq)
    partner = Partner(code=code or f"P{n:04d}", name=f"Partner {n}")
    db.session.add(partner)
    db.session.commit()
    return partner
