"""The chapter's member status report page and its exports."""

from __future__ import annotations

import io
import re
from datetime import date

import sqlalchemy as sa

from clubplatform.audit.models import AuditLog
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.members import service as members
from tests.chapter.recruitment.factories import make_member_of
from tests.chapter.transfers.factories import make_member_since, make_transfer

JOINED = date(2024, 1, 10)


def _stat(html: str, key: str) -> int:
    """The number shown in the figure box ``key`` (members, new, transfers_in …)."""
    m = re.search(rf'data-stat="{key}">.*?<span>(\d+)</span>', html)
    assert m, key
    return int(m.group(1))


def test_the_page_counts_only_the_chapters_own_members(client, login_as, two_chapters):
    make_member_since(two_chapters["a"], JOINED)
    make_member_since(two_chapters["a"], JOINED)
    make_member_since(two_chapters["b"], JOINED)
    resp = login_as(two_chapters["staff_a"]).get("/chapter/reports/",
                                                 query_string={"month": "2024-02"})
    assert resp.status_code == 200
    assert _stat(resp.get_data(as_text=True), "members") == 2


def test_the_month_selector_shows_new_members_of_that_month(client, login_as, two_chapters):
    make_member_since(two_chapters["a"], JOINED)
    staff = login_as(two_chapters["staff_a"])
    jan = staff.get("/chapter/reports/", query_string={"month": "2024-01"}).get_data(as_text=True)
    feb = staff.get("/chapter/reports/", query_string={"month": "2024-02"}).get_data(as_text=True)
    assert (_stat(jan, "new"), _stat(feb, "new")) == (1, 0)


def test_the_page_shows_transfers_in_and_out_this_month(client, login_as, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    transfer = make_transfer(member_id, two_chapters["b"])
    with chapter_scope(two_chapters["b"].id):
        members.approve_transfer(members.get_transfer(transfer.id), two_chapters["manager_b"])
        db.session.commit()
    out = login_as(two_chapters["staff_a"]).get("/chapter/reports/").get_data(as_text=True)
    into = login_as(two_chapters["staff_b"]).get("/chapter/reports/").get_data(as_text=True)
    assert (_stat(out, "transfers_out"), _stat(out, "members")) == (1, 0)
    assert (_stat(into, "transfers_in"), _stat(into, "members")) == (1, 1)


def test_a_bad_month_falls_back_to_this_month_with_a_message(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_a"]).get("/chapter/reports/",
                                                 query_string={"month": "2024-13"})
    assert resp.status_code == 200
    assert "flash-error" in resp.get_data(as_text=True)


def test_the_csv_export_is_named_by_chapter_and_audited(client, login_as, two_chapters):
    a = two_chapters["a"]
    make_member_of(a)
    resp = login_as(two_chapters["staff_a"]).get("/chapter/reports/export",
                                                 query_string={"month": "2024-02"})
    assert resp.status_code == 200
    assert f"member-status-c{a.id}-2024-02.csv" in resp.headers["Content-Disposition"]
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "export")).scalar_one()
    assert (entry.chapter_id, entry.actor_id) == (a.id, two_chapters["staff_a"].id)


def test_the_gbk_csv_decodes_as_gbk(client, login_as, two_chapters):
    make_member_since(two_chapters["a"], JOINED)
    resp = login_as(two_chapters["staff_a"]).get(
        "/chapter/reports/export", query_string={"month": "2024-02", "encoding": "gbk"})
    text = resp.get_data().decode("gbk")
    assert two_chapters["a"].name in text
    assert resp.headers["Content-Disposition"].endswith("-gbk.csv")


def test_the_xlsx_export_has_the_chapters_line_only(client, login_as, two_chapters):
    from openpyxl import load_workbook

    a = two_chapters["a"]
    make_member_since(a, JOINED)
    make_member_since(two_chapters["b"], JOINED)
    resp = login_as(two_chapters["staff_a"]).get(
        "/chapter/reports/export", query_string={"month": "2024-02", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(resp.get_data())).worksheets[0].iter_rows(
        values_only=True))
    assert len(rows) == 2 and rows[1][2] == a.id and rows[1][6] == 1


def test_an_unknown_format_is_refused(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_a"]).get("/chapter/reports/export",
                                                 query_string={"format": "pdf"})
    assert resp.status_code == 422
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.action == "export")).first() \
        is None
