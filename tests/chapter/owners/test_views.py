"""The owner pages: search, owner card, forms with field errors, reveal, reassignment."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from chapter.owners.models import Owner, ServiceVisit, Vehicle
from clubplatform import dates
from clubplatform.audit.models import AuditLog
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_id_number, make_vin
from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.factories import make_member, make_owner, make_user

ID_NUMBER = "11010519491231002X"
VIN = make_vin(random.Random(7))
URL = "/chapter/owners"


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _field_errors(resp) -> set[str]:
    import re

    return set(re.findall(r'data-field-error="([a-z_]+)"', _text(resp)))


def _fresh():
    """Forget what the test's session holds: the requests wrote in their own sessions."""
    db.session.expire_all()


def _count(model, **where) -> int:
    with chapter_scope(where.pop("chapter_id")):
        stmt = sa.select(sa.func.count()).select_from(model).filter_by(**where)
        return db.session.execute(stmt).scalar()


@pytest.fixture
def manager(two_chapters, login_as):
    login_as(two_chapters["manager_a"])
    return two_chapters["manager_a"]


@pytest.fixture
def staff(two_chapters, login_as):
    login_as(two_chapters["staff_a"])
    return two_chapters["staff_a"]


def _owner_form(**fields) -> dict:
    data = {"kind": "individual", "name": "王芳", "gender": "", "mobile": "13800138000",
            "id_number": "", "birthday": "", "occupation": "", "address": "", "postal_code": "",
            "work_address": "", "email": "", "hobbies": "", "advisor_id": "0"}
    data.update(fields)
    return data


# --- the list and search -----------------------------------------------------------

def test_the_list_shows_masked_id_advisor_and_member_number(client, two_chapters, manager):
    chapter, staff_a = two_chapters["a"], two_chapters["staff_a"]
    owner = make_owner(chapter, name="王芳", id_number=ID_NUMBER, advisor_id=staff_a.id)
    member = make_member(chapter, owner, by=manager)
    page = _text(client.get(f"{URL}/"))
    assert "1101**********002X" in page and ID_NUMBER not in page
    assert staff_a.display_name in page
    assert member.member_number in page


@pytest.mark.parametrize("key", ["name", "mobile", "plate", "vin", "member"])
def test_the_search_box_finds_an_owner_by_each_key(client, two_chapters, manager, key):
    chapter = two_chapters["a"]
    owner = make_owner(chapter, name="王芳", mobile="13912345678")
    other = make_owner(chapter, name="李雷")
    make_vehicle(chapter, owner, vin=VIN, plate="沪B54321")
    member = make_member(chapter, owner, by=manager)
    q = {"name": "王", "mobile": "139 1234 5678", "plate": "沪B54321", "vin": VIN,
         "member": member.member_number}[key]
    page = _text(client.get(f"{URL}/", query_string={"q": q}))
    assert f'data-owner-id="{owner.id}"' in page
    assert f'data-owner-id="{other.id}"' not in page


def test_the_list_filters_by_advisor(client, two_chapters, manager):
    chapter, staff_a = two_chapters["a"], two_chapters["staff_a"]
    mine = make_owner(chapter, advisor_id=staff_a.id)
    other = make_owner(chapter)
    page = _text(client.get(f"{URL}/", query_string={"advisor": staff_a.id}))
    assert f'data-owner-id="{mine.id}"' in page and f'data-owner-id="{other.id}"' not in page


def test_the_list_is_paginated(client, two_chapters, manager):
    for i in range(32):
        make_owner(two_chapters["a"], name=f"车主{i:02d}")
    first = _text(client.get(f"{URL}/"))
    second = _text(client.get(f"{URL}/", query_string={"page": 2}))
    assert first.count("data-owner-id=") == 30 and second.count("data-owner-id=") == 2


# --- creating and editing owners ---------------------------------------------------

def test_creating_an_owner_opens_their_card(client, two_chapters, staff):
    resp = client.post(f"{URL}/new", data=_owner_form(
        id_number=ID_NUMBER, hobbies="自驾游、摄影", advisor_id=str(staff.id), is_vip="y"))
    assert resp.status_code == 302
    with chapter_scope(two_chapters["a"].id):
        owner = db.session.execute(sa.select(Owner)).scalar_one()
        assert (owner.hobbies, owner.advisor_id, owner.is_vip) == (["自驾游", "摄影"], staff.id, True)
        assert owner.birthday == date(1949, 12, 31)
    assert resp.headers["Location"].endswith(f"{URL}/{owner.id}")


@pytest.mark.parametrize("fields, field", [
    ({"mobile": "1380013800"}, "mobile"),
    ({"id_number": "110105194912310021"}, "id_number"),
    ({"id_number": ID_NUMBER, "birthday": "1950-01-01"}, "birthday"),
    ({"birthday": (dates.today() + timedelta(days=3)).isoformat()}, "birthday"),
    ({"email": "nobody", "name": ""}, "email"),
], ids=["mobile", "id-checksum", "birthday-vs-id", "future-birthday", "email"])
def test_a_bad_owner_field_is_shown_next_to_it(client, two_chapters, staff, fields, field):
    resp = client.post(f"{URL}/new", data=_owner_form(**fields))
    assert resp.status_code == 422
    assert field in _field_errors(resp)
    assert _count(Owner, chapter_id=two_chapters["a"].id) == 0


def test_a_duplicate_mobile_is_shown_next_to_the_mobile(client, two_chapters, staff):
    make_owner(two_chapters["a"], mobile="13800138000")
    resp = client.post(f"{URL}/new", data=_owner_form())
    assert resp.status_code == 422
    assert _field_errors(resp) == {"mobile"}


@pytest.mark.parametrize("locale, expected", [("zh_Hans_CN", "请输入 11 位大陆手机号。"),
                                              ("en", "Enter an 11-digit mainland mobile number.")])
def test_field_errors_speak_the_users_language(client, two_chapters, login_as, locale, expected):
    login_as(make_user("chapter_staff", chapter=two_chapters["a"], locale=locale))
    resp = client.post(f"{URL}/new", data=_owner_form(mobile="138"))
    assert expected in _text(resp)


def test_editing_keeps_the_id_number_when_left_empty(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"], name="王芳", id_number=ID_NUMBER)
    form = _text(client.get(f"{URL}/{owner.id}/edit"))
    assert ID_NUMBER not in form and "1101**********002X" in form
    resp = client.post(f"{URL}/{owner.id}/edit", data=_owner_form(
        name="王芳芳", mobile=owner.mobile, birthday="1949-12-31", gender="female"))
    assert resp.status_code == 302
    _fresh()
    with chapter_scope(two_chapters["a"].id):
        saved = db.session.execute(sa.select(Owner)).scalar_one()
        assert (saved.name, saved.id_number_masked) == ("王芳芳", "1101**********002X")


def test_a_new_id_number_on_an_edit_replaces_the_birthday_the_form_still_shows(
        client, two_chapters, staff):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    new_id = make_id_number(random.Random(5), date(1988, 8, 8), "male")
    resp = client.post(f"{URL}/{owner.id}/edit", data=_owner_form(
        mobile=owner.mobile, id_number=new_id, birthday="1949-12-31", gender="female"))
    assert resp.status_code == 302
    _fresh()
    with chapter_scope(two_chapters["a"].id):
        saved = db.session.execute(sa.select(Owner)).scalar_one()
        assert (saved.birthday, saved.gender) == (date(1988, 8, 8), "male")


def test_an_advisor_who_left_stays_on_an_owner_edited_for_something_else(
        client, two_chapters, staff):
    gone = make_user("chapter_staff", chapter=two_chapters["a"])
    owner = make_owner(two_chapters["a"], advisor_id=gone.id)
    gone.is_active_user = False
    db.session.commit()
    resp = client.post(f"{URL}/{owner.id}/edit", data=_owner_form(
        mobile=owner.mobile, advisor_id=str(gone.id), occupation="医生"))
    assert resp.status_code == 302


# --- the owner card and the reveal -------------------------------------------------

def test_the_card_shows_vehicles_visits_and_a_masked_id(client, two_chapters, staff):
    chapter = two_chapters["a"]
    owner = make_owner(chapter, name="王芳", id_number=ID_NUMBER)
    vehicle = make_vehicle(chapter, owner, vin=VIN, plate="京A12345")
    make_visit(chapter, vehicle, order_no="WO-778", amount="1234.50")
    page = _text(client.get(f"{URL}/{owner.id}"))
    assert VIN in page and "京A12345" in page
    assert "WO-778" in page and "1,234.50" in page
    assert "data-masked-id" in page and ID_NUMBER not in page
    assert f"{URL}/{owner.id}/reveal" not in page


def test_the_manager_sees_the_full_id_once_and_the_reveal_is_audited(client, two_chapters,
                                                                       manager):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    card = _text(client.get(f"{URL}/{owner.id}"))
    assert f"{URL}/{owner.id}/reveal" in card
    revealed = client.post(f"{URL}/{owner.id}/reveal")
    assert revealed.status_code == 200 and ID_NUMBER in _text(revealed)
    assert ID_NUMBER not in _text(client.get(f"{URL}/{owner.id}"))
    entry = db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).scalar_one()
    assert (entry.actor_id, entry.target_id) == (manager.id, str(owner.id))


def test_staff_may_not_reveal(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"], id_number=ID_NUMBER)
    resp = client.post(f"{URL}/{owner.id}/reveal")
    assert resp.status_code == 403 and ID_NUMBER not in _text(resp)
    assert db.session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal")).first() is None


@pytest.mark.parametrize("path", ["{o}", "{o}/edit", "{o}/vehicles/new", "vehicles/{v}/edit",
                                  "vehicles/{v}/visits/new"])
def test_chapter_b_staff_get_404_for_chapter_a_pages(client, two_chapters, login_as, path):
    vehicle = make_vehicle(two_chapters["a"])
    login_as(two_chapters["staff_b"])
    url = f"{URL}/" + path.format(o=vehicle.owner_id, v=vehicle.id)
    assert client.get(url).status_code == 404
    if path != "{o}":
        assert client.post(url, data={}).status_code == 404


# --- vehicles and visits -----------------------------------------------------------

def _vehicle_form(**fields) -> dict:
    data = {"vin": VIN, "plate": "京A12345", "model": "GLC", "colour": "白",
            "purchase_date": "2023-03-01", "delivery_date": "2023-03-15",
            "insurance_expiry": "2026-03-14", "next_inspection_on": "2027-03-15",
            "mileage_km": "100"}
    data.update(fields)
    return data


def test_adding_a_vehicle_returns_to_the_owner(client, two_chapters, staff):
    owner = make_owner(two_chapters["a"])
    resp = client.post(f"{URL}/{owner.id}/vehicles/new", data=_vehicle_form())
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{URL}/{owner.id}")
    assert _count(Vehicle, chapter_id=two_chapters["a"].id, vin=VIN) == 1


@pytest.mark.parametrize("fields, field", [
    ({"vin": VIN[:8] + ("1" if VIN[8] != "1" else "2") + VIN[9:]}, "vin"),
    ({"delivery_date": (dates.today() + timedelta(days=2)).isoformat()}, "delivery_date"),
    ({"purchase_date": "2023-04-01"}, "delivery_date"),
], ids=["vin-check-digit", "future-delivery", "delivery-before-purchase"])
def test_a_bad_vehicle_field_is_shown_next_to_it(client, two_chapters, staff, fields, field):
    owner = make_owner(two_chapters["a"])
    resp = client.post(f"{URL}/{owner.id}/vehicles/new", data=_vehicle_form(**fields))
    assert resp.status_code == 422
    assert field in _field_errors(resp)


def test_a_duplicate_vin_is_shown_next_to_the_vin(client, two_chapters, staff):
    make_vehicle(two_chapters["a"], vin=VIN)
    owner = make_owner(two_chapters["a"])
    resp = client.post(f"{URL}/{owner.id}/vehicles/new", data=_vehicle_form())
    assert resp.status_code == 422
    assert _field_errors(resp) == {"vin"}


def test_editing_a_vehicle_saves_it(client, two_chapters, staff):
    vehicle = make_vehicle(two_chapters["a"], vin=VIN)
    resp = client.post(f"{URL}/vehicles/{vehicle.id}/edit",
                       data=_vehicle_form(plate="京B 99999", mileage_km="20000"))
    assert resp.status_code == 302
    _fresh()
    with chapter_scope(two_chapters["a"].id):
        saved = db.session.execute(sa.select(Vehicle)).scalar_one()
        assert (saved.plate, saved.mileage_km) == ("京B99999", 20000)


def _visit_form(**fields) -> dict:
    data = {"order_no": "WO-1", "visit_date": "2024-01-10", "visit_type": "first_service",
            "amount": "0", "mileage_km": "5000"}
    data.update(fields)
    return data


def test_recording_a_visit_shows_it_on_the_card(client, two_chapters, login_as):
    login_as(make_user("chapter_staff", chapter=two_chapters["a"], locale="en"))
    vehicle = make_vehicle(two_chapters["a"], delivery_date=date(2023, 3, 15))
    resp = client.post(f"{URL}/vehicles/{vehicle.id}/visits/new",
                       data=_visit_form(visit_type="body_paint", amount="2,680.5"))
    assert resp.status_code == 302
    card = _text(client.get(f"{URL}/{vehicle.owner_id}"))
    assert "WO-1" in card and "Body and paint" in card and "2,680.50" in card


@pytest.mark.parametrize("fields, field", [
    ({"visit_date": "2023-03-01"}, "visit_date"),
    ({"visit_type": ""}, "visit_type"),
    ({"amount": "six hundred"}, "amount"),
], ids=["before-delivery", "type", "amount"])
def test_a_bad_visit_field_is_shown_next_to_it(client, two_chapters, staff, fields, field):
    vehicle = make_vehicle(two_chapters["a"], delivery_date=date(2023, 3, 15))
    resp = client.post(f"{URL}/vehicles/{vehicle.id}/visits/new", data=_visit_form(**fields))
    assert resp.status_code == 422
    assert field in _field_errors(resp)
    assert _count(ServiceVisit, chapter_id=two_chapters["a"].id) == 0


def test_the_visit_form_offers_every_visit_type(client, two_chapters, login_as):
    login_as(make_user("chapter_staff", chapter=two_chapters["a"], locale="en"))
    vehicle = make_vehicle(two_chapters["a"])
    page = _text(client.get(f"{URL}/vehicles/{vehicle.id}/visits/new"))
    for label in ("First service", "Maintenance", "Warranty claim", "Minor repair",
                  "Major repair", "Insurance repair", "Body and paint", "Accessories",
                  "Insurance renewal", "Annual inspection service"):
        assert label in page


# --- reassignment ------------------------------------------------------------------

@pytest.fixture
def leaving(two_chapters):
    chapter = two_chapters["a"]
    advisor = make_user("chapter_staff", chapter=chapter, display_name="离职顾问")
    owners = [make_owner(chapter, advisor_id=advisor.id).id for _ in range(3)]
    return advisor, owners


def _advisors(chapter_id, owner_ids) -> list:
    _fresh()
    with chapter_scope(chapter_id):
        return list(db.session.execute(sa.select(Owner.advisor_id).where(
            Owner.id.in_(owner_ids)).order_by(Owner.id)).scalars())


def test_the_reassign_page_is_for_managers_only(client, staff):
    assert client.get(f"{URL}/reassign").status_code == 403
    assert client.post(f"{URL}/reassign", data={}).status_code == 403


def test_the_manager_moves_all_of_a_leaving_advisors_owners(client, two_chapters, manager,
                                                            leaving):
    advisor, owner_ids = leaving
    kept = make_owner(two_chapters["a"], advisor_id=manager.id)
    manager.locale = "en"
    db.session.commit()
    page = _text(client.get(f"{URL}/reassign", query_string={"from": advisor.id}))
    assert page.count('name="owner_ids"') == 3
    resp = client.post(f"{URL}/reassign", data={
        "from_user_id": advisor.id, "to_user_id": two_chapters["staff_a"].id, "scope": "all"},
        follow_redirects=True)
    assert resp.status_code == 200
    assert "3 owners moved from 离职顾问" in _text(resp)
    assert "data-no-owners" in _text(resp)
    assert _advisors(two_chapters["a"].id, owner_ids) == [two_chapters["staff_a"].id] * 3
    assert _advisors(two_chapters["a"].id, [kept.id]) == [manager.id]
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "owners_reassigned")).scalar_one()
    assert entry.details["count"] == 3


def test_the_manager_can_move_only_the_ticked_owners(client, two_chapters, manager, leaving):
    advisor, owner_ids = leaving
    resp = client.post(f"{URL}/reassign", data={
        "from_user_id": advisor.id, "to_user_id": manager.id, "scope": "selected",
        "owner_ids": owner_ids[:2]})
    assert resp.status_code == 302
    assert _advisors(two_chapters["a"].id, owner_ids) == [manager.id, manager.id, advisor.id]


def test_moving_to_the_same_advisor_is_shown_next_to_the_new_advisor(client, manager, leaving):
    advisor, _ = leaving
    resp = client.post(f"{URL}/reassign", data={
        "from_user_id": advisor.id, "to_user_id": advisor.id, "scope": "all"})
    assert resp.status_code == 422
    assert _field_errors(resp) == {"to_user_id"}


# --- on a phone --------------------------------------------------------------------

@pytest.mark.browser
def test_owner_pages_fit_a_phone_screen(app, two_chapters, browser, live_url):
    """At 390 px the list and the card need no sideways scrolling (screenshots kept)."""
    from tests.platform.test_browser import ARTIFACTS, PASSWORD

    chapter = two_chapters["a"]
    owner = make_owner(chapter, name="王芳", id_number=ID_NUMBER, advisor_id=two_chapters[
        "staff_a"].id, address="上海市黄浦区南京东路 100 号", hobbies=["自驾游", "摄影"])
    vehicle = make_vehicle(chapter, owner, vin=VIN, plate="沪A12345")
    make_visit(chapter, vehicle, order_no="WO-2024-0001", amount="1280.00")
    make_member(chapter, owner, by=two_chapters["manager_a"])
    username, owner_id = two_chapters["manager_a"].username, owner.id
    advisor_id = two_chapters["staff_a"].id
    db.session.rollback()  # end the read transaction: the server thread writes next
    context = browser.new_context(base_url=live_url, locale="zh-CN",
                                  viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("[data-testid=login]")
        page.wait_for_url("**/chapter/")
        ARTIFACTS.mkdir(exist_ok=True)
        for name, path in (("owners-list-phone", f"{URL}/?q=王"),
                           ("owner-card-phone", f"{URL}/{owner_id}"),
                           ("owner-form-phone", f"{URL}/{owner_id}/edit"),
                           ("owners-reassign-phone", f"{URL}/reassign?from={advisor_id}")):
            assert page.goto(path).status == 200
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{path} is {width}px wide on a 390px phone"
        page.click("[data-tick=none]")
        assert page.is_checked('input[name="scope"][value="selected"]')
        assert [e for e in errors if "favicon" not in e] == []
    finally:
        context.close()
