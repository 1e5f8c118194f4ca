"""The chapter's points pages: a member's card and history, award, adjust, redeem, campaigns."""

from __future__ import annotations

import pytest

from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.points import ledger
from tests.chapter.points.factories import entries_of, make_campaign
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_member
from tests.hq.points.factories import award

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def member_a(two_chapters):
    return make_member(two_chapters["a"], by=two_chapters["manager_a"])


def _balance(chapter, member_id):
    with chapter_scope(chapter.id):
        return ledger.balance(member_id)


def test_the_members_page_shows_the_points_card(client, login_as, two_chapters, member_a):
    award(member_a.id, two_chapters["a"].id, 120, reason="join")
    login_as(two_chapters["staff_a"])
    html = client.get(f"/chapter/members/{member_a.id}", headers=ENGLISH).get_data(as_text=True)
    assert 'data-testid="points-card"' in html
    assert "data-points-balance>120<" in html
    assert "Join bonus" in html


def test_the_points_page_shows_each_entrys_reason_funder_and_venue(client, login_as,
                                                                   two_chapters, member_a):
    award(member_a.id, two_chapters["a"].id, 300, funder="chapter")
    login_as(two_chapters["staff_a"])
    client.post(f"/chapter/points/members/{member_a.id}/redeem",
                data={"points": "100", "reason": "dealer_parts", "token": "x1"})
    html = client.get(f"/chapter/points/members/{member_a.id}", headers=ENGLISH).get_data(
        as_text=True)
    assert 'data-funder="chapter"' in html
    assert 'data-venue="dealer"' in html
    assert "Parts at the dealer" in html


def test_the_history_is_paginated(client, login_as, two_chapters, member_a):
    for _ in range(30):
        award(member_a.id, two_chapters["a"].id, 1)
    login_as(two_chapters["staff_a"])
    html = client.get(f"/chapter/points/members/{member_a.id}?page=2").get_data(as_text=True)
    assert html.count("data-entry=") == 5


def test_a_double_submitted_award_writes_once(client, login_as, two_chapters, member_a):
    login_as(two_chapters["manager_a"])
    for _ in range(2):
        resp = client.post(f"/chapter/points/members/{member_a.id}/award",
                           data={"points": "50", "note": "活动志愿者", "token": "same-form"})
        assert resp.status_code == 302
    assert [e.points for e in entries_of(member_a.id)] == [50]


def test_an_award_without_a_reason_is_refused(client, login_as, two_chapters, member_a):
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/points/members/{member_a.id}/award",
                       data={"points": "50", "note": "", "token": "t"})
    assert resp.status_code == 422
    assert entries_of(member_a.id) == []


def test_staff_cannot_award_or_adjust(client, login_as, two_chapters, member_a):
    login_as(two_chapters["staff_a"])
    for action in ("award", "adjust"):
        resp = client.post(f"/chapter/points/members/{member_a.id}/{action}",
                           data={"points": "5", "note": "x", "token": "t"})
        assert resp.status_code == 403


def test_a_manager_adjusts_the_balance_down(client, login_as, two_chapters, member_a):
    award(member_a.id, two_chapters["a"].id, 100)
    login_as(two_chapters["manager_a"])
    resp = client.post(f"/chapter/points/members/{member_a.id}/adjust",
                       data={"points": "-40", "note": "重复发放", "token": "t"})
    assert resp.status_code == 302
    assert _balance(two_chapters["a"], member_a.id) == 60


def test_redeeming_more_than_the_balance_shows_an_error(client, login_as, two_chapters,
                                                         member_a):
    award(member_a.id, two_chapters["a"].id, 100)
    login_as(two_chapters["staff_a"])
    resp = client.post(f"/chapter/points/members/{member_a.id}/redeem",
                       data={"points": "101", "reason": "dealer_service", "token": "t"},
                       headers=ENGLISH)
    assert resp.status_code == 409
    assert "not enough points" in resp.get_data(as_text=True)
    assert _balance(two_chapters["a"], member_a.id) == 100


def test_another_chapters_member_is_not_found(client, login_as, two_chapters, member_a):
    login_as(two_chapters["manager_b"])
    assert client.get(f"/chapter/points/members/{member_a.id}").status_code == 404
    resp = client.post(f"/chapter/points/members/{member_a.id}/award",
                       data={"points": "5", "note": "x", "token": "t"})
    assert resp.status_code == 404
    assert entries_of(member_a.id) == []


def test_a_manager_starts_and_stops_a_campaign(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    resp = client.post("/chapter/points/campaigns", data={
        "name": "夏季空调保养", "points_per_yuan": "2", "visit_types": ["maintenance"],
        "starts_on": "2025-06-01", "ends_on": "2025-08-31"})
    assert resp.status_code == 302
    html = client.get("/chapter/points/campaigns").get_data(as_text=True)
    assert "夏季空调保养" in html
    import sqlalchemy as sa

    from hq.points.models import Campaign

    with chapter_scope(two_chapters["a"].id):
        campaign_id = db.session.execute(sa.select(Campaign.id)).scalar_one()
    resp = client.post(f"/chapter/points/campaigns/{campaign_id}/deactivate")
    assert resp.status_code == 302
    with chapter_scope(two_chapters["a"].id):
        db.session.expire_all()
        assert db.session.get(Campaign, campaign_id).active is False


def test_a_campaign_that_ends_before_it_starts_is_refused(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    resp = client.post("/chapter/points/campaigns", data={
        "name": "错", "points_per_yuan": "2", "starts_on": "2025-06-01", "ends_on": "2025-05-01"})
    assert resp.status_code == 422


def test_another_chapter_cannot_stop_a_campaign(client, login_as, two_chapters):
    campaign = make_campaign(two_chapters["a"])
    login_as(two_chapters["manager_b"])
    resp = client.post(f"/chapter/points/campaigns/{campaign.id}/deactivate")
    assert resp.status_code == 404


def test_the_portal_shows_the_members_points(client, login_as, two_chapters):
    pm = make_portal_member(two_chapters["a"])
    award(pm.member_id, pm.chapter_id, 250, reason="birthday")
    login_as(pm.user)
    html = client.get("/portal/points/", headers=ENGLISH).get_data(as_text=True)
    assert "data-points-balance>250<" in html
    assert "Birthday gift" in html
    assert "data-next-expiry" in html
