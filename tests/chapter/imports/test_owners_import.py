"""Importing owners + vehicles: every good row kept, every bad row reported, idempotent."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.owners import importer
from chapter.owners.models import Owner, Vehicle
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from clubplatform.validators import make_vin
from tests.chapter.imports.factories import (
    OWNER_HEADERS_EN,
    OWNER_HEADERS_ZH,
    owner_row,
    owners_csv,
    table_bytes,
)
from tests.factories import make_chapter, make_owner


def _owners(chapter) -> list[Owner]:
    with chapter_scope(chapter.id):
        return list(db.session.execute(sa.select(Owner).order_by(Owner.id)).scalars())


def _vehicles(chapter) -> list[Vehicle]:
    with chapter_scope(chapter.id):
        return list(db.session.execute(sa.select(Vehicle).order_by(Vehicle.id)).scalars())


@pytest.mark.parametrize("fmt,encoding", [("csv", "utf-8"), ("csv", "utf-8-sig"),
                                          ("csv", "gbk"), ("csv", "gb18030"), ("xlsx", None)])
def test_utf8_bom_gbk_csv_and_xlsx_files_are_all_read(db, run_import, fmt, encoding):
    chapter = make_chapter()
    rows = [owner_row(name="张三丰", address="上海市黄浦区南京东路100号"), owner_row(name="李四")]
    content = table_bytes(rows, OWNER_HEADERS_ZH, fmt=fmt, encoding=encoding or "utf-8")
    report = run_import(chapter, content, filename=f"owners.{fmt}")
    assert report.as_dict() == {"total": 2, "created": 2, "updated": 0, "unchanged": 0,
                                "failed": 0}
    owners = _owners(chapter)
    assert [o.name for o in owners] == ["张三丰", "李四"]
    assert owners[0].address == "上海市黄浦区南京东路100号"
    assert {v.vin for v in _vehicles(chapter)} == {r["vin"] for r in rows}


def test_spreadsheet_numbers_and_dates_are_read(db, run_import):
    from datetime import datetime

    from clubplatform.tabular import to_xlsx

    chapter = make_chapter()
    row = owner_row()
    content = to_xlsx(["姓名", "手机", "车架号", "交车日期", "里程"],
                      [[row["name"], float(row["mobile"]), row["vin"],
                        datetime(2023, 3, 15), 12000.0]])
    report = run_import(chapter, content, filename="owners.xlsx")
    assert report.created == 1 and not report.errors
    vehicle, = _vehicles(chapter)
    assert _owners(chapter)[0].mobile == row["mobile"]
    assert (vehicle.delivery_date, vehicle.mileage_km) == (date(2023, 3, 15), 12000)


@pytest.mark.parametrize("headers", [OWNER_HEADERS_ZH, OWNER_HEADERS_EN])
def test_chinese_and_english_headers_map_to_every_field(headers):
    mapping = importer.detect_mapping("owners", list(headers.values()))
    assert mapping == {field: i for i, field in enumerate(headers)}


def test_a_full_row_is_stored_with_its_vehicle(db, run_import):
    chapter = make_chapter()
    row = owner_row(mobile="138-0013-8000", hobbies="自驾游、摄影", plate="京A·12345")
    run_import(chapter, owners_csv([row]))
    owner, = _owners(chapter)
    vehicle, = _vehicles(chapter)
    assert owner.mobile == "13800138000" and owner.hobbies == ["自驾游", "摄影"]
    assert owner.id_number_masked == row["id_number"][:4] + "*" * 10 + row["id_number"][-4:]
    assert owner.id_number_enc and row["id_number"] not in owner.id_number_enc
    assert owner.birthday == date.fromisoformat(row["birthday"])
    assert owner.customer_since == date(2023, 3, 15)
    assert (vehicle.owner_id, vehicle.plate, vehicle.delivery_date, vehicle.mileage_km) == \
        (owner.id, "京A12345", date(2023, 3, 15), 12000)


def test_every_bad_row_is_reported_with_its_row_number_and_field_and_good_rows_kept(
        db, run_import):
    chapter = make_chapter()
    good = owner_row()
    bad_id = owner_row()
    bad_id["id_number"] = bad_id["id_number"][:17] + ("0" if bad_id["id_number"][17] != "0"
                                                      else "1")
    bad_vin = owner_row()
    bad_vin["vin"] = bad_vin["vin"][:8] + ("0" if bad_vin["vin"][8] != "0" else "1") + \
        bad_vin["vin"][9:]
    other = owner_row()
    rows = [
        good,                                                             # row 2
        owner_row(mobile="12345"),                                        # row 3
        bad_id,                                                           # row 4
        bad_vin,                                                          # row 5
        owner_row(delivery_date=(date.today() + timedelta(days=30)).isoformat()),  # row 6
        other,                                                            # row 7
        owner_row(vin=other["vin"]),                                      # row 8: VIN again
        owner_row(birthday="1970-01-02"),                                 # row 9
    ]
    # row 9's birthday disagrees with its ID number (born 1965 or later)
    report = run_import(chapter, owners_csv(rows))
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "手机"), (4, "身份证号"), (5, "车架号/VIN"), (6, "交车日期"), (8, "车架号/VIN"),
        (9, "生日")]
    assert report.created == 2 and report.failed_rows == 6 and report.total == 8
    assert sorted(o.mobile for o in _owners(chapter)) == sorted([good["mobile"],
                                                                 other["mobile"]])


def test_reasons_are_in_the_users_language(db, run_import):
    from flask_babel import force_locale

    chapter = make_chapter()
    with force_locale("en"):
        report = run_import(chapter, owners_csv([owner_row(mobile="12345")]))
    assert report.errors[0].reason == "Enter an 11-digit mainland mobile number."


def test_reimporting_the_same_file_changes_nothing(db, run_import):
    chapter = make_chapter()
    content = owners_csv([owner_row() for _ in range(5)] + [owner_row(mobile="1")])
    first = run_import(chapter, content)
    before = [(o.id, o.updated_at, o.id_number_enc) for o in _owners(chapter)]
    second = run_import(chapter, content)
    assert (first.created, first.failed_rows) == (5, 1)
    assert second.as_dict() == {"total": 6, "created": 0, "updated": 0, "unchanged": 5,
                                "failed": 1}
    assert [(o.id, o.updated_at, o.id_number_enc) for o in _owners(chapter)] == before


def test_a_changed_row_updates_the_owner_and_the_vehicle(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    run_import(chapter, owners_csv([row]))
    report = run_import(chapter, owners_csv([dict(row, address="杭州市西湖区1号",
                                                  insurance_expiry="2026-03-14")]))
    assert (report.updated, report.created) == (1, 0)
    owner, = _owners(chapter)
    vehicle, = _vehicles(chapter)
    assert owner.address == "杭州市西湖区1号" and vehicle.insurance_expiry == date(2026, 3, 14)


def test_blank_cells_keep_what_is_on_record(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    run_import(chapter, owners_csv([row]))
    report = run_import(chapter, owners_csv([dict(row, email="", occupation="")]))
    assert report.unchanged == 1
    owner, = _owners(chapter)
    assert owner.email == row["email"] and owner.occupation == "工程师"


def test_an_owner_with_two_cars_in_the_file_is_one_owner(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    second_car = dict(row, vin=make_vin(__import__("random").Random(5)), plate="京B12345",
                      delivery_date="2020-06-01", purchase_date="2020-05-20")
    report = run_import(chapter, owners_csv([row, second_car]))
    assert report.created == 2 and not report.errors
    owner, = _owners(chapter)
    assert len(_vehicles(chapter)) == 2
    assert owner.customer_since == date(2020, 6, 1)


def test_the_same_owner_with_different_details_in_one_file_is_reported(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    report = run_import(chapter, owners_csv([row, dict(owner_row(), mobile=row["mobile"],
                                                       id_number="", birthday="",
                                                       name="别人")]))
    assert [(e.row, e.field) for e in report.errors] == [(3, "姓名")]
    assert "2" in report.errors[0].reason


def test_an_owner_is_matched_by_id_number_when_the_file_has_no_mobile(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    run_import(chapter, owners_csv([row]))
    report = run_import(chapter, owners_csv([dict(row, mobile="", occupation="律师")]))
    assert (report.updated, report.created) == (1, 0)
    owner, = _owners(chapter)
    assert owner.mobile == row["mobile"] and owner.occupation == "律师"


def test_a_new_mobile_for_a_known_id_number_updates_the_owner(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    run_import(chapter, owners_csv([row]))
    report = run_import(chapter, owners_csv([dict(row, mobile="13900139000")]))
    assert report.updated == 1
    assert [o.mobile for o in _owners(chapter)] == ["13900139000"]


def test_an_id_number_of_another_owner_of_the_chapter_is_refused(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    run_import(chapter, owners_csv([row]))
    other = make_owner(chapter, mobile="13900139000")
    report = run_import(chapter, owners_csv([dict(owner_row(), mobile=other.mobile,
                                                  id_number=row["id_number"],
                                                  birthday="", gender="")]))
    assert [(e.row, e.field) for e in report.errors] == [(2, "身份证号")]
    assert sorted(o.mobile for o in _owners(chapter)) == sorted([row["mobile"], other.mobile])


def test_a_row_without_mobile_and_id_number_is_refused(db, run_import):
    chapter = make_chapter()
    report = run_import(chapter, owners_csv([owner_row(mobile="", id_number="")]))
    assert [(e.row, e.field) for e in report.errors] == [(2, "手机")]
    assert _owners(chapter) == []


def test_an_owner_without_a_vehicle_is_imported(db, run_import):
    chapter = make_chapter()
    content = table_bytes([owner_row()], {k: OWNER_HEADERS_ZH[k] for k in ("name", "mobile")})
    report = run_import(chapter, content)
    assert report.created == 1 and _vehicles(chapter) == []


def test_import_of_chapter_a_never_touches_chapter_b(db, run_import):
    a, b = make_chapter(), make_chapter()
    theirs = make_owner(b, name="B的车主", mobile="13800138000")
    report = run_import(a, owners_csv([owner_row(name="A的车主", mobile="13800138000")]))
    assert report.created == 1
    with unscoped("test: both chapters"):
        rows = db.session.execute(sa.select(Owner.chapter_id, Owner.name)
                                  .where(Owner.mobile == "13800138000")
                                  .order_by(Owner.chapter_id)).all()
    assert rows == [(a.id, "A的车主"), (b.id, "B的车主")]
    with chapter_scope(b.id):
        owner = db.session.execute(sa.select(Owner).where(Owner.id == theirs.id)).scalar_one()
        assert owner.updated_at == theirs.updated_at


def test_a_vin_registered_in_chapter_b_is_a_new_vehicle_in_chapter_a(db, run_import):
    from tests.chapter.owners.factories import make_vehicle

    a, b = make_chapter(), make_chapter()
    theirs = make_vehicle(b)
    report = run_import(a, owners_csv([owner_row(vin=theirs.vin)]))
    assert report.created == 1
    assert [v.vin for v in _vehicles(a)] == [theirs.vin]
    assert _vehicles(b)[0].owner_id == theirs.owner_id


def test_a_row_the_database_refuses_is_reported_and_the_rest_of_its_batch_kept(
        db, run_import, monkeypatch):
    chapter = make_chapter()
    rows = [owner_row() for _ in range(4)]
    refused = rows[2]["mobile"]
    original = importer._OwnerImport._owner_insert

    def sabotage(self, values, id_number):
        out = original(self, values, id_number)
        if out["mobile"] == refused:
            out["kind"] = "robot"  # breaks the kind CHECK constraint in the database
        return out

    monkeypatch.setattr(importer._OwnerImport, "_owner_insert", sabotage)
    report = run_import(chapter, owners_csv(rows))
    assert [e.row for e in report.errors] == [4]
    assert report.created == 3
    assert refused not in {o.mobile for o in _owners(chapter)}


def test_progress_is_reported_after_every_batch(db, run_import):
    chapter = make_chapter()
    seen = []
    run_import(chapter, owners_csv([owner_row() for _ in range(5)]), batch_size=2,
               progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_a_vehicle_changing_hands_moves_to_the_new_owner(db, run_import):
    chapter = make_chapter()
    row = owner_row()
    run_import(chapter, owners_csv([row]))
    buyer = owner_row(vin=row["vin"])
    report = run_import(chapter, owners_csv([buyer]))
    assert report.created == 1
    vehicle, = _vehicles(chapter)
    owner = next(o for o in _owners(chapter) if o.mobile == buyer["mobile"])
    assert vehicle.owner_id == owner.id
