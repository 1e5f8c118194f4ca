"""API /api/v1/chapter/transfers: the same rules as the pages, as JSON."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.auth import service as auth
from clubplatform.extensions import db
from hq.members.models import Transfer
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_chapter, make_user

JOINED = date(2024, 1, 10)
API = "/api/v1/chapter/transfers"


def _bearer(user) -> dict:
    _, plain = auth.create_token(user, "test", days=1)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def test_the_sending_chapter_requests_and_the_receiving_manager_approves(client, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    resp = client.post(API, json={"member_id": member_id, "to_chapter_id": two_chapters["b"].id,
                                  "reason": "搬家"}, headers=_bearer(two_chapters["staff_a"]))
    assert resp.status_code == 201
    assert (resp.json["direction"], resp.json["status"]) == ("out", "requested")
    transfer_id = resp.json["id"]
    resp = client.post(f"{API}/{transfer_id}/approve", headers=_bearer(two_chapters["manager_b"]))
    assert resp.status_code == 200
    assert resp.json["status"] == "approved" and resp.json["effective_on"]
    assert load_member(member_id).chapter_id == two_chapters["b"].id


def test_the_receiving_chapter_sees_a_masked_request(client, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED, name="冯十二")
    transfer = make_transfer(member_id, two_chapters["b"])
    resp = client.get(f"{API}/{transfer.id}", headers=_bearer(two_chapters["staff_b"]))
    assert resp.status_code == 200
    body = resp.json
    assert (body["member_name"], body["member_id"], body["member_number"],
            body["from_chapter_id"], body["from_chapter_name"]) == ("冯**", None, None, None, None)


def test_asking_by_identity_answers_202_whether_or_not_the_member_exists(client, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    headers = _bearer(two_chapters["staff_b"])
    found = client.post(f"{API}/by-identity", json={"mobile": load_member(member_id).mobile},
                        headers=headers)
    nobody = client.post(f"{API}/by-identity", json={"mobile": "13900008888"}, headers=headers)
    assert (found.status_code, found.json) == (nobody.status_code, nobody.json)
    assert found.status_code == 202
    assert db.session.execute(sa.select(sa.func.count()).select_from(Transfer)).scalar_one() == 1


def test_a_rejection_without_a_note_names_the_field(client, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = client.post(f"{API}/{transfer.id}/reject", json={},
                       headers=_bearer(two_chapters["manager_b"]))
    assert resp.status_code == 422
    assert "note" in resp.json["error"]["fields"]


def test_staff_may_not_approve(client, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = client.post(f"{API}/{transfer.id}/approve", headers=_bearer(two_chapters["staff_b"]))
    assert resp.status_code == 403


def test_the_list_is_filtered_by_direction(client, two_chapters):
    out = make_transfer(make_member_since(two_chapters["a"], JOINED), make_chapter())
    into = make_transfer(make_member_since(make_chapter(), JOINED), two_chapters["a"])
    headers = _bearer(two_chapters["staff_a"])
    assert [t["id"] for t in client.get(API, query_string={"direction": "in"},
                                        headers=headers).json] == [into.id]
    assert [t["id"] for t in client.get(API, query_string={"direction": "out"},
                                        headers=headers).json] == [out.id]
    assert {t["id"] for t in client.get(API, headers=headers).json} == {out.id, into.id}


def test_destinations_exclude_the_own_chapter(client, two_chapters):
    ids = [c["id"] for c in client.get(f"{API}/destinations",
                                       headers=_bearer(two_chapters["staff_a"])).json]
    assert two_chapters["b"].id in ids and two_chapters["a"].id not in ids


def test_another_chapters_member_cannot_be_requested_away(client, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    resp = client.post(API, json={"member_id": member_id, "to_chapter_id": make_chapter().id},
                       headers=_bearer(two_chapters["staff_b"]))
    assert resp.status_code == 404


@pytest.mark.parametrize("role", ["hq_admin", "member"])
def test_other_roles_get_403(client, two_chapters, role):
    assert client.get(API, headers=_bearer(make_user(role))).status_code == 403
