"""Observability: request ids, JSON log lines with who/where, Prometheus metrics, /readyz."""

from __future__ import annotations

import io
import json
import logging

import pytest

from clubplatform import jobs
from clubplatform.observability import ContextFilter, JsonFormatter
from tests.factories import make_user
from tests.platform import jobs_for_tests


@pytest.fixture
def json_lines():
    """Capture what the request logger writes, formatted as in production."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("clubplatform.request")
    old_level, old_disabled = logger.level, logger.disabled
    logger.disabled = False  # alembic's fileConfig (the schema build) disables loggers
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buf.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)
    logger.disabled = old_disabled


def test_every_answer_carries_a_request_id(client, db):
    resp = client.get("/healthz")

    assert len(resp.headers["X-Request-ID"]) == 32


def test_a_callers_request_id_is_kept(client, db):
    resp = client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"})

    assert resp.headers["X-Request-ID"] == "lb-1234.abc"


def test_a_malformed_request_id_is_replaced(client, db):
    resp = client.get("/healthz", headers={"X-Request-ID": "bad id {with} &braces"})

    assert resp.headers["X-Request-ID"] != "bad id {with} &braces"


def test_log_line_names_the_request_the_user_and_the_chapter(client, db, login_as,
                                                             two_chapters, json_lines):
    staff = two_chapters["staff_a"]
    login_as(staff)

    resp = client.get("/chapter/", headers={"X-Request-ID": "req-42"})

    line = [x for x in json_lines() if x.get("request_id") == "req-42"][-1]
    assert line["user_id"] == staff.id
    assert line["chapter_id"] == two_chapters["a"].id
    assert line["status"] == resp.status_code
    assert line["path"] == "/chapter/"
    assert line["level"] == "info" and "duration_ms" in line and "ts" in line


def test_anonymous_log_line_has_no_user(client, db, json_lines):
    client.get("/healthz", headers={"X-Request-ID": "anon-1"})

    line = [x for x in json_lines() if x.get("request_id") == "anon-1"][-1]
    assert "user_id" not in line and "chapter_id" not in line


def test_metrics_show_request_latency_by_route(client, db):
    client.get("/healthz")

    text = client.get("/metrics").get_data(as_text=True)

    assert 'clubplatform_http_request_duration_seconds_bucket{le="0.1",method="GET",' \
           'route="/healthz",status="200"}' in text


def _work(app):
    queue = jobs.get_queue(app)
    if queue.is_async:  # real Redis: run what is queued in this process
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_metrics_show_job_durations_and_failures(app, client, db):
    jobs.submit(jobs_for_tests.report_scope, name="t.ok", chapter_id=None)
    try:
        jobs.submit(jobs_for_tests.always_fails, name="t.fails", chapter_id=None)
    except RuntimeError:
        pass  # inline jobs raise to the caller; the failure is what is counted
    _work(app)

    text = client.get("/metrics").get_data(as_text=True)

    assert ('clubplatform_job_duration_seconds_count{job="tests.platform.jobs_for_tests.'
            'report_scope",outcome="ok"}') in text
    assert ('clubplatform_job_failures_total{job="tests.platform.jobs_for_tests.'
            'always_fails"}') in text


@pytest.mark.redis
def test_metrics_show_the_queue_depth(client, db):
    text = client.get("/metrics").get_data(as_text=True)

    assert 'clubplatform_queue_depth{queue="default",state="queued"}' in text
    assert "clubplatform_redis_up 1.0" in text


def test_metrics_are_not_shown_to_another_host(client, db):
    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})

    assert resp.status_code == 404


def test_metrics_open_to_another_host_with_the_metrics_token(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-secret")

    ok = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                    headers={"Authorization": "Bearer scrape-secret"})
    wrong = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"},
                       headers={"Authorization": "Bearer guess"})

    assert ok.status_code == 200 and wrong.status_code == 404


def test_ready_when_the_schema_is_at_its_head(client, db):
    resp = client.get("/readyz")

    assert resp.status_code == 200
    assert resp.get_json()["checks"]["schema"] == "ok"


def test_not_ready_when_the_schema_is_behind(client, db):
    import sqlalchemy as sa

    from clubplatform.extensions import db as _db
    current = _db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    _db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0001_old'"))
    _db.session.commit()
    try:
        resp = client.get("/readyz")
    finally:
        _db.session.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": current})
        _db.session.commit()

    assert resp.status_code == 503
    assert "head is" in resp.get_json()["checks"]["schema"]


def test_hq_user_log_line_has_no_chapter(client, db, login_as, json_lines):
    login_as(make_user("hq_admin"))

    client.get("/hq/", headers={"X-Request-ID": "hq-1"})

    line = [x for x in json_lines() if x.get("request_id") == "hq-1"][-1]
    assert "user_id" in line and "chapter_id" not in line


def _database_down(*args, **kwargs):
    import sqlalchemy as sa

    raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def test_a_page_answers_503_with_retry_after_while_the_database_is_down(client, db, login_as,
                                                                       monkeypatch):
    from clubplatform.auth import service as auth_service

    login_as(make_user("hq_admin"))
    monkeypatch.setattr(auth_service, "load_session_user", _database_down)

    resp = client.get("/hq/")

    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"


def test_the_api_answers_503_in_the_error_shape_while_the_database_is_down(client, db,
                                                                         login_as, monkeypatch):
    from clubplatform.auth import service as auth_service

    login_as(make_user("hq_admin"))
    monkeypatch.setattr(auth_service, "load_session_user", _database_down)

    resp = client.get("/api/v1/auth/me")

    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "unavailable"
