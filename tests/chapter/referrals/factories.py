"""Factories for leads (each takes its chapter explicitly)."""

from __future__ import annotations

import itertools
import random

from chapter.referrals import service as referrals
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_mobile, make_vin

_seq = itertools.count(1)
_rng = random.Random(44)


def friend_mobile() -> str:
    return make_mobile(_rng)


def vin() -> str:
    return make_vin(_rng)


def make_lead(chapter, *, referrer=None, actor=None, **fields):
    """An open lead of ``chapter`` (a walk-in unless a referrer member is given)."""
    data = {"friend_name": f"朋友{next(_seq)}", "friend_mobile": friend_mobile(),
            "model": "SUV", "grade": "B"}
    data.update(fields)
    with chapter_scope(chapter.id):
        ref = None
        if referrer is not None:
            ref = referrals.find_referrer(referrer.member_number)
        lead = referrals.record_lead(data, referrer=ref, actor=actor)
        db.session.commit()
        db.session.refresh(lead)
    return lead
