"""The owners API: search, owners, vehicles, visits, reveal, reassignment; roles and tenancy."""

from __future__ import annotations

import json
import random
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.owners.models import Owner
from clubplatform.audit.models import AuditLog
from clubplatform.auth import service as auth
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_vin
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.factories import make_owner, make_user

API = "/api/v1/chapter/owners"
ID_NUMBER = "11010519491231002X"
VIN = make_vin(random.Random(11))
SECRET_KEYS = {"id_number", "id_number_enc", "id_number_digest"}


@pytest.fixture
def bearer(db):
    def _bearer(user) -> dict:
        _, plain = auth.create_token(user, "test", days=1)
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return _bearer


@pytest.fixture
def staff(two_chapters, bearer):
    return bearer(two_chapters["staff_a"])


@pytest.fixture
def manager(two_chapters, bearer):
    return bearer(two_chapters["manager_a"])


def _error_fields(resp) -> set[str]:
    return set(resp.get_json()["error"]["fields"])


# --- owners ------------------------------------------------------------------------

def test_the_owner_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {API, f"{API}/{{owner_id}}", f"{API}/{{owner_id}}/reveal",
            f"{API}/{{owner_id}}/vehicles", f"{API}/vehicles/{{vehicle_id}}",
            f"{API}/vehicles/{{vehicle_id}}/visits", f"{API}/reassign"} <= set(paths)


def test_creating_an_owner_answers_201_without_the_id_number(client, staff):
    r = client.post(API, headers=staff, json={"name": "王芳", "mobile": "+86 138-0013-8000",
                                               "id_number": ID_NUMBER, "hobbies": ["摄影"]})
    assert r.status_code == 201
    body = r.get_json()
    assert (body["mobile"], body["id_number_masked"], body["birthday"], body["gender"]) == (
        "13800138000", "1101**********002X", "1949-12-31", "female")
    assert not SECRET_KEYS & set(body)
    assert ID_NUMBER not in r.get_data(as_text=True)


def test_owner_json_never_carries_the_id_number(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    for url in (API, f"{API}/{owner.id}"):
        r = client.get(url, headers=staff)
        assert r.status_code == 200
        assert ID_NUMBER not in r.get_data(as_text=True)
    assert not SECRET_KEYS & set(client.get(f"{API}/{owner.id}", headers=staff).get_json())


@pytest.mark.parametrize("data, field", [
    ({"name": "王芳", "mobile": "12345"}, "mobile"),
    ({"name": "王芳", "id_number": "110105194912310021"}, "id_number"),
    ({"name": "王芳", "id_number": ID_NUMBER, "birthday": "1950-01-01"}, "birthday"),
    ({"name": "王芳", "birthday": "2999-01-01"}, "birthday"),
    ({"name": "王芳", "birthday": "yesterday"}, "birthday"),
    ({"mobile": "13800138000"}, "name"),
], ids=["mobile", "id-checksum", "birthday-vs-id", "future-birthday", "not-a-date", "no-name"])
def test_bad_owner_input_answers_422_naming_the_field(client, staff, data, field):
    r = client.post(API, headers=staff, json=data)
    assert r.status_code == 422
    assert field in _error_fields(r)


def test_a_duplicate_mobile_answers_409_naming_mobile(client, two_chapters, staff):
    make_owner(two_chapters["a"], mobile="13800138000")
    r = client.post(API, headers=staff, json={"name": "王芳", "mobile": "13800138000"})
    assert r.status_code == 409
    assert _error_fields(r) == {"mobile"}


def test_the_list_searches_and_pages(client, two_chapters, staff):
    for i in range(4):
        make_owner(two_chapters["a"], name=f"王{i}")
    make_owner(two_chapters["a"], name="李雷")
    r = client.get(API, headers=staff, query_string={"q": "王", "page": 2, "page_size": 3})
    assert r.status_code == 200
    assert [o["name"] for o in r.get_json()] == ["王3"]
    assert json.loads(r.headers["X-Pagination"])["total"] == 4


def test_the_list_finds_an_owner_by_vin_and_plate(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"])
    make_vehicle(two_chapters["a"], owner, vin=VIN, plate="粤B12345")
    for q in (VIN, "粤B12345"):
        assert [o["id"] for o in client.get(API, headers=staff,
                                            query_string={"q": q}).get_json()] == [owner.id]


def test_patching_an_owner_changes_only_the_fields_sent(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"], name="王芳", id_number=ID_NUMBER, occupation="教师")
    r = client.patch(f"{API}/{owner.id}", headers=staff,
                     json={"is_vip": True, "hobbies": ["自驾游"]})
    assert r.status_code == 200
    body = r.get_json()
    assert (body["is_vip"], body["hobbies"], body["occupation"], body["id_number_masked"]) == (
        True, ["自驾游"], "教师", "1101**********002X")


def test_patching_the_birthday_against_the_id_on_record_names_birthday(client, two_chapters,
                                                                       staff):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    r = client.patch(f"{API}/{owner.id}", headers=staff, json={"birthday": "1970-01-01"})
    assert r.status_code == 422
    assert _error_fields(r) == {"birthday"}


# --- reveal ------------------------------------------------------------------------

def test_the_manager_reveals_an_id_number_and_it_is_audited(client, two_chapters, manager):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    r = client.post(f"{API}/{owner.id}/reveal", headers=manager)
    assert r.status_code == 200
    assert r.get_json() == {"id": owner.id, "id_number": ID_NUMBER}
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).scalar_one()
    assert (entry.actor_id, entry.target_id) == (two_chapters["manager_a"].id, str(owner.id))


def test_staff_get_403_for_a_reveal_and_nothing_is_audited(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    r = client.post(f"{API}/{owner.id}/reveal", headers=staff)
    assert r.status_code == 403
    assert ID_NUMBER not in r.get_data(as_text=True)
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).first() is None


# --- vehicles and visits -----------------------------------------------------------

def test_adding_and_listing_an_owners_vehicles(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"])
    r = client.post(f"{API}/{owner.id}/vehicles", headers=staff, json={
        "vin": VIN.lower(), "plate": "京A 12345", "delivery_date": "2023-03-15",
        "insurance_expiry": "2026-03-14"})
    assert r.status_code == 201
    assert (r.get_json()["vin"], r.get_json()["plate"]) == (VIN, "京A12345")
    listed = client.get(f"{API}/{owner.id}/vehicles", headers=staff).get_json()
    assert [v["vin"] for v in listed] == [VIN]


def test_a_duplicate_vin_answers_409_naming_vin(client, two_chapters, staff):
    make_vehicle(two_chapters["a"], vin=VIN)
    owner = make_owner(two_chapters["a"])
    r = client.post(f"{API}/{owner.id}/vehicles", headers=staff, json={"vin": VIN})
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"
    assert _error_fields(r) == {"vin"}


@pytest.mark.parametrize("data, field", [
    ({"vin": VIN[:8] + ("1" if VIN[8] != "1" else "2") + VIN[9:]}, "vin"),
    ({"vin": VIN, "delivery_date": "2999-01-01"}, "delivery_date"),
    ({}, "vin"),
], ids=["check-digit", "future-delivery", "missing-vin"])
def test_bad_vehicle_input_answers_422_naming_the_field(client, two_chapters, staff, data,
                                                        field):
    owner = make_owner(two_chapters["a"])
    r = client.post(f"{API}/{owner.id}/vehicles", headers=staff, json=data)
    assert r.status_code == 422
    assert field in _error_fields(r)


def test_patching_a_vehicle(client, two_chapters, staff):
    vehicle = make_vehicle(two_chapters["a"])
    r = client.patch(f"{API}/vehicles/{vehicle.id}", headers=staff,
                     json={"next_inspection_on": "2027-03-15", "mileage_km": 30000})
    assert r.status_code == 200
    assert (r.get_json()["next_inspection_on"], r.get_json()["mileage_km"]) == (
        "2027-03-15", 30000)


def test_recording_and_listing_a_vehicles_visits(client, two_chapters, staff):
    vehicle = make_vehicle(two_chapters["a"], delivery_date=date(2023, 3, 15))
    make_visit(two_chapters["a"], vehicle, visit_date=date(2023, 9, 1))
    r = client.post(f"{API}/vehicles/{vehicle.id}/visits", headers=staff, json={
        "order_no": "WO-9", "visit_date": "2024-03-01", "visit_type": "first_service",
        "amount": 1234.5, "mileage_km": 5000})
    assert r.status_code == 201
    assert (r.get_json()["amount_fen"], r.get_json()["amount"]) == (123450, "1234.50")
    listed = client.get(f"{API}/vehicles/{vehicle.id}/visits", headers=staff).get_json()
    assert [v["order_no"] for v in listed][0] == "WO-9" and len(listed) == 2


def test_a_visit_before_the_delivery_is_refused(client, two_chapters, staff):
    vehicle = make_vehicle(two_chapters["a"], delivery_date=date(2023, 3, 15))
    r = client.post(f"{API}/vehicles/{vehicle.id}/visits", headers=staff, json={
        "order_no": "WO-1", "visit_date": "2023-03-01", "visit_type": "maintenance"})
    assert r.status_code == 422
    assert _error_fields(r) == {"visit_date"}


def test_a_duplicate_work_order_answers_409_naming_order_no(client, two_chapters, staff):
    vehicle = make_vehicle(two_chapters["a"])
    make_visit(two_chapters["a"], vehicle, order_no="WO-1")
    r = client.post(f"{API}/vehicles/{vehicle.id}/visits", headers=staff, json={
        "order_no": "WO-1", "visit_date": "2024-06-01", "visit_type": "maintenance"})
    assert r.status_code == 409
    assert _error_fields(r) == {"order_no"}


# --- reassignment ------------------------------------------------------------------

def test_the_manager_reassigns_an_advisors_owners(client, two_chapters, manager):
    chapter = two_chapters["a"]
    leaving = make_user("chapter_staff", chapter=chapter)
    moved_ids = [make_owner(chapter, advisor_id=leaving.id).id for _ in range(2)]
    other = make_owner(chapter, advisor_id=two_chapters["manager_a"].id)
    r = client.post(f"{API}/reassign", headers=manager, json={
        "from_user_id": leaving.id, "to_user_id": two_chapters["staff_a"].id})
    assert r.status_code == 200 and r.get_json() == {"moved": 2}
    db.session.expire_all()
    with chapter_scope(chapter.id):
        advisors = dict(db.session.execute(sa.select(Owner.id, Owner.advisor_id)).all())
    assert {advisors[i] for i in moved_ids} == {two_chapters["staff_a"].id}
    assert advisors[other.id] == two_chapters["manager_a"].id
    assert db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "owners_reassigned")).scalar_one()


def test_staff_get_403_for_reassign(client, two_chapters, staff):
    r = client.post(f"{API}/reassign", headers=staff, json={
        "from_user_id": two_chapters["manager_a"].id, "to_user_id": two_chapters["staff_a"].id})
    assert r.status_code == 403


# --- who may call ------------------------------------------------------------------

@pytest.mark.parametrize("role", ["hq_admin", "hq_analyst"])
def test_other_roles_get_403(client, bearer, role):
    assert client.get(API, headers=bearer(make_user(role))).status_code == 403


def test_chapter_b_gets_404_for_chapter_a_objects(client, two_chapters, bearer):
    vehicle = make_vehicle(two_chapters["a"])
    b = bearer(two_chapters["staff_b"])
    owner_id = vehicle.owner_id
    assert client.get(f"{API}/{owner_id}", headers=b).status_code == 404
    assert client.patch(f"{API}/{owner_id}", headers=b, json={"name": "x"}).status_code == 404
    assert client.post(f"{API}/{owner_id}/vehicles", headers=b, json={}).status_code == 404
    assert client.post(f"{API}/vehicles/{vehicle.id}/visits", headers=b,
                       json={}).status_code == 404
    assert client.get(API, headers=b).get_json() == []
