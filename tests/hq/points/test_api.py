"""API /api/v1/points/rules: the rule list and new values from a date."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from clubplatform import dates
from clubplatform.auth import service as auth
from clubplatform.extensions import db as _db
from hq.points.models import PointRule
from tests.factories import make_user
from tests.hq.points.factories import make_rule

API = "/api/v1/points/rules"


def _bearer(user) -> dict:
    _, plain = auth.create_token(user, "test", days=1)
    _db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _tomorrow() -> str:
    return (dates.today() + timedelta(days=1)).isoformat()


def test_hq_reads_the_rules_in_force_on_a_date(client, db):
    make_rule("join", 1000, effective_from=date(2020, 1, 1), effective_to=date(2025, 1, 1))
    make_rule("join", 1500, effective_from=date(2025, 1, 1))
    resp = client.get(API, query_string={"kind": "join", "on": "2024-06-01"},
                      headers=_bearer(make_user("hq_analyst")))
    assert resp.status_code == 200
    assert [r["value"] for r in resp.get_json()] == [1000]
    everything = client.get(API, headers=_bearer(make_user("hq_analyst"))).get_json()
    assert [r["value"] for r in everything] == [1000, 1500]


def test_an_admin_sets_a_new_value_from_tomorrow(client, db):
    make_rule("join", 1000, effective_from=date(2020, 1, 1))
    resp = client.post(API, json={"kind": "join", "value": 1200, "effective_from": _tomorrow()},
                       headers=_bearer(make_user("hq_admin")))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["value"] == 1200
    assert resp.get_json()["effective_to"] is None


def test_an_overlapping_rule_is_a_field_error_and_nothing_is_written(client, db):
    start = dates.today() + timedelta(days=30)
    make_rule("join", 2000, effective_from=start)
    resp = client.post(API, json={"kind": "join", "value": 1200, "effective_from": _tomorrow()},
                       headers=_bearer(make_user("hq_admin")))
    assert resp.status_code == 409
    body = resp.get_json()["error"]
    assert body["code"] == "conflict"
    assert "effective_from" in body["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointRule)) == 1


def test_a_start_date_in_the_past_is_a_field_error(client, db):
    resp = client.post(API, json={"kind": "join", "value": 1200, "effective_from": "2020-01-01"},
                       headers=_bearer(make_user("hq_admin")))
    assert resp.status_code == 422
    assert "effective_from" in resp.get_json()["error"]["fields"]


def test_an_unknown_kind_is_a_field_error(client, db):
    resp = client.post(API, json={"kind": "cashback", "value": 1, "effective_from": _tomorrow()},
                       headers=_bearer(make_user("hq_admin")))
    assert resp.status_code == 422
    assert "kind" in resp.get_json()["error"]["fields"]


def test_an_analyst_cannot_set_rules(client, db):
    resp = client.post(API, json={"kind": "join", "value": 1, "effective_from": _tomorrow()},
                       headers=_bearer(make_user("hq_analyst")))
    assert resp.status_code == 403


def test_chapter_users_get_403(client, two_chapters):
    assert client.get(API, headers=_bearer(two_chapters["manager_a"])).status_code == 403


def test_the_endpoints_are_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths[API]) >= {"get", "post"}
