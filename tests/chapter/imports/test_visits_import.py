"""Importing service visits: linked to the vehicle by VIN, checked against its delivery."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from chapter.owners.models import Owner, ServiceVisit, Vehicle
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from tests.chapter.imports.factories import owner_row, owners_csv, visit_row, visits_csv
from tests.factories import make_chapter


def _visits(chapter) -> list[ServiceVisit]:
    with chapter_scope(chapter.id):
        return list(db.session.execute(sa.select(ServiceVisit).order_by(ServiceVisit.id))
                    .scalars())


def _one(chapter, model):
    with chapter_scope(chapter.id):
        return db.session.execute(sa.select(model)).scalar_one()


def _chapter_with_car(run_import, **car):
    chapter = make_chapter()
    row = owner_row(**car)
    run_import(chapter, owners_csv([row]))
    return chapter, row["vin"]


def test_a_visit_is_linked_to_the_vehicle_by_its_vin(db, run_import):
    chapter, vin = _chapter_with_car(run_import)
    report = run_import(chapter, visits_csv([visit_row(vin.lower(), visit_type="首保",
                                                       amount="1,280.50")]), kind="visits")
    assert report.created == 1 and not report.errors
    visit, = _visits(chapter)
    vehicle, owner = _one(chapter, Vehicle), _one(chapter, Owner)
    assert (visit.vehicle_id, visit.owner_id) == (vehicle.id, owner.id)
    assert (visit.visit_type, visit.amount_fen, visit.visit_date) == \
        ("first_service", 128050, date(2024, 5, 20))


def test_visit_types_are_read_as_chinese_labels_or_codes(db, run_import):
    chapter, vin = _chapter_with_car(run_import)
    rows = [visit_row(vin, visit_type=t) for t in ("钣喷", "insurance_renewal", "代办年检", "洗车")]
    report = run_import(chapter, visits_csv(rows), kind="visits")
    assert [v.visit_type for v in _visits(chapter)] == ["body_paint", "insurance_renewal",
                                                        "inspection"]
    assert [(e.row, e.field) for e in report.errors] == [(5, "类型")]


def test_a_visit_before_the_delivery_is_refused(db, run_import):
    chapter, vin = _chapter_with_car(run_import, delivery_date="2023-03-15")
    report = run_import(chapter, visits_csv([visit_row(vin, visit_date="2023-03-01"),
                                             visit_row(vin, visit_date="2023-03-15")]),
                        kind="visits")
    assert [(e.row, e.field) for e in report.errors] == [(2, "日期")]
    assert "2023-03-15" in report.errors[0].reason
    assert len(_visits(chapter)) == 1


def test_a_visit_of_an_unknown_vin_is_refused(db, run_import):
    chapter, vin = _chapter_with_car(run_import)
    elsewhere, their_vin = _chapter_with_car(run_import)
    report = run_import(chapter, visits_csv([visit_row(their_vin), visit_row(vin)]),
                        kind="visits")
    assert [(e.row, e.field) for e in report.errors] == [(2, "车架号/VIN")]
    assert report.created == 1
    assert _visits(elsewhere) == []


def test_bad_visit_rows_name_their_field(db, run_import):
    chapter, vin = _chapter_with_car(run_import)
    future = (date.today() + timedelta(days=3)).isoformat()
    rows = [visit_row(vin, order_no=""), visit_row(vin, visit_date=future),
            visit_row(vin, amount="很多"), visit_row(vin, amount="-5"),
            visit_row(vin, order_no="WO-1"), visit_row(vin, order_no="WO-1")]
    report = run_import(chapter, visits_csv(rows), kind="visits")
    assert [(e.row, e.field) for e in report.errors] == [
        (2, "工单号"), (3, "日期"), (4, "金额"), (5, "金额"), (7, "工单号")]
    assert [v.order_no for v in _visits(chapter)] == ["WO-1"]


def test_reimporting_the_same_visits_changes_nothing(db, run_import):
    chapter, vin = _chapter_with_car(run_import)
    content = visits_csv([visit_row(vin), visit_row(vin, visit_date="2024-08-01")])
    run_import(chapter, content, kind="visits")
    report = run_import(chapter, content, kind="visits")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert len(_visits(chapter)) == 2


def test_a_corrected_work_order_is_updated(db, run_import):
    chapter, vin = _chapter_with_car(run_import)
    row = visit_row(vin)
    run_import(chapter, visits_csv([row]), kind="visits")
    report = run_import(chapter, visits_csv([dict(row, amount="700")]), kind="visits")
    assert report.updated == 1
    assert _visits(chapter)[0].amount_fen == 70000


def test_visits_raise_the_odometer_and_date_the_customer(db, run_import):
    chapter, vin = _chapter_with_car(run_import, mileage_km="12000", delivery_date="2019-01-10",
                                     purchase_date="2019-01-01")
    run_import(chapter, visits_csv([visit_row(vin, mileage_km="30000", visit_date="2019-02-01")]),
               kind="visits")
    assert _one(chapter, Vehicle).mileage_km == 30000
    assert _one(chapter, Owner).customer_since == date(2019, 1, 10)


def test_each_batch_of_new_visits_is_announced_with_their_ids(db, run_import, monkeypatch):
    from chapter.owners import importer

    chapter, vin = _chapter_with_car(run_import)
    heard = []
    monkeypatch.setattr(importer, "after_visit_batch", [lambda cid, ids: heard.append((cid, ids))])
    content = visits_csv([visit_row(vin) for _ in range(3)])
    run_import(chapter, content, kind="visits", batch_size=2)
    ids = [v.id for v in _visits(chapter)]
    assert heard == [(chapter.id, ids[:2]), (chapter.id, ids[2:])]
    run_import(chapter, content, kind="visits", batch_size=2)
    assert len(heard) == 2  # the same file again creates no visit, so announces none


def test_imported_visits_of_a_member_earn_points_once(db, run_import):
    from clubplatform import dates
    from clubplatform.tenancy import unscoped
    from hq.points import ledger
    from tests.factories import make_member
    from tests.hq.points.factories import make_rule

    make_rule("service_rate", 2, key="maintenance")
    chapter, vin = _chapter_with_car(run_import)
    owner = _one(chapter, Owner)
    member = make_member(chapter, owner)
    today = dates.today().isoformat()
    visits = visits_csv([visit_row(vin, visit_date=today, amount="680.00")])
    run_import(chapter, visits, kind="visits")
    run_import(chapter, visits, kind="visits")  # the same file again earns nothing more
    with unscoped("test"):
        assert ledger.balance(member.id) == 1360
