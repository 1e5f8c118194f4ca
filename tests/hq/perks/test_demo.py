"""Demo data of perks: partners with a login, published perks, loaded idempotently."""

from __future__ import annotations

import sqlalchemy as sa

from clubplatform import demo
from hq.perks import demo as perks_demo
from hq.perks import service
from hq.points.models import Partner, PartnerUser, Perk


def _counts(db):
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                 for m in (Partner, PartnerUser, Perk))


def test_the_demo_has_partners_with_logins_and_published_perks(db):
    demo.load()
    logins = perks_demo.load()
    assert ("partner", "partner.fuel", perks_demo.PASSWORD) in logins
    partners, links, perks = _counts(db)
    assert partners == 3 and links == 2 and perks == 4
    wash = db.session.execute(sa.select(Partner).where(Partner.code == "WASH")).scalar_one()
    from clubplatform.auth import service as auth

    assert service.partner_of_user(auth.find_user("partner.wash")).id == wash.id
    assert set(db.session.execute(sa.select(Perk.status)).scalars()) == {"published"}


def test_loading_the_perks_demo_twice_changes_nothing(db):
    demo.load()
    perks_demo.load()
    first = _counts(db)
    perks_demo.load()
    assert _counts(db) == first
