"""The perks API: HQ partners and perks, the member's perks and vouchers, the partner's checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from clubplatform import dates
from clubplatform.auth import service as auth
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.perks import codes, service
from hq.points import ledger
from hq.points.models import Voucher
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_chapter, make_user
from tests.hq.perks.factories import (
    load_member,
    make_partner,
    make_partner_user,
    make_perk,
    member_with_points,
)
from tests.hq.points.factories import award


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


def _take(member_id, perk_id):
    with unscoped("test"):
        code = service.take_perk(load_member(member_id), perk_id).voucher.code
        db.session.commit()
    return code


def test_hq_admin_registers_a_partner_and_publishes_a_perk(client, bearer):
    h = bearer(make_user("hq_admin"))
    partner = client.post("/api/v1/hq/perks/partners", headers=h,
                          json={"code": "FUEL", "name": "加油站"}).get_json()
    today = dates.today()
    resp = client.post("/api/v1/hq/perks", headers=h, json={
        "partner_id": partner["id"], "title": "加油立减", "tiers": ["silver"], "points_cost": 0,
        "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=9)).isoformat(),
        "stock": 3})
    assert resp.status_code == 201
    perk = resp.get_json()
    assert (perk["status"], perk["taken"], perk["stock"]) == ("draft", 0, 3)
    published = client.post(f"/api/v1/hq/perks/{perk['id']}/publish", headers=h)
    assert published.get_json()["status"] == "published"
    user = client.post(f"/api/v1/hq/perks/partners/{partner['id']}/users", headers=h, json={
        "username": "fuel.clerk", "display_name": "店员", "password": "Long-enough-1"})
    assert user.status_code == 201


def test_hq_analyst_reads_but_cannot_write(client, bearer):
    make_perk(make_partner())
    h = bearer(make_user("hq_analyst"))
    assert len(client.get("/api/v1/hq/perks", headers=h).get_json()) == 1
    resp = client.post("/api/v1/hq/perks/partners", headers=h, json={"code": "X", "name": "x"})
    assert resp.status_code == 403


def test_a_perk_ending_before_it_starts_is_a_clear_error(client, bearer):
    partner = make_partner()
    today = dates.today()
    resp = client.post("/api/v1/hq/perks", headers=bearer(make_user("hq_admin")), json={
        "partner_id": partner.id, "title": "x", "tiers": ["gold"], "points_cost": 0,
        "valid_from": today.isoformat(), "valid_to": (today - timedelta(days=1)).isoformat()})
    assert resp.status_code == 422
    assert "valid_to" in resp.get_json()["error"]["fields"]


@pytest.fixture
def member(db):
    return make_portal_member(make_chapter())


def test_member_lists_perks_with_why_not(client, bearer, member):
    make_perk(make_partner(), points_cost=100)
    perks = client.get("/api/v1/portal/perks", headers=bearer(member.user)).get_json()
    assert perks[0]["can_take"] is False
    assert perks[0]["reason_code"] == "insufficient_points"


def test_member_takes_a_perk_and_sees_the_voucher(client, bearer, member):
    award(member.member_id, member.chapter_id, 300)
    perk = make_perk(make_partner(), points_cost=100)
    h = bearer(member.user)
    resp = client.post(f"/api/v1/portal/perks/{perk.id}/take", headers=h,
                       json={"client_token": "abc"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "issued" and codes.looks_valid(body["code"])
    again = client.post(f"/api/v1/portal/perks/{perk.id}/take", headers=h,
                        json={"client_token": "abc"})
    assert again.get_json()["code"] == body["code"]
    vouchers = client.get("/api/v1/portal/vouchers", headers=h).get_json()
    assert [v["code"] for v in vouchers] == [body["code"]]
    with unscoped("test"):
        assert ledger.balance(member.member_id) == 200


@pytest.mark.parametrize("setup, code", [
    ({"points_cost": 500}, "insufficient_points"),
    ({"tiers": ("diamond",)}, "tier_not_allowed"),
])
def test_a_refused_take_is_a_clear_error_and_writes_nothing(client, bearer, member, setup, code):
    award(member.member_id, member.chapter_id, 100)
    perk = make_perk(make_partner(), **setup)
    resp = client.post(f"/api/v1/portal/perks/{perk.id}/take", headers=bearer(member.user),
                       json={})
    assert resp.status_code == 409
    assert resp.get_json()["error"]["code"] == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voucher)) == 0


def test_out_of_stock_is_a_clear_error(client, bearer, member):
    perk = make_perk(make_partner(), points_cost=0, stock=1)
    _take(member_with_points(make_chapter()), perk.id)
    resp = client.post(f"/api/v1/portal/perks/{perk.id}/take", headers=bearer(member.user),
                       json={})
    assert resp.get_json()["error"]["code"] == "out_of_stock"


def test_a_partner_checks_and_uses_a_voucher_once(client, bearer):
    partner = make_partner()
    code = _take(member_with_points(make_chapter()), make_perk(partner, points_cost=0).id)
    h = bearer(make_partner_user(partner))
    check = client.get(f"/api/v1/partner/vouchers/{codes.display(code)}", headers=h).get_json()
    assert check["status"] == "issued" and check["holder"].endswith("*")
    assert set(check) == {"code", "display_code", "perk_title", "status", "valid_to",
                          "used_at", "holder"}
    assert client.post(f"/api/v1/partner/vouchers/{code}/use", headers=h).status_code == 200
    again = client.post(f"/api/v1/partner/vouchers/{code}/use", headers=h)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "voucher_used"
    used = client.get("/api/v1/partner/vouchers", headers=h).get_json()
    assert [v["code"] for v in used] == [code]


def test_another_partners_voucher_is_404_like_an_unknown_code(client, bearer):
    code = _take(member_with_points(make_chapter()), make_perk(make_partner(), points_cost=0).id)
    h = bearer(make_partner_user(make_partner()))
    theirs = client.get(f"/api/v1/partner/vouchers/{code}", headers=h)
    unknown = client.get(f"/api/v1/partner/vouchers/{codes.new_code()}", headers=h)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.get_json() == unknown.get_json()
    assert client.post(f"/api/v1/partner/vouchers/{code}/use", headers=h).status_code == 404


def test_the_perk_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/portal/perks", "/api/v1/portal/perks/{perk_id}/take",
                 "/api/v1/portal/vouchers", "/api/v1/partner/vouchers/{code}",
                 "/api/v1/partner/vouchers/{code}/use", "/api/v1/hq/perks",
                 "/api/v1/hq/perks/partners"):
        assert path in paths
