"""The chapter's reports page: daily work, member status, points and churn under one filter."""

from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import load_workbook

from clubplatform import dates
from clubplatform.audit.models import AuditLog
from tests.chapter.churn.factories import owner_with_visits
from tests.chapter.recruitment.factories import make_member_of


def _figure(html: str, attr: str, key: str) -> int:
    m = re.search(rf'{attr}="{key}">.*?<span>(-?\d+)</span>', html, re.S)
    assert m, key
    return int(m.group(1))


def test_the_reports_page_leads_to_every_report(client, login_as, two_chapters):
    html = login_as(two_chapters["staff_a"]).get("/chapter/reports/").get_data(as_text=True)
    for anchor in ('id="daily-work"', 'id="member-status"', 'id="points"', 'id="churn"'):
        assert anchor in html
    assert "/chapter/churn/" in html and "/chapter/settlement/report" in html


def test_daily_work_counts_the_applications_approved_in_the_range(client, login_as,
                                                                  two_chapters):
    make_member_of(two_chapters["a"])
    make_member_of(two_chapters["b"])
    today = dates.today().isoformat()
    html = login_as(two_chapters["staff_a"]).get(
        "/chapter/reports/", query_string={"from": today, "to": today}).get_data(as_text=True)
    assert _figure(html, "data-work", "applications_approved") == 1
    assert _figure(html, "data-work", "applications_received") == 1


def test_a_range_ending_before_it_starts_falls_back_with_a_message(client, login_as,
                                                                   two_chapters):
    resp = login_as(two_chapters["staff_a"]).get(
        "/chapter/reports/", query_string={"from": "2026-03-10", "to": "2026-03-01"})
    assert resp.status_code == 200 and "flash-error" in resp.get_data(as_text=True)


def test_the_churn_section_counts_lost_owners(client, login_as, two_chapters):
    owner_with_visits(two_chapters["a"], [(date(2020, 1, 1), 100)])
    html = login_as(two_chapters["staff_a"]).get("/chapter/reports/").get_data(as_text=True)
    assert _figure(html, "data-churn", "C") == 1 and _figure(html, "data-churn", "A") == 0


def test_the_daily_work_export_is_a_sheet_of_figures_and_audited(client, login_as,
                                                                 two_chapters, db):
    resp = login_as(two_chapters["staff_a"]).get(
        "/chapter/reports/daily-work/export",
        query_string={"from": "2026-03-01", "to": "2026-03-31", "format": "xlsx"})
    assert resp.status_code == 200
    assert (f"daily-work-c{two_chapters['a'].id}-2026-03-01-2026-03-31.xlsx"
            in resp.headers["Content-Disposition"])
    rows = list(load_workbook(io.BytesIO(resp.data)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) > 5
    assert db.session.query(AuditLog).filter_by(target_type="daily_work").count() == 1


def test_the_points_export_has_the_chapters_line(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_a"]).get("/chapter/reports/points/export",
                                                 query_string={"month": "2026-03"})
    assert resp.status_code == 200
    assert f"points-c{two_chapters['a'].id}-2026-03.csv" in resp.headers["Content-Disposition"]
    lines = resp.data.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2


def test_a_bad_date_in_an_export_names_the_field(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_a"]).get(
        "/chapter/reports/daily-work/export", query_string={"from": "x", "to": "2026-03-01"})
    assert resp.status_code == 422
