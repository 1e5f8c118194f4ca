"""Perk pages: HQ (admin edits, analyst reads), the partner's page, the member portal."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.perks import codes, service
from hq.points import ledger
from hq.points.models import Partner, PartnerUser, Perk, Voucher
from tests.chapter.portal.factories import make_portal_member
from tests.factories import PASSWORD, make_chapter, make_user
from tests.hq.perks.factories import (
    load_member,
    make_partner,
    make_partner_user,
    make_perk,
    member_with_points,
    set_member,
)
from tests.hq.points.factories import award

ENGLISH = {"Accept-Language": "en"}


def _html(resp) -> str:
    return resp.get_data(as_text=True)


def _path(resp) -> str:
    return urlsplit(resp.headers.get("Location", "")).path


def _flash_errors(resp) -> list[str]:
    return [m.strip() for m in re.findall(r'class="flash flash-error"[^>]*>(.*?)</div>',
                                          _html(resp), re.S)]


def _take(member_id, perk_id):
    with unscoped("test"):
        code = service.take_perk(load_member(member_id), perk_id).voucher.code
        db.session.commit()
    return code


# --- HQ ---------------------------------------------------------------------------------

def test_hq_admin_registers_a_partner_with_a_login(client, login_as):
    login_as(make_user("hq_admin"))
    resp = client.post("/hq/perks/partners/new", data={
        "code": "wash", "name": "洁宝洗车", "category": "car_wash", "contact": "400", "active": "y"})
    assert resp.status_code == 302
    partner = db.session.execute(sa.select(Partner)).scalar_one()
    assert partner.code == "WASH"
    resp = client.post(f"/hq/perks/partners/{partner.id}/users", data={
        "user-username": "wash.clerk", "user-display_name": "店员", "user-password": PASSWORD})
    assert resp.status_code == 302
    link = db.session.execute(sa.select(PartnerUser)).scalar_one()
    assert link.partner_id == partner.id
    assert "wash.clerk" in _html(client.get(f"/hq/perks/partners/{partner.id}"))


def test_hq_admin_creates_and_publishes_a_perk(client, login_as):
    partner = make_partner()
    login_as(make_user("hq_admin"))
    today = dates.today()
    resp = client.post("/hq/perks/new", data={
        "partner_id": partner.id, "title": "洗车一次", "tiers": ["gold", "diamond"],
        "points_cost": "300", "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat(), "stock": "10",
        "per_member_limit": "1"})
    assert resp.status_code == 302
    perk = db.session.execute(sa.select(Perk)).scalar_one()
    assert (perk.status, perk.tiers, perk.stock) == ("draft", ["gold", "diamond"], 10)
    assert client.post(f"/hq/perks/{perk.id}/publish").status_code == 302
    db.session.expire_all()
    assert db.session.get(Perk, perk.id).status == "published"
    assert client.post(f"/hq/perks/{perk.id}/withdraw").status_code == 302
    db.session.expire_all()
    assert db.session.get(Perk, perk.id).status == "withdrawn"


def test_a_perk_with_a_negative_cost_is_shown_back_with_the_error(client, login_as):
    partner = make_partner()
    login_as(make_user("hq_admin"))
    today = dates.today()
    resp = client.post("/hq/perks/new", headers=ENGLISH, data={
        "partner_id": partner.id, "title": "x", "tiers": ["gold"], "points_cost": "-5",
        "valid_from": today.isoformat(), "valid_to": today.isoformat()})
    assert resp.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Perk)) == 0


def test_hq_perk_list_shows_the_stock_taken(client, login_as):
    chapter = make_chapter()
    perk = make_perk(make_partner(), points_cost=0, stock=5)
    _take(member_with_points(chapter), perk.id)
    login_as(make_user("hq_analyst"))
    html = _html(client.get("/hq/perks/"))
    assert re.search(rf'data-testid="taken-{perk.id}">\s*1 / 5', html)


def test_hq_analyst_reads_perks_but_cannot_change_them(client, login_as):
    perk = make_perk(make_partner(), status="draft")
    login_as(make_user("hq_analyst"))
    assert client.get(f"/hq/perks/{perk.id}").status_code == 200
    assert client.get(f"/hq/perks/partners/{perk.partner_id}").status_code == 200
    assert client.post(f"/hq/perks/{perk.id}", data={"title": "x"}).status_code == 403
    assert client.post(f"/hq/perks/{perk.id}/publish").status_code == 403
    assert client.get("/hq/perks/new").status_code == 403
    assert client.post("/hq/perks/partners/new").status_code == 403


def test_chapter_staff_cannot_open_hq_perk_pages(client, login_as):
    login_as(make_user("chapter_manager", chapter=make_chapter()))
    assert client.get("/hq/perks/").status_code == 403


# --- partner ------------------------------------------------------------------------------

@pytest.fixture
def shop(db):
    partner = make_partner()
    return partner, make_partner_user(partner)


def test_a_partner_user_lands_on_the_partner_page_after_login(client, shop):
    _partner, user = shop
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert _path(resp) == "/partner/"


def test_a_partner_checks_a_code_and_marks_it_used(client, login_as, shop):
    partner, user = shop
    code = _take(member_with_points(make_chapter()), make_perk(partner, points_cost=0).id)
    login_as(user)
    resp = client.get("/partner/check", query_string={"code": codes.display(code).lower()})
    assert _path(resp) == f"/partner/vouchers/{code}"
    html = _html(client.get(f"/partner/vouchers/{code}", headers=ENGLISH))
    assert "Mark used" in html and "Ready to use" in html
    assert client.post(f"/partner/vouchers/{code}/use").status_code == 302
    db.session.expire_all()
    assert db.session.execute(sa.select(Voucher.status)).scalar_one() == "used"
    assert codes.display(code) in _html(client.get("/partner/"))


def test_a_used_voucher_cannot_be_used_again_on_the_page(client, login_as, shop):
    partner, user = shop
    code = _take(member_with_points(make_chapter()), make_perk(partner, points_cost=0).id)
    login_as(user)
    client.post(f"/partner/vouchers/{code}/use")
    resp = client.post(f"/partner/vouchers/{code}/use", headers=ENGLISH, follow_redirects=True)
    assert any("already been used" in m for m in _flash_errors(resp))


def test_a_partner_never_sees_another_partners_voucher(client, login_as, shop):
    _partner, user = shop
    other = make_partner()
    code = _take(member_with_points(make_chapter()), make_perk(other, points_cost=0).id)
    other_user = make_partner_user(other)
    login_as(other_user)
    client.post(f"/partner/vouchers/{code}/use")
    login_as(user)
    theirs = client.get(f"/partner/vouchers/{code}", headers=ENGLISH)
    unknown = client.get(f"/partner/vouchers/{codes.new_code()}", headers=ENGLISH)
    assert theirs.status_code == unknown.status_code == 404
    assert client.post(f"/partner/vouchers/{code}/use").status_code == 404
    assert codes.display(code) not in _html(client.get("/partner/"))


def test_a_partner_login_without_a_partner_is_refused(client, login_as):
    login_as(make_user("partner"))
    assert client.get("/partner/").status_code == 403


def test_members_and_hq_cannot_open_the_partner_page(client, login_as):
    login_as(make_user("hq_admin"))
    assert client.get("/partner/").status_code == 403


# --- member portal --------------------------------------------------------------------------

@pytest.fixture
def me(client, login_as, db):
    chapter = make_chapter()
    member = make_portal_member(chapter)
    login_as(member.user)
    return member


def test_member_sees_perks_with_why_not(client, me):
    partner = make_partner()
    ok = make_perk(partner, points_cost=0, title="免费洗车")
    gold = make_perk(partner, tiers=("gold",), title="金卡礼遇")
    html = _html(client.get("/portal/perks/", headers=ENGLISH))
    assert f'data-testid="take-{ok.id}"' in html
    assert re.search(rf'data-testid="why-not-{gold.id}">\s*This perk is not offered to your tier',
                     html)


def test_member_takes_a_perk_and_sees_the_code_with_a_qr(client, me):
    award(me.member_id, me.chapter_id, 500)
    perk = make_perk(make_partner(), points_cost=200)
    resp = client.post(f"/portal/perks/{perk.id}/take", data={"client_token": "t1"})
    assert _path(resp) == "/portal/perks/vouchers"
    code = db.session.execute(sa.select(Voucher.code)).scalar_one()
    html = _html(client.get("/portal/perks/vouchers"))
    assert codes.display(code) in html
    assert 'src="data:image/svg+xml' in html
    with unscoped("test"):
        assert ledger.balance(me.member_id) == 300


def test_a_double_submitted_take_form_takes_once(client, me):
    award(me.member_id, me.chapter_id, 500)
    perk = make_perk(make_partner(), points_cost=200)
    client.post(f"/portal/perks/{perk.id}/take", data={"client_token": "form-1"})
    client.post(f"/portal/perks/{perk.id}/take", data={"client_token": "form-1"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 1
    with unscoped("test"):
        assert ledger.balance(me.member_id) == 300


def test_member_without_enough_points_is_told_so_and_nothing_is_written(client, me):
    perk = make_perk(make_partner(), points_cost=200)
    resp = client.post(f"/portal/perks/{perk.id}/take", headers=ENGLISH, follow_redirects=True)
    assert any("not have enough points" in m for m in _flash_errors(resp))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 0
    assert db.session.scalar(sa.select(Perk.taken)) == 0


def test_a_suspended_member_is_told_they_cannot_take_perks(client, me):
    perk = make_perk(make_partner(), points_cost=0)
    set_member(me.member_id, status="suspended")
    resp = client.post(f"/portal/perks/{perk.id}/take", headers=ENGLISH, follow_redirects=True)
    assert any("Only active members" in m for m in _flash_errors(resp))


def test_a_member_sees_only_their_own_vouchers(client, me):
    perk = make_perk(make_partner(), points_cost=0)
    code = _take(member_with_points(make_chapter()), perk.id)
    assert codes.display(code) not in _html(client.get("/portal/perks/vouchers"))


def test_hq_admin_edits_a_perk_and_a_partner(client, login_as):
    perk = make_perk(make_partner(), tiers=("gold",), stock=3)
    login_as(make_user("hq_admin"))
    html = _html(client.get(f"/hq/perks/{perk.id}"))
    assert 'value="gold" checked' in html or 'checked value="gold"' in html \
        or re.search(r'<input[^>]*checked[^>]*value="gold"', html)
    data = {"partner_id": perk.partner_id, "title": "新标题", "tiers": ["gold", "platinum"],
            "points_cost": "50", "valid_from": perk.valid_from.isoformat(),
            "valid_to": perk.valid_to.isoformat(), "stock": "8", "per_member_limit": ""}
    assert client.post(f"/hq/perks/{perk.id}", data=data).status_code == 302
    db.session.expire_all()
    perk = db.session.get(Perk, perk.id)
    assert (perk.title, perk.tiers, perk.stock, perk.per_member_limit) == (
        "新标题", ["gold", "platinum"], 8, None)
    assert client.get(f"/hq/perks/partners/{perk.partner_id}").status_code == 200
    resp = client.post(f"/hq/perks/partners/{perk.partner_id}", data={
        "code": "NEW1", "name": "新名字", "active": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Partner, perk.partner_id).active is False
