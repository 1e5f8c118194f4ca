"""Churn pages: the chapter's matrix and owner lists, HQ's matrices and settings."""

from __future__ import annotations

import io
from datetime import date

from flask_babel import force_locale
from openpyxl import load_workbook

from chapter.churn import service
from clubplatform import dates
from clubplatform.audit.models import AuditLog
from tests.chapter.churn.factories import owner_with_visits
from tests.factories import make_user

LAST_YEAR = dates.today().replace(day=1, month=1).year - 1


def _data(chapter):
    recent = owner_with_visits(chapter, [(dates.today().replace(day=1), 2000)])
    lost = owner_with_visits(chapter, [(date(LAST_YEAR - 2, 3, 1), 100)])
    return recent, lost


def test_the_matrix_page_shows_the_chapters_own_counts(client, login_as, two_chapters):
    _data(two_chapters["a"])
    owner_with_visits(two_chapters["b"], [(date(LAST_YEAR - 3, 1, 1), 100)])
    html = login_as(two_chapters["staff_a"]).get("/chapter/churn/").get_data(as_text=True)
    assert 'data-total>2<' in html
    assert 'data-testid="churn-trend"' in html and 'data-testid="rfm"' in html


def test_a_cell_lists_its_owners_with_links_to_their_page(client, login_as, two_chapters):
    recent, lost = _data(two_chapters["a"])
    html = login_as(two_chapters["staff_a"]).get(
        "/chapter/churn/owners", query_string={"loyalty": "C", "value": "S"}).get_data(as_text=True)
    assert f'data-owner="{lost.id}"' in html and f'data-owner="{recent.id}"' not in html
    assert f"/chapter/owners/{lost.id}" in html


def test_an_owner_with_an_open_complaint_is_flagged(client, login_as, two_chapters, monkeypatch):
    recent, lost = _data(two_chapters["a"])
    import sqlalchemy as sa

    monkeypatch.setattr(service, "_complaints_hook",
                        lambda: lambda chapter_id: sa.select(sa.literal(lost.id)))
    html = login_as(two_chapters["staff_a"]).get("/chapter/churn/owners").get_data(as_text=True)
    row = html.split(f'data-owner="{lost.id}"')[1].split("</tr>")[0]
    assert 'data-flag="complaint"' in row
    other = html.split(f'data-owner="{recent.id}"')[1].split("</tr>")[0]
    assert 'data-flag="complaint"' not in other


