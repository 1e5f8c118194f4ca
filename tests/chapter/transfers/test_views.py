"""Chapter transfer pages: ask, approve, reject, withdraw; nothing of other chapters leaks."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform.extensions import db
from hq.members.models import Transfer
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_chapter

JOINED = date(2024, 1, 10)


def _transfer(transfer_id: int) -> Transfer:
    return db.session.execute(sa.select(Transfer).where(Transfer.id == transfer_id)
                              .execution_options(populate_existing=True)).scalar_one()


def test_asking_for_a_member_elsewhere_and_for_nobody_look_the_same(client, login_as,
                                                                    two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    staff_b = login_as(two_chapters["staff_b"])
    found = staff_b.post("/chapter/transfers/new",
                         data={"mobile": load_member(member_id).mobile, "reason": "搬家"})
    nobody = staff_b.post("/chapter/transfers/new", data={"mobile": "13900009999", "reason": "搬家"})
    assert (found.status_code, found.location) == (nobody.status_code, nobody.location)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Transfer)).scalar_one() == 1


def test_the_request_page_shows_no_data_of_the_other_chapter(client, login_as, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED, name="吴十")
    staff_b = login_as(two_chapters["staff_b"])
    staff_b.post("/chapter/transfers/new", data={"mobile": load_member(member_id).mobile})
    transfer_id = db.session.execute(sa.select(Transfer.id)).scalar_one()
    for url in ("/chapter/transfers/", f"/chapter/transfers/{transfer_id}"):
        html = staff_b.get(url).get_data(as_text=True)
        assert "吴十" not in html and two_chapters["a"].name not in html
        assert load_member(member_id).member_number not in html
        assert "吴*" in html


def test_an_invalid_mobile_is_shown_on_the_form(client, login_as, two_chapters):
    resp = login_as(two_chapters["staff_b"]).post("/chapter/transfers/new",
                                                  data={"mobile": "1234"})
    assert resp.status_code == 422
    assert 'data-field-error="mobile"' in resp.get_data(as_text=True)


def test_the_receiving_manager_approves_on_the_page(client, login_as, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED, name="郑十一")
    transfer = make_transfer(member_id, two_chapters["b"])
    manager_b = login_as(two_chapters["manager_b"])
    resp = manager_b.post(f"/chapter/transfers/{transfer.id}/approve")
    assert resp.status_code == 302
    assert _transfer(transfer.id).status == "approved"
    assert load_member(member_id).chapter_id == two_chapters["b"].id
    html = manager_b.get(f"/chapter/transfers/{transfer.id}").get_data(as_text=True)
    assert "郑十一" in html and two_chapters["a"].name in html


def test_receiving_staff_cannot_approve(client, login_as, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = login_as(two_chapters["staff_b"]).post(f"/chapter/transfers/{transfer.id}/approve")
    assert resp.status_code == 403
    assert _transfer(transfer.id).status == "requested"


def test_the_sending_manager_cannot_approve(client, login_as, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = login_as(two_chapters["manager_a"]).post(f"/chapter/transfers/{transfer.id}/approve")
    assert resp.status_code == 403


def test_a_rejection_without_a_reason_is_refused_on_the_page(client, login_as, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = login_as(two_chapters["manager_b"]).post(f"/chapter/transfers/{transfer.id}/reject",
                                                    data={"note": ""})
    assert resp.status_code == 422
    assert _transfer(transfer.id).status == "requested"


def test_the_receiving_manager_rejects_with_a_reason(client, login_as, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = login_as(two_chapters["manager_b"]).post(f"/chapter/transfers/{transfer.id}/reject",
                                                    data={"note": "不在服务范围"})
    assert resp.status_code == 302
    assert _transfer(transfer.id).decision_note == "不在服务范围"


def test_the_sending_chapter_asks_for_its_member_to_move(client, login_as, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    resp = login_as(two_chapters["staff_a"]).post(
        f"/chapter/transfers/out/{member_id}",
        data={"to_chapter_id": two_chapters["b"].id, "reason": "工作调动"})
    assert resp.status_code == 302
    transfer = db.session.execute(sa.select(Transfer)).scalar_one()
    assert (transfer.from_chapter_id, transfer.to_chapter_id) == (two_chapters["a"].id,
                                                                  two_chapters["b"].id)


def test_the_outgoing_form_needs_a_destination(client, login_as, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    resp = login_as(two_chapters["staff_a"]).post(f"/chapter/transfers/out/{member_id}",
                                                  data={"to_chapter_id": 0})
    assert resp.status_code == 422
    assert 'data-field-error="to_chapter_id"' in resp.get_data(as_text=True)


def test_another_chapters_member_cannot_be_sent_away(client, login_as, two_chapters):
    member_id = make_member_since(two_chapters["a"], JOINED)
    resp = login_as(two_chapters["manager_b"]).get(f"/chapter/transfers/out/{member_id}")
    assert resp.status_code == 404


def test_the_sending_manager_withdraws_a_request(client, login_as, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), two_chapters["b"])
    resp = login_as(two_chapters["manager_a"]).post(f"/chapter/transfers/{transfer.id}/cancel")
    assert resp.status_code == 302
    assert _transfer(transfer.id).status == "cancelled"


def test_a_chapter_not_involved_gets_404(client, login_as, two_chapters):
    transfer = make_transfer(make_member_since(two_chapters["a"], JOINED), make_chapter())
    assert login_as(two_chapters["manager_b"]).get(
        f"/chapter/transfers/{transfer.id}").status_code == 404


def test_the_list_shows_incoming_and_outgoing(client, login_as, two_chapters):
    out = make_transfer(make_member_since(two_chapters["a"], JOINED, name="出去"), make_chapter())
    elsewhere = make_transfer(make_member_since(make_chapter(), JOINED, name="别处"),
                              make_chapter())
    html = login_as(two_chapters["staff_a"]).get("/chapter/transfers/").get_data(as_text=True)
    assert f"/chapter/transfers/{out.id}" in html and "出去" in html
    assert f"/chapter/transfers/{elsewhere.id}" not in html
