"""The member status report: counts per chapter and region, months, movements, exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from clubplatform import dates
from clubplatform.audit.models import AuditLog
from clubplatform.errors import ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.members import service as members
from tests.chapter.recruitment.factories import make_member_of
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_chapter, make_dealer, make_region, make_user

JOINED = date(2024, 1, 10)


def _row(report, key):
    return next(r for r in report.rows if r.key == key)


def _this_month():
    return dates.today().replace(day=1)


def _set(member_id, **values):
    with unscoped("test"):
        member = load_member(member_id)
        for k, v in values.items():
            setattr(member, k, v)
        db.session.commit()


def test_members_are_counted_by_status_tier_and_source(two_chapters):
    a = two_chapters["a"]
    first = make_member_since(a, JOINED)
    second = make_member_since(a, JOINED)
    _set(second, tier="gold", source="event")
    with chapter_scope(a.id):
        members.change_status(load_member(second), "suspended", on=date(2024, 2, 1))
        db.session.commit()
    assert first
    row = _row(members.member_status_report(date(2024, 3, 1)), a.id)
    assert row.members == 2
    assert row.by_status == {"active": 1, "suspended": 1}
    assert (row.by_tier["silver"], row.by_tier["gold"]) == (1, 1)
    assert (row.by_source["showroom"], row.by_source["event"]) == (1, 1)


def test_new_members_are_those_who_joined_in_the_month(two_chapters):
    a = two_chapters["a"]
    make_member_since(a, JOINED)
    make_member_of(a)  # joins today
    assert _row(members.member_status_report(_this_month()), a.id).new == 1
    assert _row(members.member_status_report(date(2024, 1, 1)), a.id).new == 1
    assert _row(members.member_status_report(date(2024, 2, 1)), a.id).new == 0


def test_members_who_left_count_until_the_day_they_left(two_chapters):
    a = two_chapters["a"]
    member_id = make_member_since(a, JOINED)
    with chapter_scope(a.id):
        members.change_status(load_member(member_id), "left", on=date(2024, 4, 15),
                              reason="车卖了")
        db.session.commit()
    march = _row(members.member_status_report(date(2024, 3, 1)), a.id)
    april = _row(members.member_status_report(date(2024, 4, 1)), a.id)
    assert (march.members, march.left) == (1, 0)
    assert (april.members, april.left) == (0, 1)


def test_a_transfer_counts_out_and_in_and_the_past_stays(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    march_before = members.member_status_report(date(2024, 3, 1))
    transfer = make_transfer(member_id, b)
    with chapter_scope(b.id):
        members.approve_transfer(members.get_transfer(transfer.id), two_chapters["manager_b"])
        db.session.commit()
    now = members.member_status_report(_this_month())
    assert (_row(now, a.id).transfers_out, _row(now, a.id).members) == (1, 0)
    assert (_row(now, b.id).transfers_in, _row(now, b.id).members) == (1, 1)
    march_after = members.member_status_report(date(2024, 3, 1))
    assert [(r.key, r.members, r.by_status) for r in march_after.rows] == \
        [(r.key, r.members, r.by_status) for r in march_before.rows]


def test_a_chapter_report_in_the_chapters_scope_still_counts_members_who_moved_away(
        two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    member_id = make_member_since(a, JOINED)
    transfer = make_transfer(member_id, b)
    with chapter_scope(b.id):
        members.approve_transfer(members.get_transfer(transfer.id), two_chapters["manager_b"])
        db.session.commit()
    with chapter_scope(a.id):
        report = members.member_status_report(date(2024, 3, 1), chapter_id=a.id)
    assert [(r.key, r.members, r.by_tier["silver"]) for r in report.rows] == [(a.id, 1, 1)]


def test_the_region_report_adds_up_its_chapters(db):
    north, south = make_region("NN"), make_region("SS")
    n1, n2 = make_chapter(make_dealer(north)), make_chapter(make_dealer(north))
    s1 = make_chapter(make_dealer(south))
    for chapter, count in ((n1, 2), (n2, 1), (s1, 1)):
        for _ in range(count):
            make_member_since(chapter, JOINED)
    report = members.member_status_report(date(2024, 2, 1), group="region")
    assert (_row(report, north.id).members, _row(report, south.id).members) == (3, 1)
    assert report.total.members == 4


def test_the_report_filters_to_a_region(db):
    north, south = make_region("NN"), make_region("SS")
    n1, s1 = make_chapter(make_dealer(north)), make_chapter(make_dealer(south))
    make_member_since(n1, JOINED)
    make_member_since(s1, JOINED)
    report = members.member_status_report(date(2024, 2, 1), region_id=north.id)
    assert [r.key for r in report.rows] == [n1.id]


def test_a_month_in_the_future_is_refused():
    nxt = (dates.month_end(dates.today()) + timedelta(days=1)).strftime("%Y-%m")
    with pytest.raises(ValidationFailed) as err:
        members.parse_month(nxt)
    assert "month" in err.value.fields


@pytest.mark.parametrize("text", ["2024-13", "2024/05", "May"])
def test_a_malformed_month_names_the_field(text):
    with pytest.raises(ValidationFailed) as err:
        members.parse_month(text)
    assert "month" in err.value.fields


def _export(report, **kw):
    admin = make_user("hq_admin")
    file = members.export_member_status(report, actor=admin, ip="10.0.0.2", **kw)
    db.session.commit()
    return file


def test_the_csv_export_is_utf8_with_bom_and_audited(two_chapters):
    make_member_since(two_chapters["a"], JOINED)
    file = _export(members.member_status_report(date(2024, 2, 1)), fmt="csv")
    assert file.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert rows[0][0] and len(rows) == 1 + 2 + 1  # header, two chapters, total
    assert file.filename == "member-status-chapter-2024-02.csv"
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "export")).scalar_one()
    assert entry.details["format"] == "csv" and entry.details["month"] == "2024-02"


def test_the_gbk_csv_opens_in_gbk(two_chapters):
    make_member_since(two_chapters["a"], JOINED)
    file = _export(members.member_status_report(date(2024, 2, 1)), fmt="csv", encoding="gbk")
    text = file.content.decode("gbk")
    assert "车友会" in text  # the chapters' names
    assert file.filename.endswith("-gbk.csv")


def test_the_xlsx_export_opens_with_the_same_figures(two_chapters):
    from openpyxl import load_workbook

    a = two_chapters["a"]
    make_member_since(a, JOINED)
    report = members.member_status_report(date(2024, 2, 1), chapter_id=a.id)
    file = _export(report, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(file.content)).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[1][2] == a.id and values[1][6] == 1  # chapter id, members
    assert file.filename == f"member-status-c{a.id}-2024-02.xlsx"


def test_an_unknown_export_format_names_the_field(two_chapters):
    with pytest.raises(ValidationFailed) as err:
        _export(members.member_status_report(date(2024, 2, 1)), fmt="pdf")
    assert "format" in err.value.fields