def test_an_unknown_cell_falls_back_to_all_owners_with_a_message(client, login_as, two_chapters):
    _data(two_chapters["a"])
    with force_locale("en"):
        html = login_as(two_chapters["staff_a"]).get(
            "/chapter/churn/owners", query_string={"loyalty": "X"},
            headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.count("data-owner=") == 2


def test_the_xlsx_export_has_the_cells_owners_and_is_audited(client, login_as, two_chapters, db):
    recent, lost = _data(two_chapters["a"])
    resp = login_as(two_chapters["staff_a"]).get(
        "/chapter/churn/owners/export", query_string={"loyalty": "C", "format": "xlsx"})
    assert resp.status_code == 200
    assert f"churn-owners-c{two_chapters['a'].id}-" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [lost.id]
    assert db.session.query(AuditLog).filter_by(target_type="churn_owners").count() == 1


def test_the_csv_export_lists_every_owner(client, login_as, two_chapters):
    _data(two_chapters["a"])
    resp = login_as(two_chapters["staff_a"]).get("/chapter/churn/owners/export")
    assert resp.mimetype == "text/csv"
    assert len(resp.data.decode("utf-8-sig").strip().splitlines()) == 3


def test_an_unknown_export_format_is_refused(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_a"]).get("/chapter/churn/owners/export",
                                                 query_string={"format": "pdf"})
    assert resp.status_code == 422


def test_hq_sees_a_regions_chapters_live_this_month(client, login_as, two_chapters):
    _data(two_chapters["a"])
    hq = login_as(make_user("hq_analyst"))
    this_month = service.as_of_for(None).strftime("%Y-%m")
    html = hq.get("/hq/churn/", query_string={"month": this_month}).get_data(as_text=True)
    assert 'data-source="live"' in html and 'data-testid="churn-matrix"' not in html
    region_id = two_chapters["a"].dealer.region_id
    html = hq.get("/hq/churn/", query_string={"month": this_month,
                                               "region_id": region_id}).get_data(as_text=True)
    assert f'data-key="{two_chapters["a"].id}"' in html and "data-total>2<" in html


def test_hq_sees_the_month_just_ended_from_snapshots_by_default(client, login_as, two_chapters):
    html = login_as(make_user("hq_analyst")).get("/hq/churn/").get_data(as_text=True)
    assert 'data-source="snapshot"' in html


def test_chapter_users_cannot_open_hq_churn_pages(client, login_as, two_chapters):
    staff = login_as(two_chapters["manager_a"])
    assert staff.get("/hq/churn/").status_code == 403
    assert staff.get("/hq/churn/settings").status_code == 403


def test_hq_admin_changes_a_setting_and_sees_it_in_effect(client, login_as, db):
    hq = login_as(make_user("hq_admin"))
    resp = hq.post("/hq/churn/settings", data={"d_share_pct": "10", "g_share_pct": "",
                                               "lost_months": "18",
                                               "service_interval_months": ""})
    assert resp.status_code == 302
    assert service.get_settings().lost_months == 18
    html = hq.get("/hq/churn/settings").get_data(as_text=True)
    assert 'data-setting="lost_months"' in html
    assert html.split('data-setting="lost_months"')[1].split("data-effective>")[1].startswith("18<")


def test_a_bad_setting_is_shown_on_its_field(client, login_as):
    hq = login_as(make_user("hq_admin"))
    with force_locale("en"):
        resp = hq.post("/hq/churn/settings", data={"d_share_pct": "0", "lost_months": "12",
                                                   "g_share_pct": "", "service_interval_months": ""})
    assert resp.status_code == 422
    assert 'data-field-error="d_share_pct"' in resp.get_data(as_text=True)
    assert service.get_settings().d_share_pct == 15


def test_an_hq_analyst_sees_the_settings_but_cannot_change_them(client, login_as):
    hq = login_as(make_user("hq_analyst"))
    assert "<form method=\"post\"" not in hq.get("/hq/churn/settings").get_data(as_text=True).split("churn-settings")[1]
    assert hq.post("/hq/churn/settings", data={"lost_months": "18"}).status_code == 403


def test_an_owner_with_an_open_care_task_links_to_it(client, login_as, two_chapters, db):
    from chapter.care.models import CareTask
    from clubplatform.tenancy import chapter_scope

    recent, lost = _data(two_chapters["a"])
    a = two_chapters["a"].id
    with chapter_scope(a):
        task = CareTask(chapter_id=a, owner_id=lost.id, reason="maintenance",
                        due_on=dates.today(), scheduled_on=dates.today(), channel="phone")
        db.session.add(task)
        db.session.commit()
        task_id = task.id
    html = login_as(two_chapters["staff_a"]).get("/chapter/churn/owners").get_data(as_text=True)
    row = html.split(f'data-owner="{lost.id}"')[1].split("</tr>")[0]
    assert f"/chapter/care/tasks/{task_id}" in row


def test_an_open_complaint_recorded_by_the_chapter_flags_the_owner(client, login_as,
                                                                   two_chapters):
    from tests.chapter.complaints.factories import make_complaint

    recent, lost = _data(two_chapters["a"])
    make_complaint(two_chapters["a"], owner=recent, staff=two_chapters["staff_a"])
    html = login_as(two_chapters["staff_a"]).get("/chapter/churn/owners").get_data(as_text=True)
    assert 'data-flag="complaint"' in html.split(f'data-owner="{recent.id}"')[1].split("</tr>")[0]
    assert 'data-flag="complaint"' not in html.split(f'data-owner="{lost.id}"')[1].split("</tr>")[0]
