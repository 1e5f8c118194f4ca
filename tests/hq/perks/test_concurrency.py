"""Stock, per-member limits and single use hold under concurrency (PostgreSQL, threads)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.perks import service
from hq.points import ledger
from hq.points.models import Perk, PointEntry, Voucher
from tests import concurrency
from tests.factories import make_chapter
from tests.hq.perks.factories import (
    load_member,
    make_partner,
    make_partner_user,
    make_perk,
    member_with_points,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def wide_pool(app):
    with concurrency.wide_pool(34):
        yield


def _race(app, n, work):
    """Each outcome: ("ok", result), ("refused", the refusal's code) or ("error", …)."""
    return [("refused", o[1].code) if o[0] == "refused" else o
            for o in concurrency.race(app, n, work,
                                      refused=(service.PerkRefused, service.VoucherUsed))]


def _count(model, *where):
    with unscoped("test"):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_thirty_members_racing_for_ten_vouchers_get_exactly_ten(app, wide_pool):
    chapter = make_chapter()
    perk = make_perk(make_partner(), points_cost=50, stock=10)
    perk_id = perk.id
    members = [member_with_points(chapter, 100) for _ in range(30)]

    outcomes = _race(app, 30, lambda i: service.take_perk(load_member(members[i]), perk_id)
                     .voucher.code)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o[0] == "ok") == 10
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"out_of_stock"}
    assert _count(Voucher, Voucher.perk_id == perk_id) == 10
    assert _count(PointEntry, PointEntry.reason == "perk") == 10
    with unscoped("test"):
        assert db.session.scalar(sa.select(Perk.taken).where(Perk.id == perk_id)) == 10
        assert sum(ledger.balance(m) for m in members) == 30 * 100 - 10 * 50


def test_one_member_racing_ten_takes_against_a_limit_of_two_gets_two(app, wide_pool):
    chapter = make_chapter()
    perk = make_perk(make_partner(), points_cost=10, per_member_limit=2)
    perk_id = perk.id
    member_id = member_with_points(chapter, 1000)

    outcomes = _race(app, 10, lambda i: service.take_perk(load_member(member_id), perk_id)
                     .voucher.code)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o[0] == "ok") == 2
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"limit_reached"}
    assert _count(Voucher, Voucher.member_id == member_id) == 2
    with unscoped("test"):
        assert ledger.balance(member_id) == 980 == ledger.ledger_sum(member_id)


def test_a_double_submit_in_parallel_takes_once(app, wide_pool):
    chapter = make_chapter()
    perk = make_perk(make_partner(), points_cost=10)
    perk_id = perk.id
    member_id = member_with_points(chapter, 1000)

    outcomes = _race(app, 10, lambda i: service.take_perk(
        load_member(member_id), perk_id, client_token="same-form").voucher.code)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert len({o[1] for o in outcomes}) == 1
    assert _count(Voucher, Voucher.member_id == member_id) == 1
    with unscoped("test"):
        assert ledger.balance(member_id) == 990


def test_twenty_parallel_uses_of_one_voucher_succeed_once(app, wide_pool):
    chapter = make_chapter()
    partner = make_partner()
    perk = make_perk(partner, points_cost=0)
    with unscoped("test"):
        code = service.take_perk(load_member(member_with_points(chapter)), perk.id).voucher.code
        db.session.commit()
    user = make_partner_user(partner)
    partner_id, user_id = partner.id, user.id

    def use(i):
        from clubplatform.auth.models import User
        from hq.points.models import Partner

        return service.use_voucher(db.session.get(Partner, partner_id), code,
                                   actor=db.session.get(User, user_id)).state

    outcomes = _race(app, 20, use)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o[0] == "ok") == 1
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"voucher_used"}
