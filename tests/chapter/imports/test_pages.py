"""The import pages: upload, check the columns, start; the job, its progress and report."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from chapter.owners.models import Owner
from clubplatform.extensions import db
from clubplatform.jobs.models import JobFile, JobRun
from clubplatform.tenancy import chapter_scope
from tests.chapter.imports.conftest import last_run, upload, work_queue
from tests.chapter.imports.factories import (
    OWNER_HEADERS_ZH,
    make_staged_upload,
    owner_row,
    owners_csv,
    table_bytes,
)
from tests.factories import make_user


def _staged() -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.execute(
        sa.select(JobRun).where(JobRun.name == "chapter.import_upload")).scalars())


def _mobiles(chapter) -> set[str]:
    with chapter_scope(chapter.id):
        return set(db.session.execute(sa.select(Owner.mobile)).scalars())


def _selected(page: str, field: str) -> str:
    select = re.search(rf'<select[^>]*name="map_{field}".*?</select>', page, re.S).group(0)
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                       select)
    return next(g for g in chosen.groups() if g is not None) if chosen else ""


def test_the_import_page_offers_an_upload_form(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    page = client.get("/chapter/imports/")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.get_data(as_text=True)


def test_an_upload_shows_the_detected_columns_and_the_first_rows(client, login_as,
                                                                 two_chapters):
    login_as(two_chapters["staff_a"])
    rows = [owner_row(name="王小明"), owner_row()]
    r = upload(client, owners_csv(rows, encoding="gbk"))
    assert r.status_code == 302 and r.headers["Location"].endswith("/mapping")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "王小明" in page and rows[0]["mobile"] in page
    fields = list(OWNER_HEADERS_ZH)
    assert _selected(page, "mobile") == str(fields.index("mobile"))
    assert _selected(page, "vin") == str(fields.index("vin"))


def test_the_started_import_runs_as_a_job_and_keeps_the_file_with_it(app, client, login_as,
                                                                     two_chapters):
    a = two_chapters["a"]
    login_as(two_chapters["staff_a"])
    rows = [owner_row() for _ in range(3)]
    content = owners_csv(rows)
    mapping_url = upload(client, content).headers["Location"]
    r = client.post(mapping_url, data={f"map_{f}": str(i) for i, f in
                                       enumerate(OWNER_HEADERS_ZH)})
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    work_queue(app)
    run = last_run()
    assert run.status == "finished" and run.chapter_id == a.id
    assert run.result["created"] == 3
    assert _mobiles(a) == {r["mobile"] for r in rows}
    kept = db.session.execute(sa.select(JobFile).where(JobFile.job_id == run.id,
                                                       JobFile.kind == "input")).scalar_one()
    assert kept.content == content
    assert _staged() == []
    detail = client.get(f"/jobs/{run.id}").get_data(as_text=True)
    assert run.message in detail


def test_a_corrected_mapping_is_used(app, client, login_as, two_chapters):
    a = two_chapters["a"]
    login_as(two_chapters["staff_a"])
    # "联系方式" is not a known header: the detection leaves the mobile to the person
    content = table_bytes([owner_row()], {"name": "客户", "mobile": "联系方式", "email": "邮箱",
                                          "vin": "车架号"})
    mapping_url = upload(client, content).headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert _selected(page, "mobile") == "" and _selected(page, "email") == "2"
    refused = client.post(mapping_url, data={"map_name": "0", "map_vin": "3"})
    assert refused.status_code == 422
    assert 'data-field-error="mobile"' in refused.get_data(as_text=True)
    r = client.post(mapping_url, data={"map_name": "0", "map_mobile": "1", "map_email": "",
                                       "map_vin": "3"})
    assert r.status_code == 302
    work_queue(app)
    assert last_run().result["created"] == 1
    with chapter_scope(a.id):
        owner = db.session.execute(sa.select(Owner)).scalar_one()
    assert owner.mobile and owner.email is None


def test_the_error_report_lists_row_field_and_reason_in_the_users_language(
        app, client, login_as, two_chapters):
    english = make_user("chapter_staff", chapter=two_chapters["a"], locale="en")
    login_as(english)
    rows = [owner_row(), owner_row(mobile="12345"), owner_row()]
    mapping_url = upload(client, owners_csv(rows)).headers["Location"]
    client.post(mapping_url, data={f"map_{f}": str(i) for i, f in enumerate(OWNER_HEADERS_ZH)})
    work_queue(app)
    run = last_run()
    assert (run.result["created"], run.result["failed"]) == (2, 1)
    report = client.get(f"/jobs/{run.id}/errors")
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert lines == [["Row", "Field", "Reason"],
                     ["3", "手机", "Enter an 11-digit mainland mobile number."]]


def test_a_file_with_a_bad_row_in_each_batch_keeps_all_good_rows(app, client, login_as,
                                                                 two_chapters):
    login_as(two_chapters["manager_a"])
    rows = [owner_row() for _ in range(6)] + [owner_row(vin="LVS123")]
    mapping_url = upload(client, owners_csv(rows)).headers["Location"]
    client.post(mapping_url, data={f"map_{f}": str(i) for i, f in enumerate(OWNER_HEADERS_ZH)})
    work_queue(app)
    assert last_run().result == {"total": 7, "created": 6, "updated": 0, "unchanged": 0,
                                 "failed": 1, "kind": "owners",
                                 "message": last_run().message}


def test_an_empty_file_gets_a_clear_message(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    r = upload(client, b"")
    assert r.status_code == 422
    assert 'data-field-error="file"' in r.get_data(as_text=True)
    assert _staged() == []


def test_a_file_without_a_header_row_gets_a_clear_message(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    r = upload(client, b",,,\n1,2,3\n")
    assert r.status_code == 422 and 'data-field-error="file"' in r.get_data(as_text=True)
    assert _staged() == []


def test_binary_garbage_gets_a_clear_message_not_a_500(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    for name in ("owners.csv", "owners.xlsx"):
        r = upload(client, b"PK\x03\x04" + bytes(range(256)) * 40, name)
        assert r.status_code == 422 and 'data-field-error="file"' in r.get_data(as_text=True)
    r = upload(client, bytes(range(256)) * 40, "owners.csv")
    assert r.status_code == 422 and 'data-field-error="file"' in r.get_data(as_text=True)


def test_a_file_in_another_encoding_gets_a_clear_message(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    r = upload(client, "姓名,手机\n张三,13800138000\n".encode("utf-16"), "owners.csv")
    assert r.status_code == 422 and 'data-field-error="file"' in r.get_data(as_text=True)


def test_an_oversized_file_gets_a_clear_message(app, client, login_as, two_chapters,
                                                monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 2048)
    login_as(two_chapters["staff_a"])
    r = upload(client, owners_csv([owner_row() for _ in range(20)]), "owners.csv")
    assert r.status_code == 422 and "2048" not in r.get_data(as_text=True)
    assert 'data-field-error="file"' in r.get_data(as_text=True)


def test_an_upload_over_the_request_limit_is_a_413_page_not_a_500(app, client, login_as,
                                                                  two_chapters, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    login_as(two_chapters["staff_a"])
    r = upload(client, b"x" * 8192, "owners.csv")
    assert r.status_code == 413


def test_a_staged_upload_can_be_discarded(client, login_as, two_chapters):
    login_as(two_chapters["staff_a"])
    upload_id = make_staged_upload(two_chapters["a"], two_chapters["staff_a"])
    assert upload_id in client.get("/chapter/imports/").get_data(as_text=True)
    r = client.post(f"/chapter/imports/{upload_id}/discard")
    assert r.status_code == 302 and _staged() == []
    assert db.session.execute(sa.select(sa.func.count()).select_from(JobFile)).scalar_one() == 0


def test_another_chapters_upload_is_not_found(client, login_as, two_chapters):
    upload_id = make_staged_upload(two_chapters["a"], two_chapters["staff_a"])
    login_as(two_chapters["manager_b"])
    assert client.get(f"/chapter/imports/{upload_id}/mapping").status_code == 404
    assert client.post(f"/chapter/imports/{upload_id}/mapping", data={}).status_code == 404
    assert len(_staged()) == 1


def test_visits_are_imported_from_the_pages(app, client, login_as, two_chapters):
    from tests.chapter.imports.factories import VISIT_HEADERS_ZH, visit_row, visits_csv

    login_as(two_chapters["staff_a"])
    row = owner_row()
    url = upload(client, owners_csv([row])).headers["Location"]
    client.post(url, data={f"map_{f}": str(i) for i, f in enumerate(OWNER_HEADERS_ZH)})
    work_queue(app)
    url = upload(client, visits_csv([visit_row(row["vin"])]), "visits.csv",
                 kind="visits").headers["Location"]
    r = client.post(url, data={f"map_{f}": str(i) for i, f in enumerate(VISIT_HEADERS_ZH)})
    assert r.status_code == 302
    work_queue(app)
    run = last_run("chapter.import_visits")
    assert run.result["created"] == 1 and run.result["kind"] == "visits"
