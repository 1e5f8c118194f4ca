"""HQ pages: the central member database, a member's history, reveal, anonymise, report."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.audit.models import AuditLog
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.members import service as members
from tests.chapter.recruitment.factories import id_number
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_user

JOINED = date(2024, 1, 10)


@pytest.fixture
def admin(db):
    return make_user("hq_admin")


@pytest.fixture
def analyst(db):
    return make_user("hq_analyst")


@pytest.fixture
def people(two_chapters):
    """One member in each chapter, with known name, mobile and ID number."""
    number = id_number(date(1992, 9, 9))
    a_id = make_member_since(two_chapters["a"], JOINED, name="钱七", mobile="13811112222",
                             id_number=number)
    b_id = make_member_since(two_chapters["b"], JOINED, name="孙八", mobile="13833334444")
    return {"a": a_id, "b": b_id, "id_number": number}


@pytest.mark.parametrize("query", ["钱", "13811112222", "id", "number"])
def test_hq_finds_a_member_of_any_chapter(client, login_as, analyst, people, query):
    q = {"id": people["id_number"], "number": load_member(people["a"]).member_number,
         }.get(query, query)
    resp = login_as(analyst).get("/hq/members/", query_string={"q": q})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "钱七" in html and "孙八" not in html


def test_hq_lists_members_of_all_chapters(client, login_as, analyst, people):
    html = login_as(analyst).get("/hq/members/").get_data(as_text=True)
    assert "钱七" in html and "孙八" in html


def test_the_search_can_be_narrowed_to_a_chapter(client, login_as, analyst, people,
                                                 two_chapters):
    html = login_as(analyst).get("/hq/members/", query_string={
        "chapter": two_chapters["b"].id}).get_data(as_text=True)
    assert "孙八" in html and "钱七" not in html


@pytest.mark.parametrize("role", ["chapter_manager", "chapter_staff", "member"])
def test_the_member_database_is_closed_to_other_roles(client, login_as, two_chapters, role):
    user = (two_chapters["manager_a"] if role == "chapter_manager" else
            two_chapters["staff_a"] if role == "chapter_staff" else make_user("member"))
    assert login_as(user).get("/hq/members/").status_code == 403


def test_the_detail_shows_the_history_in_both_chapters(client, login_as, analyst, people,
                                                       two_chapters):
    transfer = make_transfer(people["a"], two_chapters["b"])
    with chapter_scope(two_chapters["b"].id):
        members.approve_transfer(members.get_transfer(transfer.id), two_chapters["manager_b"])
        db.session.commit()
    html = login_as(analyst).get(f"/hq/members/{people['a']}").get_data(as_text=True)
    assert two_chapters["a"].name in html and two_chapters["b"].name in html
    assert 'data-reason="transfer_out"' in html and 'data-reason="transfer_in"' in html


def test_the_detail_masks_the_id_number(client, login_as, analyst, people):
    html = login_as(analyst).get(f"/hq/members/{people['a']}").get_data(as_text=True)
    assert people["id_number"] not in html
    assert load_member(people["a"]).id_number_masked in html


def test_an_admin_reveals_the_id_number_and_it_is_audited(client, login_as, admin, people):
    resp = login_as(admin).post(f"/hq/members/{people['a']}/reveal")
    assert resp.status_code == 200
    assert people["id_number"] in resp.get_data(as_text=True)
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).scalar_one()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (
        admin.id, "member", str(people["a"]))


def test_an_analyst_may_not_reveal(client, login_as, analyst, people):
    assert login_as(analyst).post(f"/hq/members/{people['a']}/reveal").status_code == 403


def test_an_admin_anonymises_a_member_from_the_page(client, login_as, admin, people):
    resp = login_as(admin).post(f"/hq/members/{people['a']}/anonymise")
    assert resp.status_code == 302
    assert load_member(people["a"]).anonymised_at is not None


def test_an_analyst_may_not_anonymise(client, login_as, analyst, people):
    assert login_as(analyst).post(f"/hq/members/{people['a']}/anonymise").status_code == 403
    assert load_member(people["a"]).anonymised_at is None


def test_an_unknown_member_is_not_found(client, login_as, analyst, db):
    assert login_as(analyst).get("/hq/members/999999").status_code == 404


def test_the_report_page_shows_each_chapter(client, login_as, analyst, people, two_chapters):
    resp = login_as(analyst).get("/hq/members/report", query_string={"month": "2024-02"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert two_chapters["a"].name in html and two_chapters["b"].name in html


def test_the_report_page_groups_by_region(client, login_as, analyst, people, two_chapters):
    resp = login_as(analyst).get("/hq/members/report",
                                 query_string={"month": "2024-02", "group": "region"})
    assert resp.status_code == 200
    assert two_chapters["a"].dealer.region.code in resp.get_data(as_text=True)


def test_a_bad_month_on_the_report_page_is_explained(client, login_as, analyst, db):
    resp = login_as(analyst).get("/hq/members/report", query_string={"month": "2024-99"})
    assert resp.status_code == 200
    assert "flash-error" in resp.get_data(as_text=True)


def test_the_report_exports_as_gbk_csv_and_the_export_is_audited(client, login_as, analyst,
                                                                  people):
    resp = login_as(analyst).get("/hq/members/report/export", query_string={
        "month": "2024-02", "format": "csv", "encoding": "gbk", "group": "region"})
    assert resp.status_code == 200
    assert "member-status-region-2024-02-gbk.csv" in resp.headers["Content-Disposition"]
    resp.get_data().decode("gbk")
    assert db.session.execute(sa.select(AuditLog.actor_id).where(
        AuditLog.action == "export")).scalar_one() == analyst.id


def test_the_report_exports_as_xlsx(client, login_as, analyst, people):
    from openpyxl import load_workbook

    resp = login_as(analyst).get("/hq/members/report/export",
                                 query_string={"month": "2024-02", "format": "xlsx"})
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.get_data())).worksheets[0].iter_rows(
        values_only=True))
    assert len(rows) == 1 + 2 + 1
