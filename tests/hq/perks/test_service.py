"""Taking perks and using vouchers: every rule, and every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from clubplatform import dates
from clubplatform.errors import Conflict, NotFound, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.perks import codes, service
from hq.points import ledger
from hq.points.models import Perk, PointEntry, Voucher
from tests.factories import make_chapter
from tests.hq.perks.factories import (
    load_member,
    make_partner,
    make_partner_user,
    make_perk,
    member_with_points,
)


@pytest.fixture(autouse=True)
def _english(app):
    """Messages are asserted in English (the UI default is Chinese)."""
    with force_locale("en"):
        yield


@pytest.fixture
def chapter(db):
    return make_chapter()


@pytest.fixture
def partner(db):
    return make_partner()


def _take(member_id, perk_id, **kw):
    with unscoped("test: take a perk"):
        taken = service.take_perk(load_member(member_id), perk_id, **kw)
        db.session.commit()
        return taken


def _counts(perk_id):
    with unscoped("test: count"):
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)),
                db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry)
                                  .where(PointEntry.kind == "redeem")),
                db.session.scalar(sa.select(Perk.taken).where(Perk.id == perk_id)))


def _refused(member_id, perk_id, error, code):
    before = _counts(perk_id)
    with unscoped("test"):
        balance = ledger.balance(member_id)
    with pytest.raises(error) as info:
        _take(member_id, perk_id)
    db.session.rollback()
    assert info.value.code == code
    assert _counts(perk_id) == before
    with unscoped("test"):
        assert ledger.balance(member_id) == balance == ledger.ledger_sum(member_id)
    return info.value


def test_taking_a_perk_spends_its_points_and_gives_a_voucher(chapter, partner):
    member_id = member_with_points(chapter, 500)
    perk = make_perk(partner, points_cost=200, stock=5)
    voucher = _take(member_id, perk.id).voucher
    with unscoped("test"):
        assert ledger.balance(member_id) == 300
        entry = db.session.get(PointEntry, voucher.entry_id)
        assert (entry.kind, entry.reason, entry.venue, entry.points) == ("redeem", "perk",
                                                                         "partner", -200)
        assert entry.partner_id == partner.id and entry.chapter_id == chapter.id
        assert entry.idempotency_key == f"perk:{voucher.code}"
    assert voucher.status == "issued" and voucher.valid_to == perk.valid_to
    assert codes.looks_valid(voucher.code)
    assert _counts(perk.id) == (1, 1, 1)


def test_a_free_perk_writes_no_ledger_entry(chapter, partner):
    member_id = member_with_points(chapter, 0)
    perk = make_perk(partner, points_cost=0)
    voucher = _take(member_id, perk.id).voucher
    assert voucher.entry_id is None
    assert _counts(perk.id) == (1, 0, 1)


def test_voucher_codes_are_16_unambiguous_characters_and_differ(chapter, partner):
    member_id = member_with_points(chapter, 0)
    perk = make_perk(partner, points_cost=0)
    a, b = _take(member_id, perk.id).voucher.code, _take(member_id, perk.id).voucher.code
    assert a != b
    assert all(len(c) == 16 and not set(c) & set("01IO") for c in (a, b))
    assert codes.display(a).count("-") == 3


def test_the_same_client_token_takes_only_once(chapter, partner):
    member_id = member_with_points(chapter, 500)
    perk = make_perk(partner, points_cost=100)
    first = _take(member_id, perk.id, client_token="tok-1")
    again = _take(member_id, perk.id, client_token="tok-1")
    assert first.created and not again.created
    assert first.voucher.code == again.voucher.code
    assert _counts(perk.id) == (1, 1, 1)


def test_member_without_enough_points_is_refused_and_nothing_is_written(chapter, partner):
    member_id = member_with_points(chapter, 99)
    perk = make_perk(partner, points_cost=100)
    err = _refused(member_id, perk.id, service.NotEnoughPoints, "insufficient_points")
    assert "enough points" in str(err.message)


def test_a_perk_out_of_stock_is_refused_and_nothing_is_written(chapter, partner):
    perk = make_perk(partner, points_cost=0, stock=1)
    _take(member_with_points(chapter), perk.id)
    err = _refused(member_with_points(chapter), perk.id, service.OutOfStock, "out_of_stock")
    assert "out of stock" in str(err.message)


def test_member_cannot_take_a_perk_of_a_higher_tier(chapter, partner):
    member_id = member_with_points(chapter, 500, tier="silver")
    perk = make_perk(partner, tiers=("gold", "platinum"))
    err = _refused(member_id, perk.id, service.TierNotAllowed, "tier_not_allowed")
    assert "tier" in str(err.message)


def test_a_gold_member_may_take_a_gold_perk(chapter, partner):
    member_id = member_with_points(chapter, 500, tier="gold")
    perk = make_perk(partner, tiers=("gold",))
    assert _take(member_id, perk.id).created


def test_member_over_the_limit_is_refused_and_nothing_is_written(chapter, partner):
    member_id = member_with_points(chapter, 1000)
    perk = make_perk(partner, points_cost=100, per_member_limit=2)
    _take(member_id, perk.id)
    _take(member_id, perk.id)
    err = _refused(member_id, perk.id, service.LimitReached, "limit_reached")
    assert "as often as allowed" in str(err.message)


def test_a_perk_not_yet_valid_is_refused(chapter, partner):
    today = dates.today()
    perk = make_perk(partner, valid_from=today + timedelta(days=1),
                     valid_to=today + timedelta(days=9))
    _refused(member_with_points(chapter, 500), perk.id, service.PerkNotValidNow,
             "perk_not_valid_now")


def test_a_perk_past_its_validity_is_refused(chapter, partner):
    today = dates.today()
    perk = make_perk(partner, valid_from=today - timedelta(days=9),
                     valid_to=today - timedelta(days=1))
    _refused(member_with_points(chapter, 500), perk.id, service.PerkNotValidNow,
             "perk_not_valid_now")


def test_a_suspended_member_cannot_take_perks(chapter, partner):
    perk = make_perk(partner)
    _refused(member_with_points(chapter, 500, status="suspended"), perk.id,
             service.MemberNotActive, "member_not_active")


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_a_perk_not_published_cannot_be_taken(chapter, partner, status):
    perk = make_perk(partner, status=status)
    _refused(member_with_points(chapter, 500), perk.id, NotFound, "not_found")


def test_a_perk_of_an_inactive_partner_cannot_be_taken(chapter, partner):
    perk = make_perk(partner)
    service.update_partner(partner, {"active": False})
    db.session.commit()
    _refused(member_with_points(chapter, 500), perk.id, NotFound, "not_found")


def test_the_perk_list_says_why_a_member_may_not_take_each(chapter, partner):
    member_id = member_with_points(chapter, 150, tier="silver")
    ok = make_perk(partner, points_cost=100, title="ok")
    dear = make_perk(partner, points_cost=200, title="dear")
    gold = make_perk(partner, tiers=("gold",), title="gold")
    make_perk(partner, status="draft", title="draft")
    with unscoped("test"):
        offers = {o.perk.title: o for o in service.perks_for_member(load_member(member_id))}
    assert set(offers) == {"ok", "dear", "gold"}
    assert offers[ok.title].can_take
    assert offers[dear.title].reason_code == "insufficient_points"
    assert offers[gold.title].reason_code == "tier_not_allowed"


# --- HQ: perks and partners -------------------------------------------------------------

def test_a_perk_with_a_negative_cost_is_refused(partner):
    with pytest.raises(ValidationFailed) as info:
        make_perk(partner, points_cost=-1)
    assert "points_cost" in info.value.fields


def test_a_perk_ending_before_it_starts_is_refused(partner):
    today = dates.today()
    with pytest.raises(ValidationFailed) as info:
        make_perk(partner, valid_from=today, valid_to=today - timedelta(days=1))
    assert "valid_to" in info.value.fields


def test_stock_cannot_be_lowered_below_what_was_taken(chapter, partner):
    perk = make_perk(partner, points_cost=0, stock=5)
    _take(member_with_points(chapter), perk.id)
    _take(member_with_points(chapter), perk.id)
    with pytest.raises(ValidationFailed):
        service.update_perk(perk, {"stock": 1})
    db.session.rollback()


def test_a_perk_goes_from_draft_to_published_to_withdrawn(partner):
    perk = make_perk(partner, status="draft")
    service.publish_perk(perk)
    with pytest.raises(Conflict):
        service.publish_perk(perk)
    service.withdraw_perk(perk)
    assert perk.status == "withdrawn"
    with pytest.raises(Conflict):
        service.withdraw_perk(perk)


def test_two_partners_cannot_share_a_code(partner):
    with pytest.raises(Conflict):
        service.create_partner({"code": partner.code.lower(), "name": "x"})


def test_a_partner_user_has_the_partner_role_and_works_for_the_partner(partner):
    user = make_partner_user(partner)
    assert user.role == "partner"
    assert service.partner_of_user(user).id == partner.id


# --- partners: check and use --------------------------------------------------------------

def _voucher(chapter, partner, **perk):
    perk = make_perk(partner, points_cost=0, **perk)
    return _take(member_with_points(chapter), perk.id).voucher


def test_a_partner_checks_a_code_and_sees_only_a_masked_name(chapter, partner):
    voucher = _voucher(chapter, partner)
    view = service.check_voucher(partner, codes.display(voucher.code).lower())
    assert view.state == "issued"
    with unscoped("test"):
        name = load_member(voucher.member_id).name
    assert view.holder == name[0] + "*" * (len(name) - 1)


def test_a_voucher_is_used_once(chapter, partner):
    voucher = _voucher(chapter, partner)
    user = make_partner_user(partner)
    view = service.use_voucher(partner, voucher.code, actor=user)
    db.session.commit()
    assert view.state == "used" and view.voucher.used_by_id == user.id
    with pytest.raises(service.VoucherUsed) as info:
        service.use_voucher(partner, voucher.code, actor=user)
    assert "already been used" in str(info.value.message)


def test_an_expired_voucher_cannot_be_used(chapter, partner):
    voucher = _voucher(chapter, partner)
    with pytest.raises(service.VoucherExpired) as info:
        service.use_voucher(partner, voucher.code, actor=make_partner_user(partner),
                            today=voucher.valid_to + timedelta(days=1))
    assert "expired" in str(info.value.message)
    db.session.rollback()
    assert db.session.get(Voucher, voucher.id).status == "issued"


def test_another_partners_voucher_answers_like_an_unknown_code(chapter, partner):
    voucher = _voucher(chapter, partner)
    other = make_partner()
    with pytest.raises(NotFound) as theirs:
        service.check_voucher(other, voucher.code)
    with pytest.raises(NotFound) as unknown:
        service.check_voucher(other, codes.new_code())
    assert str(theirs.value.message) == str(unknown.value.message)
    assert theirs.value.fields == unknown.value.fields
    with pytest.raises(NotFound):
        service.use_voucher(other, voucher.code, actor=make_partner_user(other))
