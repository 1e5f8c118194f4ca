"""API /api/v1/hq/members: search, history, reveal, consent, anonymise, report."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.audit.models import AuditLog
from clubplatform.auth import service as auth
from clubplatform.extensions import db
from hq.members.models import MemberConsent
from tests.chapter.recruitment.factories import id_number
from tests.chapter.transfers.factories import load_member, make_member_since
from tests.factories import make_user

JOINED = date(2024, 1, 10)
API = "/api/v1/hq/members"


def _bearer(user) -> dict:
    _, plain = auth.create_token(user, "test", days=1)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def admin(db):
    return make_user("hq_admin")


@pytest.fixture
def member_id(two_chapters):
    return make_member_since(two_chapters["a"], JOINED, name="周九", mobile="13855556666",
                             id_number=id_number(date(1980, 1, 2)))


def test_search_finds_a_member_by_mobile_across_chapters(client, admin, member_id):
    resp = client.get(API, query_string={"q": "13855556666"}, headers=_bearer(admin))
    assert resp.status_code == 200
    assert [m["id"] for m in resp.json] == [member_id]
    assert json.loads(resp.headers["X-Pagination"])["total"] == 1


def test_search_never_returns_the_full_id_number(client, admin, member_id):
    body = client.get(API, headers=_bearer(admin)).get_data(as_text=True)
    assert "id_number_enc" not in body and "id_number_digest" not in body


def test_get_returns_the_member_with_history(client, admin, member_id, two_chapters):
    resp = client.get(f"{API}/{member_id}", headers=_bearer(admin))
    assert resp.status_code == 200
    assert resp.json["member"]["name"] == "周九"
    assert resp.json["periods"][0]["chapter_name"] == two_chapters["a"].name
    assert resp.json["periods"][0]["valid_from"] == "2024-01-10"


def test_reveal_is_for_admins_and_audited(client, admin, member_id):
    analyst = make_user("hq_analyst")
    assert client.post(f"{API}/{member_id}/reveal", headers=_bearer(analyst)).status_code == 403
    resp = client.post(f"{API}/{member_id}/reveal", headers=_bearer(admin))
    assert resp.status_code == 200 and len(resp.json["id_number"]) == 18
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditLog).where(
        AuditLog.action == "reveal")).scalar_one() == 1


def test_consent_is_recorded_per_channel_with_history(client, admin, member_id):
    resp = client.patch(f"{API}/{member_id}/consents", json={"sms": True, "phone": False},
                        headers=_bearer(admin))
    assert resp.status_code == 200
    assert resp.json["consent_sms"] is True
    rows = db.session.execute(sa.select(MemberConsent.channel, MemberConsent.granted,
                                        MemberConsent.source)).all()
    assert ("sms", True, "staff") in rows
    history = client.get(f"{API}/{member_id}/consents", headers=_bearer(admin)).json
    assert history[0]["channel"] in ("sms", "phone")


def test_an_unknown_consent_source_is_refused(client, admin, member_id):
    resp = client.patch(f"{API}/{member_id}/consents", json={"sms": True, "source": "cold-call"},
                        headers=_bearer(admin))
    assert resp.status_code == 422
    assert "source" in resp.json["error"]["fields"]


def test_anonymise_through_the_api(client, admin, member_id):
    resp = client.post(f"{API}/{member_id}/anonymise", headers=_bearer(admin))
    assert resp.status_code == 200
    assert resp.json["mobile"] is None and resp.json["anonymised_at"]
    assert load_member(member_id).name == "已注销会员"


def test_anonymising_twice_is_a_conflict(client, admin, member_id):
    client.post(f"{API}/{member_id}/anonymise", headers=_bearer(admin))
    resp = client.post(f"{API}/{member_id}/anonymise", headers=_bearer(admin))
    assert resp.status_code == 409


def test_the_report_is_returned_as_json(client, admin, member_id, two_chapters):
    resp = client.get(f"{API}/report", query_string={"month": "2024-02"},
                      headers=_bearer(admin))
    assert resp.status_code == 200
    rows = {r["key"]: r for r in resp.json["rows"]}
    assert rows[two_chapters["a"].id]["members"] == 1
    assert resp.json["total"]["by_status"]["active"] == 1


def test_the_report_exports_csv_through_the_api(client, admin, member_id):
    resp = client.get(f"{API}/report/export", query_string={"month": "2024-02"},
                      headers=_bearer(admin))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"


def test_a_bad_month_is_a_field_error(client, admin, db):
    resp = client.get(f"{API}/report", query_string={"month": "2024-13"}, headers=_bearer(admin))
    assert resp.status_code == 422
    assert "month" in resp.json["error"]["fields"]


def test_chapter_users_get_403(client, two_chapters, member_id):
    resp = client.get(API, headers=_bearer(two_chapters["manager_a"]))
    assert resp.status_code == 403


def test_the_endpoints_are_in_the_openapi_document(client, db):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/hq/members/{member_id}/anonymise" in paths
    assert "/api/v1/chapter/transfers/{transfer_id}/approve" in paths
