"""The import API: upload a file (with an optional mapping), start the job, get its id."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from chapter.owners.models import Owner
from clubplatform.auth import service as auth
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from tests.chapter.imports.conftest import work_queue
from tests.chapter.imports.factories import owner_row, owners_csv, table_bytes
from tests.factories import make_user


def _bearer(user) -> dict:
    _, plain = auth.create_token(user, "import", days=1)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _post(client, user, content: bytes, kind="owners", mapping=None, filename="owners.csv"):
    data = {"kind": kind, "file": (io.BytesIO(content), filename)}
    if mapping is not None:
        data["mapping"] = json.dumps(mapping, ensure_ascii=False)
    return client.post("/api/v1/chapter/imports", data=data, headers=_bearer(user),
                       content_type="multipart/form-data")


def test_an_upload_starts_the_import_and_returns_the_job_id(app, client, two_chapters):
    rows = [owner_row(), owner_row()]
    r = _post(client, two_chapters["staff_a"], owners_csv(rows, encoding="gbk"))
    assert r.status_code == 202
    body = r.get_json()
    assert body["job_id"].startswith("chapter_import_owners-c") and body["mapping"]["mobile"] == "手机"
    work_queue(app)
    status = client.get(body["status_url"], headers=_bearer(two_chapters["staff_a"])).get_json()
    assert status["status"] == "finished" and status["result"]["created"] == 2


def test_the_given_mapping_is_used(app, client, two_chapters):
    a = two_chapters["a"]
    content = table_bytes([owner_row(email="x@example.cn")],
                          {"name": "客户", "mobile": "联系方式", "email": "邮箱"})
    r = _post(client, two_chapters["staff_a"], content,
              mapping={"mobile": "联系方式", "email": None})
    assert r.status_code == 202
    work_queue(app)
    with chapter_scope(a.id):
        owner = db.session.execute(sa.select(Owner)).scalar_one()
    assert owner.mobile and owner.email is None


def test_a_mapping_naming_a_missing_column_is_refused(client, two_chapters):
    r = _post(client, two_chapters["staff_a"], owners_csv([owner_row()]),
              mapping={"mobile": "电话号码"})
    assert r.status_code == 422
    assert "mobile" in r.get_json()["error"]["fields"]


def test_a_file_without_the_needed_columns_is_refused(client, two_chapters):
    r = _post(client, two_chapters["staff_a"], b"foo,bar\n1,2\n")
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"name", "mobile"}


def test_a_malformed_file_is_refused_with_a_clear_message(client, two_chapters):
    r = _post(client, two_chapters["staff_a"], bytes(range(256)) * 8)
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"]["file"]


def test_hq_users_cannot_import_into_a_chapter(client, two_chapters):
    r = _post(client, make_user("hq_admin"), owners_csv([owner_row()]))
    assert r.status_code == 403


def test_the_endpoint_is_in_the_openapi_document(client, two_chapters):
    spec = client.get("/api/v1/openapi.json", headers=_bearer(two_chapters["staff_a"]))
    assert "/api/v1/chapter/imports" in spec.get_json()["paths"]
