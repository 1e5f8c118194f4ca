"""The JSON API: OpenAPI document, error shape, pagination, org endpoints for HQ."""

from __future__ import annotations

import json

import pytest

from clubplatform.auth import service as auth
from tests.factories import make_chapter, make_dealer, make_region, make_user


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return _bearer


def test_openapi_document_lists_the_org_endpoints(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["info"]["title"] == "Car Club Platform API"
    assert "/api/v1/org/dealers" in doc["paths"]
    assert "bearerAuth" in doc["components"]["securitySchemes"]


def test_api_docs_page_uses_local_assets_only(client, db, login_as):
    login_as(make_user("hq_analyst"))
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    asset.close()
    assert asset.status_code == 200


def test_api_without_credentials_answers_401_in_the_error_shape(client):
    r = client.get("/api/v1/org/dealers")
    assert r.status_code == 401
    assert set(r.get_json()["error"]) == {"code", "message", "fields"}


def test_creating_a_dealer_with_missing_fields_names_each_field(client, db, bearer):
    r = client.post("/api/v1/org/dealers", json={"code": "X"},
                    headers=bearer(make_user("hq_admin")))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "validation_failed"
    assert {"name", "region_id", "code"} <= set(err["fields"])


def test_duplicate_dealer_code_answers_409_naming_the_code(client, db, bearer):
    region = make_region("BJ")
    make_dealer(region, code="BJ-009")
    r = client.post("/api/v1/org/dealers", headers=bearer(make_user("hq_admin")),
                    json={"code": "BJ-009", "name": "重复", "region_id": region.id})
    assert r.status_code == 409
    assert "code" in r.get_json()["error"]["fields"]


def test_error_messages_follow_the_callers_language(client, db, bearer):
    region = make_region("BJ")
    make_dealer(region, code="BJ-009")
    headers = bearer(make_user("hq_admin", locale="en"))
    r = client.post("/api/v1/org/dealers", headers=headers,
                    json={"code": "BJ-009", "name": "重复", "region_id": region.id})
    assert "already exists" in r.get_json()["error"]["message"]


def test_dealer_list_is_paginated_with_a_header(client, db, bearer):
    region = make_region("BJ")
    for i in range(5):
        make_dealer(region, code=f"BJ-{i:03d}")
    r = client.get("/api/v1/org/dealers?page=2&page_size=2", headers=bearer(make_user("hq_analyst")))
    assert r.status_code == 200
    assert [d["code"] for d in r.get_json()] == ["BJ-002", "BJ-003"]
    assert json.loads(r.headers["X-Pagination"])["total"] == 5


def test_hq_admin_founds_a_chapter_through_the_api(client, db, bearer):
    dealer = make_dealer()
    r = client.post("/api/v1/org/chapters", headers=bearer(make_user("hq_admin")),
                    json={"dealer_id": dealer.id, "name": "API 车友会", "founded_on": "2024-01-01"})
    assert r.status_code == 201
    assert r.get_json()["dealer_code"] == dealer.code


def test_chapter_at_dealer_without_full_after_sales_is_refused_by_the_api(client, db, bearer):
    dealer = make_dealer(full_after_sales_since=None)
    r = client.post("/api/v1/org/chapters", headers=bearer(make_user("hq_admin")),
                    json={"dealer_id": dealer.id, "name": "无售后", "founded_on": "2024-01-01"})
    assert r.status_code == 422
    assert "dealer_id" in r.get_json()["error"]["fields"]


def test_hq_analyst_reads_but_cannot_write(client, db, bearer):
    headers = bearer(make_user("hq_analyst"))
    assert client.get("/api/v1/org/chapters", headers=headers).status_code == 200
    r = client.post("/api/v1/org/regions", headers=headers,
                    json={"code": "XN", "name_zh": "西南"})
    assert r.status_code == 403


def test_closing_a_chapter_through_the_api(client, db, bearer):
    chapter = make_chapter()
    r = client.patch(f"/api/v1/org/chapters/{chapter.id}", headers=bearer(make_user("hq_admin")),
                     json={"closed_on": "2025-06-30"})
    assert r.status_code == 200 and r.get_json()["closed_on"] == "2025-06-30"


def test_failed_api_write_leaves_nothing_behind(client, db, bearer):
    from clubplatform.audit.models import AuditLog
    from clubplatform.org.models import Chapter

    dealer = make_dealer(full_after_sales_since=None)
    headers = bearer(make_user("hq_admin"))
    before = db.session.query(AuditLog).count()
    client.post("/api/v1/org/chapters", headers=headers,
                json={"dealer_id": dealer.id, "name": "x", "founded_on": "2024-01-01"})
    db.session.expire_all()
    assert db.session.query(Chapter).count() == 0
    assert db.session.query(AuditLog).count() == before


def test_an_id_beyond_any_key_answers_404_not_500(client, db, bearer):
    headers = bearer(make_user("hq_admin"))
    response = client.get("/api/v1/org/dealers/940014726678510", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_nul_character_in_a_query_answers_400_naming_the_field(client, db, bearer):
    headers = bearer(make_user("hq_admin"))
    response = client.get("/api/v1/org/dealers?q=ab%00c", headers=headers)
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == ["q"]


def test_a_nul_character_in_a_json_value_answers_400_naming_the_field(client, db, bearer):
    headers = bearer(make_user("hq_admin"))
    response = client.post("/api/v1/org/dealers", headers=headers,
                           json={"code": "D-1", "name": "a\x00b"})
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == ["name"]


def test_a_page_far_beyond_the_last_answers_an_empty_list(client, db, bearer):
    headers = bearer(make_user("hq_admin"))
    response = client.get("/api/v1/org/dealers?page=576460751632334666", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == []
