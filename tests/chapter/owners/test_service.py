"""The owners service: every bad input names its field, search keys, reveal, reassignment."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.owners import service
from chapter.owners.models import Owner, ServiceVisit
from clubplatform import crypto, dates
from clubplatform.audit.models import AuditLog
from clubplatform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_id_number, make_vin
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.factories import make_owner, make_user

ID_NUMBER = "11010519491231002X"          # born 1949-12-31, female
BAD_CHECKSUM_ID = "110105194912310021"
VIN = make_vin(random.Random(42))


def _bad_check_digit(vin: str) -> str:
    digit = "1" if vin[8] != "1" else "2"
    return vin[:8] + digit + vin[9:]


def _future() -> date:
    return dates.today() + timedelta(days=30)


@pytest.fixture
def a(two_chapters):
    """Chapter A, with its scope open for the test."""
    with chapter_scope(two_chapters["a"].id):
        yield two_chapters["a"]


def _fields_of(excinfo) -> set[str]:
    return set(excinfo.value.fields)


# --- owners: bad input -------------------------------------------------------------

@pytest.mark.parametrize("data, field", [
    ({"name": "张三", "mobile": "1380013800"}, "mobile"),
    ({"name": "张三", "mobile": "12800138000"}, "mobile"),
    ({"name": "张三", "id_number": BAD_CHECKSUM_ID}, "id_number"),
    ({"name": "张三", "id_number": "1101051949123100"}, "id_number"),
    ({"name": "张三", "birthday": "2999-01-01"}, "birthday"),
    ({"name": "张三", "id_number": ID_NUMBER, "birthday": "1950-01-01"}, "birthday"),
    ({"name": "张三", "id_number": ID_NUMBER, "gender": "male"}, "gender"),
    ({"name": "张三", "postal_code": "1000"}, "postal_code"),
    ({"name": "张三", "email": "not-an-address"}, "email"),
    ({"name": "张三", "kind": "robot"}, "kind"),
    ({"name": ""}, "name"),
    ({"name": "张三", "birthday": "31/12/1980"}, "birthday"),
], ids=["short-mobile", "bad-prefix", "id-checksum", "id-length", "future-birthday",
        "birthday-vs-id", "gender-vs-id", "postal-code", "email", "kind", "name", "bad-date"])
def test_bad_owner_input_names_its_field(a, data, field):
    with pytest.raises(ValidationFailed) as exc:
        service.create_owner(a.id, data)
    assert field in _fields_of(exc)


def test_every_bad_owner_field_is_reported_at_once(a):
    with pytest.raises(ValidationFailed) as exc:
        service.create_owner(a.id, {"name": "", "mobile": "123", "id_number": BAD_CHECKSUM_ID,
                                    "email": "x"})
    assert _fields_of(exc) == {"name", "mobile", "id_number", "email"}
    assert db.session.execute(sa.select(sa.func.count()).select_from(Owner)).scalar() == 0


def test_an_advisor_of_another_chapter_cannot_be_assigned(a, two_chapters):
    with pytest.raises(ValidationFailed) as exc:
        service.create_owner(a.id, {"name": "张三", "advisor_id": two_chapters["staff_b"].id})
    assert _fields_of(exc) == {"advisor_id"}


@pytest.mark.parametrize("field", ["mobile", "id_number"])
def test_a_duplicate_mobile_or_id_in_the_chapter_is_a_conflict_naming_it(a, field):
    values = {"mobile": "13800138000", "id_number": ID_NUMBER}
    service.create_owner(a.id, {"name": "王芳", field: values[field]})
    with pytest.raises(Conflict) as exc:
        service.create_owner(a.id, {"name": "王芳二", field: values[field]})
    assert _fields_of(exc) == {field}


def test_the_same_mobile_may_be_an_owner_in_two_chapters(two_chapters):
    make_owner(two_chapters["a"], mobile="13800138000")
    owner_b = make_owner(two_chapters["b"], mobile="13800138000")
    assert owner_b.id


def test_a_duplicate_written_meanwhile_is_still_a_conflict_naming_the_field(a, monkeypatch):
    service.create_owner(a.id, {"name": "王芳", "mobile": "13800138000"})
    # another request inserted the same mobile between our check and our insert
    monkeypatch.setattr(service, "_check_duplicates", lambda out, owner, errors: None)
    with pytest.raises(Conflict) as exc:
        service.create_owner(a.id, {"name": "王芳二", "mobile": "13800138000"})
    assert _fields_of(exc) == {"mobile"}
    # the first owner is still there: only the savepoint was rolled back
    assert db.session.execute(sa.select(sa.func.count()).select_from(Owner)).scalar() == 1


# --- owners: personal data ---------------------------------------------------------

def test_the_id_number_is_sealed_masked_and_sets_birthday_and_gender(a):
    owner = service.create_owner(a.id, {"name": "王芳", "id_number": ID_NUMBER.lower()})
    assert ID_NUMBER not in (owner.id_number_enc or "")
    assert crypto.decrypt(owner.id_number_enc) == ID_NUMBER
    assert owner.id_number_masked == "1101**********002X"
    assert owner.birthday == date(1949, 12, 31)
    assert owner.gender == "female"


def test_changing_only_the_birthday_is_checked_against_the_id_on_record(a):
    owner = service.create_owner(a.id, {"name": "王芳", "id_number": ID_NUMBER})
    with pytest.raises(ValidationFailed) as exc:
        service.update_owner(owner, {"birthday": date(1960, 1, 1)})
    assert _fields_of(exc) == {"birthday"}


def test_an_update_changes_only_the_fields_given(a):
    owner = service.create_owner(a.id, {"name": "王芳", "id_number": ID_NUMBER,
                                        "mobile": "13800138000", "hobbies": "自驾游、摄影"})
    service.update_owner(owner, {"occupation": "教师"})
    assert owner.occupation == "教师"
    assert owner.mobile == "13800138000"
    assert owner.id_number_masked == "1101**********002X"
    assert owner.hobbies == ["自驾游", "摄影"]


def test_reveal_returns_the_number_and_writes_the_audit_log(a, two_chapters):
    owner = service.create_owner(a.id, {"name": "王芳", "id_number": ID_NUMBER})
    manager = two_chapters["manager_a"]
    assert service.reveal_id_number(owner, actor=manager, ip="10.0.0.1") == ID_NUMBER
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).scalar_one()
    assert (entry.actor_id, entry.target_type, entry.target_id, entry.chapter_id) == (
        manager.id, "owner", str(owner.id), a.id)


def test_staff_may_not_reveal_and_nothing_is_logged(a, two_chapters):
    owner = service.create_owner(a.id, {"name": "王芳", "id_number": ID_NUMBER})
    with pytest.raises(PermissionDenied):
        service.reveal_id_number(owner, actor=two_chapters["staff_a"])
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).first() is None


def test_another_chapters_owner_is_not_found(two_chapters):
    owner = make_owner(two_chapters["a"])
    with chapter_scope(two_chapters["b"].id), pytest.raises(NotFound):
        service.get_owner(owner.id)


# --- search ------------------------------------------------------------------------

def _found(q: str) -> list[int]:
    return [o.id for o in db.session.execute(service.owner_query(q=q)).scalars()]


@pytest.fixture
def searchable(two_chapters):
    """王芳 with a mobile, a car (VIN, plate) and a member number; and another owner."""
    chapter = two_chapters["a"]
    owner = make_owner(chapter, name="王芳", mobile="13912345678")
    make_owner(chapter, name="李雷", mobile="13700000000")
    make_vehicle(chapter, owner, vin=VIN, plate="京A·12345")
    from tests.factories import make_member

    member = make_member(chapter, owner, by=two_chapters["manager_a"])
    with chapter_scope(chapter.id):
        yield owner.id, member.member_number


@pytest.mark.parametrize("key", ["name", "mobile", "mobile+86", "vin", "plate", "member"])
def test_search_by_each_key_finds_the_owner(searchable, key):
    owner_id, member_number = searchable
    q = {"name": "王", "mobile": "13912345678", "mobile+86": "+86 139-1234-5678",
         "vin": VIN.lower(), "plate": "京a 12345", "member": member_number.lower()}[key]
    assert _found(q) == [owner_id]


def test_search_wildcards_are_taken_literally(searchable):
    assert _found("%") == []
    assert _found("_") == []


def test_search_never_finds_another_chapters_owners(searchable, two_chapters):
    with chapter_scope(two_chapters["b"].id):
        assert _found("王") == []
        assert _found("13912345678") == []


def test_filters_by_advisor_kind_and_vip(two_chapters):
    chapter, staff = two_chapters["a"], two_chapters["staff_a"]
    mine = make_owner(chapter, advisor_id=staff.id, is_vip=True)
    make_owner(chapter, kind="company", name="星徽物流有限公司")
    with chapter_scope(chapter.id):
        def ids(**kw):
            return [o.id for o in db.session.execute(service.owner_query(**kw)).scalars()]

        assert ids(advisor_id=staff.id) == [mine.id]
        assert ids(vip=True) == [mine.id]
        assert len(ids(kind="company")) == 1
        assert mine.id not in ids(advisor_id=0)


# --- reassignment ------------------------------------------------------------------

@pytest.fixture
def advisors(two_chapters):
    chapter = two_chapters["a"]
    leaving = make_user("chapter_staff", chapter=chapter, display_name="离职顾问")
    staying = make_user("chapter_staff", chapter=chapter, display_name="新顾问")
    leaving_ids = [make_owner(chapter, advisor_id=leaving.id).id for _ in range(3)]
    other = make_owner(chapter, advisor_id=two_chapters["staff_a"].id)
    return {"leaving": leaving, "staying": staying, "owners": leaving_ids, "other": other}


def _advisor_of(owner_ids) -> set:
    return set(db.session.execute(
        sa.select(Owner.advisor_id).where(Owner.id.in_(owner_ids))).scalars())


def test_reassign_moves_exactly_the_advisors_owners_and_is_audited(a, advisors, two_chapters):
    moved = service.reassign_advisor(a.id, from_user_id=advisors["leaving"].id,
                                     to_user_id=advisors["staying"].id,
                                     actor=two_chapters["manager_a"])
    db.session.commit()
    assert moved == 3
    assert _advisor_of(advisors["owners"]) == {advisors["staying"].id}
    assert _advisor_of([advisors["other"].id]) == {two_chapters["staff_a"].id}
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "owners_reassigned")).scalar_one()
    assert entry.details["count"] == 3 and entry.details["to"] == advisors["staying"].id
    assert entry.target_id == str(advisors["leaving"].id)


def test_reassign_can_move_only_the_selected_owners(a, advisors):
    first, *rest = advisors["owners"]
    moved = service.reassign_advisor(a.id, from_user_id=advisors["leaving"].id,
                                     to_user_id=advisors["staying"].id,
                                     owner_ids=[first, advisors["other"].id])
    assert moved == 1
    assert _advisor_of([first]) == {advisors["staying"].id}
    assert _advisor_of(rest) == {advisors["leaving"].id}


def test_reassign_does_not_touch_another_chapters_owners(two_chapters, advisors):
    with chapter_scope(two_chapters["b"].id), pytest.raises(ValidationFailed) as exc:
        service.reassign_advisor(two_chapters["b"].id, from_user_id=advisors["leaving"].id,
                                 to_user_id=two_chapters["staff_b"].id)
    assert _fields_of(exc) == {"from_user_id"}


@pytest.mark.parametrize("case, field", [
    ("same", "to_user_id"), ("inactive", "to_user_id"), ("other-chapter", "to_user_id"),
    ("none-ticked", "owner_ids")])
def test_reassign_refuses_a_bad_choice_naming_the_field(a, advisors, two_chapters, case, field):
    target = {"same": advisors["leaving"].id, "inactive": advisors["staying"].id,
              "other-chapter": two_chapters["staff_b"].id,
              "none-ticked": advisors["staying"].id}[case]
    if case == "inactive":
        advisors["staying"].is_active_user = False
        db.session.flush()
    with pytest.raises(ValidationFailed) as exc:
        service.reassign_advisor(a.id, from_user_id=advisors["leaving"].id, to_user_id=target,
                                 owner_ids=[] if case == "none-ticked" else None)
    assert _fields_of(exc) == {field}
    assert _advisor_of(advisors["owners"]) == {advisors["leaving"].id}


# --- vehicles ----------------------------------------------------------------------

@pytest.fixture
def owner(a):
    return service.create_owner(a.id, {"name": "王芳", "mobile": "13800138000"})


@pytest.mark.parametrize("data, field", [
    ({"vin": "LVSHCAMB1CE05424"}, "vin"),
    ({"vin": _bad_check_digit(VIN)}, "vin"),
    ({"vin": "LVSHCAMB1CE05424O"}, "vin"),
    ({"vin": VIN, "delivery_date": "FUTURE"}, "delivery_date"),
    ({"vin": VIN, "purchase_date": "FUTURE"}, "purchase_date"),
    ({"vin": VIN, "purchase_date": "2023-05-01", "delivery_date": "2023-04-01"}, "delivery_date"),
    ({"vin": VIN, "mileage_km": "-5"}, "mileage_km"),
    ({"vin": VIN, "insurance_expiry": "next year"}, "insurance_expiry"),
    ({"vin": VIN, "selling_dealer_id": 999999}, "selling_dealer_id"),
], ids=["vin-length", "vin-check-digit", "vin-letter-o", "future-delivery", "future-purchase",
        "delivery-before-purchase", "negative-mileage", "bad-date", "unknown-dealer"])
def test_bad_vehicle_input_names_its_field(owner, data, field):
    data = {k: (_future() if v == "FUTURE" else v) for k, v in data.items()}
    with pytest.raises(ValidationFailed) as exc:
        service.add_vehicle(owner, data)
    assert field in _fields_of(exc)


def test_a_duplicate_vin_is_a_conflict_naming_vin(owner):
    service.add_vehicle(owner, {"vin": VIN})
    with pytest.raises(Conflict) as exc:
        service.add_vehicle(owner, {"vin": VIN.lower()})
    assert _fields_of(exc) == {"vin"}


def test_a_vehicle_is_stored_normalised_and_makes_the_owner_a_customer(owner):
    vehicle = service.add_vehicle(owner, {"vin": f" {VIN.lower()} ", "plate": "京a·12345",
                                          "delivery_date": "2023/03/15", "mileage_km": "1,200"})
    assert (vehicle.vin, vehicle.plate, vehicle.mileage_km) == (VIN, "京A12345", 1200)
    assert owner.customer_since == date(2023, 3, 15)


def test_moving_the_delivery_after_a_recorded_visit_is_refused(two_chapters):
    chapter = two_chapters["a"]
    vehicle = make_vehicle(chapter, delivery_date=date(2023, 3, 15))
    make_visit(chapter, vehicle, visit_date=date(2023, 4, 1))
    with chapter_scope(chapter.id), pytest.raises(ValidationFailed) as exc:
        service.update_vehicle(service.get_vehicle(vehicle.id), {"delivery_date": "2023-05-01"})
    assert _fields_of(exc) == {"delivery_date"}


# --- visits ------------------------------------------------------------------------

@pytest.fixture
def vehicle(owner):
    return service.add_vehicle(owner, {"vin": VIN, "delivery_date": date(2023, 3, 15),
                                       "mileage_km": 100})


def _visit(**fields):
    data = {"order_no": "WO-1", "visit_date": date(2024, 1, 10), "visit_type": "maintenance",
            "amount": "680.00", "mileage_km": 9000}
    data.update(fields)
    return data


@pytest.mark.parametrize("fields, field", [
    ({"visit_date": date(2023, 3, 1)}, "visit_date"),
    ({"visit_date": "FUTURE"}, "visit_date"),
    ({"visit_date": None}, "visit_date"),
    ({"visit_type": "car_wash"}, "visit_type"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "1.005"}, "amount"),
    ({"order_no": " "}, "order_no"),
    ({"mileage_km": "many"}, "mileage_km"),
], ids=["before-delivery", "future", "missing-date", "type", "amount-text", "amount-negative",
        "amount-decimals", "order-no", "mileage"])
def test_bad_visit_input_names_its_field(vehicle, fields, field):
    fields = {k: (_future() if v == "FUTURE" else v) for k, v in fields.items()}
    with pytest.raises(ValidationFailed) as exc:
        service.add_visit(vehicle, _visit(**fields))
    assert field in _fields_of(exc)
    assert db.session.execute(sa.select(ServiceVisit)).first() is None


def test_a_visit_before_the_delivery_is_refused_with_the_delivery_date(vehicle):
    with pytest.raises(ValidationFailed) as exc:
        service.add_visit(vehicle, _visit(visit_date=date(2023, 3, 14)))
    assert "2023-03-15" in str(exc.value.fields["visit_date"][0])


def test_a_duplicate_work_order_is_a_conflict_naming_order_no(vehicle):
    service.add_visit(vehicle, _visit())
    with pytest.raises(Conflict) as exc:
        service.add_visit(vehicle, _visit(visit_date=date(2024, 2, 1)))
    assert _fields_of(exc) == {"order_no"}


def test_a_visit_keeps_yuan_as_fen_and_updates_the_mileage(vehicle):
    visit = service.add_visit(vehicle, _visit(amount="1,234.50", mileage_km="9,000"))
    assert visit.amount_fen == 123450
    assert visit.owner_id == vehicle.owner_id
    assert vehicle.mileage_km == 9000
    assert [v.id for v in service.owner_visits(vehicle.owner)] == [visit.id]


def test_memberships_report_an_owners_pending_application(two_chapters):
    from chapter.recruitment import service as recruitment

    chapter = two_chapters["a"]
    owner = make_owner(chapter, id_number=make_id_number(random.Random(3), date(1985, 5, 5),
                                                         "male"))
    with chapter_scope(chapter.id):
        recruitment.submit_application(service.get_owner(owner.id), source="showroom",
                                       actor=two_chapters["staff_a"])
        db.session.flush()
        status = service.memberships([owner.id])[owner.id]
    assert (status.member_number, status.application_status) == (None, "pending")
