"""Each care rule, day by day: who is due, with which reason (incl. 29 February, month ends)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chapter.care import rules
from tests.chapter.care.factories import owner, reasons_on, tasks, vehicle, visit

# --- pure date rules --------------------------------------------------------------------

@pytest.mark.parametrize("start, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 1, 15), 12, date(2027, 1, 15)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
])
def test_adding_months_clamps_to_the_month_end(start, months, expected):
    assert rules.add_months(start, months) == expected


def test_the_after_delivery_schedule_is_the_domains():
    months = [m for m in range(1, 61) if rules.after_delivery_month_due(m)]
    assert months == [1, 2, 4, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 38, 40, 42, 44, 46, 48,
                      49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60]


def test_after_delivery_dates_start_with_day_2_and_week_2():
    got = rules.after_delivery_dates(date(2026, 1, 31), date(2026, 6, 30))
    assert got == [date(2026, 2, 2), date(2026, 2, 14), date(2026, 2, 28), date(2026, 3, 31),
                   date(2026, 5, 31)]


def test_a_29_february_anniversary_is_kept_on_28_february_in_a_common_year():
    assert rules.anniversary_in(date(2000, 2, 29), 2027) == date(2027, 2, 28)
    assert rules.anniversary_in(date(2000, 2, 29), 2028) == date(2028, 2, 29)


# --- the SQL of each rule --------------------------------------------------------------------

def test_birthday(chapter_id):
    o = owner(chapter_id, birthday=date(1980, 6, 1))
    assert reasons_on(chapter_id, date(2026, 5, 31), o) == []
    assert reasons_on(chapter_id, date(2026, 6, 1), o) == [("birthday", None)]


def test_a_29_february_birthday_is_on_28_february_in_a_common_year(chapter_id):
    o = owner(chapter_id, birthday=date(1988, 2, 29))
    assert reasons_on(chapter_id, date(2027, 2, 28), o) == [("birthday", None)]
    assert reasons_on(chapter_id, date(2027, 3, 1), o) == []
    assert reasons_on(chapter_id, date(2028, 2, 28), o) == []
    assert reasons_on(chapter_id, date(2028, 2, 29), o) == [("birthday", None)]


def test_car_birthday_counts_the_years(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2023, 5, 20))
    # (month 36 after delivery falls on the same day)
    assert reasons_on(chapter_id, date(2026, 5, 20), o) == [("car_birthday", 3),
                                                            ("delivery_month", 36)]
    assert reasons_on(chapter_id, date(2023, 5, 20), o) == []  # the delivery day itself


def test_car_delivered_on_29_february(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2024, 2, 29))
    assert ("car_birthday", 1) in reasons_on(chapter_id, date(2025, 2, 28), o)
    assert ("car_birthday", 4) in reasons_on(chapter_id, date(2028, 2, 29), o)
    assert ("car_birthday", 2) not in reasons_on(chapter_id, date(2026, 3, 1), o)


def test_after_delivery_days_and_months(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2026, 1, 10))
    assert reasons_on(chapter_id, date(2026, 1, 12), o) == [("delivery_day", 2)]
    assert reasons_on(chapter_id, date(2026, 1, 24), o) == [("delivery_day", 14)]
    assert reasons_on(chapter_id, date(2026, 2, 10), o) == [("delivery_month", 1)]
    assert reasons_on(chapter_id, date(2026, 3, 10), o) == [("delivery_month", 2)]
    assert reasons_on(chapter_id, date(2026, 4, 10), o) == []  # month 3: not in the schedule
    assert reasons_on(chapter_id, date(2026, 5, 10), o) == [("delivery_month", 4)]
    assert reasons_on(chapter_id, date(2026, 10, 10), o) == [("delivery_month", 9)]
    assert ("delivery_month", 12) in reasons_on(chapter_id, date(2027, 1, 10), o)


@pytest.mark.parametrize("months, due", [(36, True), (37, False), (38, True), (39, False),
                                         (48, True), (49, True), (50, True), (33, True),
                                         (34, False)])
def test_after_delivery_later_years(chapter_id, months, due):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2020, 1, 15))
    day = rules.add_months(date(2020, 1, 15), months)
    got = [r for r in reasons_on(chapter_id, day, o) if r[0] == "delivery_month"]
    assert got == ([("delivery_month", months)] if due else [])


def test_after_delivery_from_31_january_falls_on_the_last_day_of_february(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2026, 1, 31))
    assert reasons_on(chapter_id, date(2026, 2, 28), o) == [("delivery_month", 1)]
    assert reasons_on(chapter_id, date(2026, 3, 31), o) == [("delivery_month", 2)]
    assert reasons_on(chapter_id, date(2026, 5, 30), o) == []
    assert reasons_on(chapter_id, date(2026, 5, 31), o) == [("delivery_month", 4)]


def test_after_delivery_in_a_leap_february(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, delivery_date=date(2027, 12, 31))
    assert reasons_on(chapter_id, date(2028, 2, 28), o) == []
    assert reasons_on(chapter_id, date(2028, 2, 29), o) == [("delivery_month", 2)]


def test_vip_owners_at_least_monthly(chapter_id):
    from tests.chapter.care.factories import generate

    o = owner(chapter_id, is_vip=True)
    assert reasons_on(chapter_id, date(2026, 5, 1), o) == [("vip", None)]
    for d in range(2, 31):
        generate(chapter_id, date(2026, 5, d))
    assert [t for t in tasks(chapter_id) if t[1] == "vip"] == [(o, "vip", None, date(2026, 5, 1))]
    assert reasons_on(chapter_id, date(2026, 5, 31), o) == [("vip", None)]


def test_a_vip_reached_recently_is_not_due(chapter_id):
    from chapter.care import service
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope

    o = owner(chapter_id, is_vip=True)
    with chapter_scope(chapter_id):
        t = service.add_task(chapter_id=chapter_id, owner_id=o, reason="birthday",
                             due_on=date(2026, 4, 20), source_key="x")
        service.record_outcome(t, "reached", today=date(2026, 4, 20))
        db.session.commit()
    assert reasons_on(chapter_id, date(2026, 5, 1), o) == []
    assert reasons_on(chapter_id, date(2026, 5, 20), o) == [("vip", None)]


def test_insurance_renewal_30_days_before_expiry(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, insurance_expiry=date(2026, 7, 1))
    assert reasons_on(chapter_id, date(2026, 6, 1), o) == [("insurance", 30)]
    assert reasons_on(chapter_id, date(2026, 6, 2), o) == []


def test_inspection_before_it_is_due(chapter_id):
    o = owner(chapter_id)
    vehicle(chapter_id, o, next_inspection_on=date(2026, 3, 31))
    assert reasons_on(chapter_id, date(2026, 3, 1), o) == [("inspection", 30)]


def test_maintenance_due_by_time_since_the_last_visit(chapter_id):
    o = owner(chapter_id)
    v = vehicle(chapter_id, o)
    visit(chapter_id, o, v, date(2025, 6, 1))
    last = visit(chapter_id, o, v, date(2025, 11, 1))  # noqa: F841
    assert reasons_on(chapter_id, date(2025, 11, 28), o) == []  # 180 days after the first
    assert reasons_on(chapter_id, date(2026, 4, 30), o) == [("maintenance", 180)]


def test_follow_ups_3_and_7_days_after_a_service_visit(chapter_id):
    o = owner(chapter_id)
    v = vehicle(chapter_id, o)
    visit(chapter_id, o, v, date(2026, 5, 10))
    assert reasons_on(chapter_id, date(2026, 5, 13), o) == [("follow_up_3d", 3)]
    assert reasons_on(chapter_id, date(2026, 5, 17), o) == [("follow_up_7d", 7)]
    assert reasons_on(chapter_id, date(2026, 5, 14), o) == []


def test_anonymised_owners_never_appear(chapter_id):
    from clubplatform.db import utcnow

    o = owner(chapter_id, birthday=date(1980, 6, 1), is_vip=True, anonymised_at=utcnow())
    assert reasons_on(chapter_id, date(2026, 6, 1), o) == []


def test_the_task_is_assigned_to_the_owners_advisor(chapter_id, two_chapters):
    from chapter.care.models import CareTask
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from tests.factories import make_user

    advisor_id = make_user("chapter_staff", chapter=two_chapters["a"]).id
    cid = two_chapters["a"].id
    o = owner(cid, birthday=date(1980, 6, 1), advisor_id=advisor_id)
    reasons_on(cid, date(2026, 6, 1), o)
    with chapter_scope(cid):
        task = db.session.query(CareTask).one()
        assert task.assignee_id == advisor_id and task.channel == "phone"


def test_the_week_2_thanks_after_delivery_goes_to_the_chapters_manager(two_chapters):
    from chapter.care.models import CareTask
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from tests.factories import make_user

    cid = two_chapters["a"].id
    manager_id = two_chapters["manager_a"].id
    advisor_id = make_user("chapter_staff", chapter=two_chapters["a"]).id
    o = owner(cid, advisor_id=advisor_id)
    vehicle(cid, o, delivery_date=date(2026, 1, 10))

    reasons_on(cid, date(2026, 1, 12), o)
    reasons_on(cid, date(2026, 1, 24), o)
    with chapter_scope(cid):
        assignees = dict(db.session.query(CareTask.number, CareTask.assignee_id)
                         .filter(CareTask.reason == "delivery_day").all())
    assert assignees == {2: advisor_id, 14: manager_id}


# --- rules are data --------------------------------------------------------------------------

def test_hq_changes_a_default_for_every_chapter(chapter_id):
    from chapter.care import service
    from clubplatform.extensions import db

    service.save_hq_rule({"code": "insurance", "params": {"days_before": 45}})
    db.session.commit()
    o = owner(chapter_id)
    vehicle(chapter_id, o, insurance_expiry=date(2026, 7, 16))
    assert reasons_on(chapter_id, date(2026, 6, 1), o) == [("insurance", 45)]


def test_a_chapter_switches_a_rule_off_and_adds_its_own(chapter_id):
    from chapter.care import service
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope

    with chapter_scope(chapter_id):
        service.save_chapter_rule(chapter_id, {"code": "birthday", "active": False})
        service.save_chapter_rule(chapter_id, {"code": "insurance_60", "kind": "insurance",
                                               "params": {"days_before": 60}, "channel": "sms"})
        db.session.commit()
    o = owner(chapter_id, birthday=date(1980, 6, 1))
    vehicle(chapter_id, o, insurance_expiry=date(2026, 7, 31))
    assert reasons_on(chapter_id, date(2026, 6, 1), o) == [("insurance", 60)]


def test_reason_texts_name_the_number(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        assert rules.reason_text("delivery_month", 4) == "Month 4 after delivery"
        assert rules.reason_text("car_birthday", 3) == "Car birthday, 3 years"
        assert rules.reason_text("insurance", 30) == "Insurance expires in 30 days"


def test_unused_date_helpers_do_not_drift():
    assert rules.after_delivery_dates(date(2026, 1, 1), date(2026, 1, 1)) == []
    assert date(2026, 1, 1) + timedelta(days=2) in rules.after_delivery_dates(
        date(2026, 1, 1), date(2026, 1, 3))
