"""The complaints API: staff record and work complaints, members follow theirs, HQ's side."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from clubplatform.auth import service as auth
from clubplatform.db import utcnow
from tests.chapter.complaints.factories import later, load, make_complaint
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_member, make_owner, make_user

URL = "/api/v1/chapter/complaints"


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


@pytest.fixture
def staff_a(bearer, two_chapters):
    return bearer(two_chapters["staff_a"])


def _body(owner_id, **fields):
    data = {"owner_id": owner_id, "channel": "phone", "cause": "repair_quality",
            "description": "保养后异响", "callback_due_at": later().isoformat()}
    data.update(fields)
    return data


def test_staff_record_a_complaint_through_the_api(client, staff_a, two_chapters):
    owner = make_owner(two_chapters["a"])
    resp = client.post(URL, headers=staff_a, json=_body(owner.id, severity="high"))
    body = resp.get_json()
    assert resp.status_code == 201
    assert (body["owner_id"], body["severity"], body["assignee_id"]) == \
        (owner.id, "high", two_chapters["staff_a"].id)
    assert body["acknowledged_at"] is not None


def test_a_naive_call_back_time_is_shanghai_time(client, staff_a, two_chapters):
    owner = make_owner(two_chapters["a"])
    when = (utcnow() + timedelta(days=1)).astimezone(__import__("clubplatform.dates", fromlist=["x"]).SHANGHAI)
    resp = client.post(URL, headers=staff_a, json=_body(
        owner.id, callback_due_at=when.strftime("%Y-%m-%dT%H:%M")))
    assert resp.status_code == 201
    due = load(two_chapters["a"], resp.get_json()["id"]).callback_due_at
    assert abs((due - when.replace(second=0, microsecond=0)).total_seconds()) < 1


def test_a_call_back_in_the_past_answers_422_naming_the_field(client, staff_a, two_chapters):
    owner = make_owner(two_chapters["a"])
    resp = client.post(URL, headers=staff_a, json=_body(
        owner.id, callback_due_at=(utcnow() - timedelta(hours=2)).isoformat()))
    error = resp.get_json()["error"]
    assert (resp.status_code, error["fields"]) == (
        422, {"callback_due_at": ["The call-back time is in the past."]})
    assert client.get(URL, headers=staff_a).get_json() == []


def test_another_chapters_visit_answers_422_and_nothing_is_written(client, staff_a, two_chapters):
    b = two_chapters["b"]
    visit_b = make_visit(b, make_vehicle(b))
    owner = make_owner(two_chapters["a"])
    resp = client.post(URL, headers=staff_a, json=_body(owner.id, visit_id=visit_b.id))
    assert (resp.status_code, list(resp.get_json()["error"]["fields"])) == (422, ["visit_id"])
    assert client.get(URL, headers=staff_a).get_json() == []


def test_another_chapters_owner_is_not_found(client, staff_a, two_chapters):
    owner_b = make_owner(two_chapters["b"])
    assert client.post(URL, headers=staff_a, json=_body(owner_b.id)).status_code == 404


def test_another_chapters_complaint_is_not_found(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["b"])
    assert client.get(f"{URL}/{complaint.id}", headers=staff_a).status_code == 404
    assert client.post(f"{URL}/{complaint.id}/close", headers=staff_a,
                       json={"resolution": "x"}).status_code == 404


def test_staff_list_their_chapters_complaints(client, staff_a, two_chapters):
    make_complaint(two_chapters["a"])
    make_complaint(two_chapters["b"])
    resp = client.get(URL, headers=staff_a)
    assert (len(resp.get_json()), json.loads(resp.headers["X-Pagination"])["total"]) == (1, 1)


def test_contacts_and_the_timeline(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["a"])
    resp = client.post(f"{URL}/{complaint.id}/contacts", headers=staff_a,
                       json={"note": "已回电", "callback_due_at": later(24).isoformat()})
    assert resp.status_code == 201
    kinds = [e["kind"] for e in client.get(f"{URL}/{complaint.id}/contacts",
                                           headers=staff_a).get_json()]
    assert {"received", "acknowledged", "contact", "promise"} <= set(kinds)


def test_closing_without_a_resolution_answers_422(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["a"])
    resp = client.post(f"{URL}/{complaint.id}/close", headers=staff_a, json={"satisfaction": 4})
    assert (resp.status_code, list(resp.get_json()["error"]["fields"])) == (422, ["resolution"])
    assert load(two_chapters["a"], complaint.id).status == "open"


def test_goodwill_beyond_the_limit_answers_422(client, bearer, staff_a, two_chapters):
    a = two_chapters["a"]
    manager = bearer(two_chapters["manager_a"])
    assert client.put(f"{URL}/limits", headers=manager,
                      json={"goodwill_limit_points": 100}).get_json()["goodwill_limit_points"] == 100
    member = make_member(a, by=two_chapters["manager_a"])
    from tests.chapter.complaints.test_service import owners_owner

    complaint = make_complaint(a, owner=owners_owner(a, member.owner_id))
    resp = client.post(f"{URL}/{complaint.id}/close", headers=staff_a, json={
        "resolution": "返修", "goodwill_kind": "points", "goodwill_points": 150,
        "goodwill_reason": "延误"})
    assert (resp.status_code, list(resp.get_json()["error"]["fields"])) == (422, ["goodwill_points"])


def test_staff_may_not_change_the_limits(client, staff_a):
    assert client.put(f"{URL}/limits", headers=staff_a,
                      json={"open_limit_days": 3}).status_code == 403


def test_close_and_reopen(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["a"])
    closed = client.post(f"{URL}/{complaint.id}/close", headers=staff_a,
                         json={"resolution": "免费返修", "satisfaction": 5}).get_json()
    assert (closed["status"], closed["satisfaction"]) == ("closed", 5)
    reopened = client.post(f"{URL}/{complaint.id}/reopen", headers=staff_a,
                           json={"reason": "问题复现"}).get_json()
    assert (reopened["status"], reopened["reopen_count"]) == ("open", 1)


def test_acknowledge_a_portal_complaint(client, staff_a, two_chapters):
    complaint = make_complaint(two_chapters["a"], raised_by="member", callback_due_at=None)
    resp = client.post(f"{URL}/{complaint.id}/acknowledge", headers=staff_a,
                       json={"callback_due_at": later(3).isoformat()})
    assert resp.status_code == 200 and resp.get_json()["acknowledged_at"]


def test_the_escalated_list(client, staff_a, two_chapters):
    from chapter.complaints import service
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope

    a = two_chapters["a"]
    received = utcnow() - timedelta(hours=6)
    complaint = make_complaint(a, now=received, callback_due_at=received + timedelta(hours=1))
    with chapter_scope(a.id):
        service.escalate_due(a.id)
        db.session.commit()
    body = client.get(f"{URL}/escalated", headers=staff_a).get_json()
    assert [(c["id"], c["escalation_reason"]) for c in body] == [(complaint.id, "promise_missed")]


# --- the member --------------------------------------------------------------------------

def test_a_member_raises_and_follows_a_complaint(client, bearer, two_chapters):
    pm = make_portal_member(two_chapters["a"])
    headers = bearer(pm.user)
    resp = client.post("/api/v1/portal/complaints", headers=headers,
                       json={"cause": "service_attitude", "description": "等候太久"})
    assert resp.status_code == 201
    complaint_id = resp.get_json()["id"]
    assert [c["id"] for c in client.get("/api/v1/portal/complaints", headers=headers).get_json()] \
        == [complaint_id]
    assert client.get(f"/api/v1/portal/complaints/{complaint_id}",
                      headers=headers).get_json()["status"] == "open"
    stored = load(two_chapters["a"], complaint_id)
    assert (stored.raised_by, stored.owner_id) == ("member", pm.owner_id)


def test_a_member_does_not_see_another_owners_complaint(client, bearer, two_chapters):
    pm = make_portal_member(two_chapters["a"])
    other = make_complaint(two_chapters["a"])
    assert client.get(f"/api/v1/portal/complaints/{other.id}",
                      headers=bearer(pm.user)).status_code == 404


# --- HQ ------------------------------------------------------------------------------------

def test_hq_records_a_hotline_complaint_routed_to_the_chapter(client, bearer, two_chapters):
    member = make_member(two_chapters["b"])
    resp = client.post("/api/v1/hq/complaints", headers=bearer(make_user("hq_admin")), json={
        "member_number": member.member_number, "cause": "product_quality",
        "description": "车机死机"})
    body = resp.get_json()
    assert resp.status_code == 201
    assert load(two_chapters["b"], body["id"]).raised_by == "hq"


def test_hq_figures_per_chapter(client, bearer, two_chapters):
    make_complaint(two_chapters["a"])
    make_complaint(two_chapters["a"], cause="staff_mistake")
    make_complaint(two_chapters["b"])
    body = client.get("/api/v1/hq/complaints/figures?group=chapter",
                      headers=bearer(make_user("hq_analyst"))).get_json()
    rows = {r["key"]: r for r in body["rows"]}
    assert rows[str(two_chapters["a"].id)]["total"] == 2
    assert rows[str(two_chapters["a"].id)]["causes"]["staff_mistake"] == 1
    assert body["totals"]["total"] == 3


def test_chapter_staff_may_not_use_hqs_side(client, staff_a):
    assert client.get("/api/v1/hq/complaints/figures", headers=staff_a).status_code == 403


def test_an_analyst_may_not_record_a_hotline_complaint(client, bearer, two_chapters):
    member = make_member(two_chapters["b"])
    resp = client.post("/api/v1/hq/complaints", headers=bearer(make_user("hq_analyst")), json={
        "member_number": member.member_number, "cause": "product_quality", "description": "x"})
    assert resp.status_code == 403
