"""The care API: the list, today, ad-hoc items, reschedule/reassign, outcomes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from clubplatform import dates
from clubplatform.auth import service as auth
from tests.chapter.care.factories import owner

URL = "/api/v1/chapter/care"
TODAY = dates.today()


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}", "Accept-Language": "en"}

    return _bearer


@pytest.fixture
def setup(two_chapters, bearer):
    a = two_chapters["a"].id
    staff = two_chapters["staff_a"].id
    return {"cid": a, "staff_id": staff, "manager_id": two_chapters["manager_a"].id,
            "owner": owner(a, advisor_id=staff), "staff": bearer(two_chapters["staff_a"]),
            "manager": bearer(two_chapters["manager_a"]),
            "other": bearer(two_chapters["staff_b"])}


def _add(client, s, key="complaint:1:callback", **kw):
    body = {"owner_id": s["owner"], "reason": "complaint_callback", "due_on": TODAY.isoformat(),
            "source_key": key, "label": "Promised call-back", **kw}
    return client.post(f"{URL}/tasks", json=body, headers=s["manager"])


def test_adding_an_item_twice_returns_the_same_one(client, setup):
    first = _add(client, setup)
    again = _add(client, setup)

    assert first.status_code == 201 and again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["assignee_id"] == setup["staff_id"]
    assert first.get_json()["reason_text"] == "Promised call-back"


def test_staff_see_their_list_for_today(client, setup):
    _add(client, setup, due_on=(TODAY - timedelta(days=2)).isoformat())

    resp = client.get(f"{URL}/today", headers=setup["staff"])

    [item] = resp.get_json()
    assert item["age_days"] == 2 and item["status"] == "open"


def test_the_task_list_is_paginated(client, setup):
    _add(client, setup)
    resp = client.get(f"{URL}/tasks", headers=setup["staff"])
    assert json.loads(resp.headers["X-Pagination"])["total"] == 1


def test_recording_an_outcome(client, setup):
    tid = _add(client, setup).get_json()["id"]

    resp = client.post(f"{URL}/tasks/{tid}/outcome", json={"outcome": "reached", "note": "ok"},
                       headers=setup["staff"])

    assert resp.status_code == 200
    assert (resp.get_json()["status"], resp.get_json()["outcome"]) == ("done", "reached")


def test_an_invalid_outcome_names_the_field(client, setup):
    tid = _add(client, setup).get_json()["id"]
    resp = client.post(f"{URL}/tasks/{tid}/outcome", json={"outcome": "maybe"},
                       headers=setup["staff"])
    assert resp.status_code == 422
    assert "outcome" in resp.get_json()["error"]["fields"]


def test_rescheduling_and_reassigning(client, setup):
    tid = _add(client, setup).get_json()["id"]
    later = (TODAY + timedelta(days=5)).isoformat()

    resp = client.patch(f"{URL}/tasks/{tid}",
                        json={"scheduled_on": later, "assignee_id": setup["manager_id"]},
                        headers=setup["staff"])

    assert resp.status_code == 200
    assert (resp.get_json()["scheduled_on"], resp.get_json()["assignee_id"]) == (
        later, setup["manager_id"])


def test_another_chapters_task_is_not_found(client, setup):
    tid = _add(client, setup).get_json()["id"]
    assert client.get(f"{URL}/tasks/{tid}", headers=setup["other"]).status_code == 404
    assert client.post(f"{URL}/tasks/{tid}/outcome", json={"outcome": "reached"},
                       headers=setup["other"]).status_code == 404
