"""The HQ dashboard page, its exports, the re-snapshot and backfill forms, and the API."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from flask_babel import force_locale

from clubplatform.analytics import service
from clubplatform.analytics.models import AnalyticsMonth
from clubplatform.audit.models import AuditLog
from clubplatform.extensions import db
from tests.factories import make_user
from tests.platform.analytics.conftest import FEB, MAR
from tests.platform.analytics.test_jobs_and_history import work


def test_hq_sees_the_dashboard_of_a_month_end_with_charts(scenario, client, login_as):
    login_as(make_user("hq_analyst"))
    resp = client.get("/hq/analytics/?month=2024-03&from=2024-01&to=2024-04&live=1")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<svg" in html and "<polyline" in html and "<rect" in html
    assert 'data-source="live"' in html
    assert scenario["c2"].name in html
    assert "<script>" not in html


def test_the_dashboard_reads_the_snapshot_when_there_is_one(scenario, client, login_as):
    service.snapshot_month(MAR)
    db.session.commit()
    login_as(make_user("hq_analyst"))
    html = client.get("/hq/analytics/?month=2024-03").get_data(as_text=True)
    assert 'data-source="snapshot"' in html


def test_chapter_users_cannot_open_the_dashboard(scenario, client, login_as):
    from tests.factories import make_user as mk

    login_as(mk("chapter_manager", chapter=scenario["c1"]))
    assert client.get("/hq/analytics/").status_code == 403
    assert client.get("/api/v1/analytics/figures").status_code == 403


def test_regions_export_as_csv_is_audited(scenario, client, login_as):
    login_as(make_user("hq_analyst"))
    resp = client.get("/hq/analytics/export?month=2024-02&level=region&format=csv")
    assert resp.status_code == 200
    assert "figures-2024-02-region.csv" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert len(rows) == 1 + 2
    assert rows[1][3] == "BJ" and rows[1][-3] == "500.00%"  # best region first
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditLog)
                              .where(AuditLog.action == "export")).scalar_one() == 1


def test_trend_exports_as_xlsx(scenario, client, login_as):
    from openpyxl import load_workbook

    login_as(make_user("hq_analyst"))
    resp = client.get("/hq/analytics/export?kind=trend&from=2024-02&to=2024-04&format=xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in sheet["A"]][1:] == ["2024-02-29", "2024-03-31", "2024-04-30"]


def test_hq_admin_resnapshots_a_month_through_the_page(scenario, client, login_as):
    service.snapshot_month(FEB)
    db.session.commit()
    login_as(make_user("hq_admin"))
    resp = client.post("/hq/analytics/resnapshot", data={"month": "2024-02", "reason": "更正"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(AnalyticsMonth, FEB).revision == 2


def test_an_analyst_cannot_resnapshot(scenario, client, login_as):
    login_as(make_user("hq_analyst"))
    resp = client.post("/hq/analytics/resnapshot", data={"month": "2024-02", "reason": "x"})
    assert resp.status_code == 403


def test_hq_admin_backfills_through_the_page_as_a_job(scenario, client, login_as):
    login_as(make_user("hq_admin"))
    resp = client.post("/hq/analytics/backfill", data={"first": "2024-02", "last": "2024-04"})
    assert resp.status_code == 302
    work(client.application)
    db.session.expire_all()
    months = set(db.session.execute(sa.select(AnalyticsMonth.month_end)).scalars())
    assert len(months) == 3


def test_api_gives_the_figures_of_a_month_end(scenario, client, login_as):
    login_as(make_user("hq_analyst"))
    body = client.get("/api/v1/analytics/figures?month=2024-04&level=region").get_json()
    assert body["source"] == "live"
    assert [(r["code"], r["recruitment_rate_bp"]) for r in body["rows"]] == [("BJ", 20000),
                                                                          ("SH", None)]


def test_api_gives_a_trend(scenario, client, login_as):
    login_as(make_user("hq_analyst"))
    rows = client.get("/api/v1/analytics/trend?from=2024-02&to=2024-04").get_json()
    assert [r["members"] for r in rows] == [5, 5, 6]


def test_api_exports_csv(scenario, client, login_as):
    login_as(make_user("hq_analyst"))
    resp = client.get("/api/v1/analytics/export?month=2024-03&format=csv")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"


def test_api_resnapshot_needs_hq_admin_and_a_reason(scenario, client, login_as):
    login_as(make_user("hq_admin"))
    with force_locale("en"):
        resp = client.post("/api/v1/analytics/resnapshot", json={"month": "2024-03"})
    assert resp.status_code == 422
    assert "reason" in resp.get_json()["error"]["fields"]
    resp = client.post("/api/v1/analytics/resnapshot", json={"month": "2024-03", "reason": "更正"})
    assert resp.status_code == 200
    assert resp.get_json()["revision"] == 1


def test_api_refuses_a_future_month(app, client, login_as):
    login_as(make_user("hq_analyst"))
    resp = client.get("/api/v1/analytics/figures?month=2999-01")
    assert resp.status_code == 422
    assert "month" in resp.get_json()["error"]["fields"]
