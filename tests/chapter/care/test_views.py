"""Care pages: today on a phone, a task's forms, team, plan, report export, rules, outbox, HQ, portal."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask_babel import force_locale

from chapter.care import service
from clubplatform import dates
from clubplatform.extensions import db
from clubplatform.messaging import service as messaging
from clubplatform.messaging.jobs import dispatch_chapter
from clubplatform.tenancy import chapter_scope
from tests.chapter.care.factories import owner, vehicle, visit
from tests.factories import make_user

TODAY = dates.today()


@pytest.fixture
def ctx(two_chapters):
    a = two_chapters["a"].id
    o = owner(a, name="王小明", advisor_id=two_chapters["staff_a"].id)
    with chapter_scope(a):
        t = service.add_task(chapter_id=a, owner_id=o, reason="callback", label="Promised call",
                             due_on=TODAY - timedelta(days=2), source_key="k1")
        db.session.commit()
        tid = t.id
    return {"cid": a, "owner": o, "task": tid, **two_chapters}


def test_today_groups_items_and_shows_their_age(client, login_as, ctx):
    login_as(ctx["staff_a"])
    with force_locale("en"):
        html = client.get("/chapter/care/", headers={"Accept-Language": "en"}).get_data(True)
    assert "王小明" in html and "Promised call" in html
    assert 'data-testid="care-age"' in html


def test_recording_an_outcome_from_the_task_page(client, login_as, ctx):
    login_as(ctx["staff_a"])
    assert client.get(f"/chapter/care/tasks/{ctx['task']}").status_code == 200

    resp = client.post(f"/chapter/care/tasks/{ctx['task']}/outcome",
                       data={"outcome": "appointment_booked", "note": "周六到店"})

    assert resp.status_code == 302
    with chapter_scope(ctx["cid"]):
        assert service.get_task(ctx["task"]).outcome == "appointment_booked"


def test_a_follow_up_page_asks_for_satisfaction(client, login_as, ctx):
    cid = ctx["cid"]
    v = vehicle(cid, ctx["owner"])
    vid = visit(cid, ctx["owner"], v, TODAY - timedelta(days=3))
    with chapter_scope(cid):
        t = service.add_task(chapter_id=cid, owner_id=ctx["owner"], reason="follow_up_3d",
                             due_on=TODAY, source_key="fu", visit_id=vid)
        db.session.commit()
        tid = t.id
    login_as(ctx["staff_a"])
    assert 'name="score"' in client.get(f"/chapter/care/tasks/{tid}").get_data(True)

    client.post(f"/chapter/care/tasks/{tid}/outcome",
                data={"outcome": "reached", "score": "5", "comment": "好"})

    with chapter_scope(cid):
        assert service.satisfaction_by_advisor(cid)[0][1:] == (1, 500)


def test_rescheduling_into_the_past_is_shown_on_the_field(client, login_as, ctx):
    login_as(ctx["staff_a"])
    resp = client.post(f"/chapter/care/tasks/{ctx['task']}/reschedule",
                       data={"scheduled_on": (TODAY - timedelta(days=1)).isoformat()})
    assert resp.status_code == 422


def test_reassigning_from_the_task_page(client, login_as, ctx):
    login_as(ctx["manager_a"])
    resp = client.post(f"/chapter/care/tasks/{ctx['task']}/reassign",
                       data={"assignee_id": str(ctx["manager_a"].id)})
    assert resp.status_code == 302


@pytest.mark.parametrize("path", ["/chapter/care/team", "/chapter/care/plan",
                                  "/chapter/care/report", "/chapter/care/rules",
                                  "/chapter/care/outbox"])
def test_manager_pages_open(client, login_as, ctx, path):
    login_as(ctx["manager_a"])
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/chapter/care/team", "/chapter/care/report",
                                  "/chapter/care/rules", "/chapter/care/outbox"])
def test_staff_cannot_open_manager_pages(client, login_as, ctx, path):
    login_as(ctx["staff_a"])
    assert client.get(path).status_code == 403


def test_the_daily_report_exports_csv_and_xlsx(client, login_as, ctx):
    with chapter_scope(ctx["cid"]):
        service.record_outcome(service.get_task(ctx["task"]), "reached",
                               actor=ctx["staff_a"])
        db.session.commit()
    login_as(ctx["manager_a"])
    csv = client.get(f"/chapter/care/report?day={TODAY.isoformat()}&format=csv")
    xlsx = client.get(f"/chapter/care/report?day={TODAY.isoformat()}&format=xlsx")

    assert csv.status_code == 200 and f"c{ctx['cid']}" in csv.headers["Content-Disposition"]
    assert "reached" in csv.get_data(True) or "已联系" in csv.get_data(True) \
        or "Reached" in csv.get_data(True)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 2 and sheet.cell(2, 4).value == 1


def test_a_manager_adds_a_chapter_rule(client, login_as, ctx):
    login_as(ctx["manager_a"])
    resp = client.post("/chapter/care/rules", data={"code": "insurance_60", "kind": "insurance",
                                                    "channel": "sms", "days": "60",
                                                    "active": "y"})
    assert resp.status_code == 302
    with chapter_scope(ctx["cid"]):
        rules = {r.code: r for r in __import__("chapter.care.rules").care.rules.effective_rules(
            ctx["cid"])}
    assert rules["insurance_60"].params == {"days_before": 60}


def test_a_manager_sends_a_failed_message_again(client, login_as, ctx):
    from tests.factories import make_member

    member = make_member(ctx["a"])
    with chapter_scope(ctx["cid"]):
        msg = messaging.queue_message(chapter_id=ctx["cid"], member_id=member.id, channel="sms",
                                      kind="birthday", dedupe_key="b1", recipient="13800000000",
                                      body="hi")
        msg.status, msg.last_error = "failed", "SMS gateway HTTP 400"
        db.session.commit()
        mid = msg.id
    login_as(ctx["manager_a"])
    page = client.get("/chapter/care/outbox?status=failed").get_data(True)
    assert "SMS gateway HTTP 400" in page

    assert client.post(f"/chapter/care/outbox/{mid}/retry").status_code == 302
    db.session.remove()
    with chapter_scope(ctx["cid"]):
        assert messaging.get_message(mid).status == "queued"


def test_hq_sees_completion_and_edits_default_rules(client, login_as, ctx):
    admin = make_user("hq_admin")
    login_as(admin)
    assert client.get("/hq/care/").status_code == 200
    resp = client.post("/hq/care/rules", data={"code": "maintenance", "kind": "maintenance",
                                               "channel": "phone", "days": "150",
                                               "active": "y"})
    assert resp.status_code == 302


def test_chapter_staff_cannot_open_hq_pages(client, login_as, ctx):
    login_as(ctx["manager_a"])
    assert client.get("/hq/care/").status_code == 403


def test_a_member_reads_portal_notifications(client, login_as, ctx):
    from tests.chapter.portal.factories import make_portal_member

    pm = make_portal_member(ctx["a"])
    login_as(pm.user)
    with chapter_scope(ctx["cid"]):
        messaging.queue_message(chapter_id=ctx["cid"], member_id=pm.member_id,
                                channel="portal", kind="birthday", dedupe_key="p1",
                                recipient=str(pm.user.id), subject="生日快乐", body="祝您生日快乐")
        db.session.commit()
        dispatch_chapter(ctx["cid"])
    db.session.remove()

    home = client.get("/portal/notifications/").get_data(True)
    assert "祝您生日快乐" in home and 'data-testid="unread-count"' in home

    client.post("/portal/notifications/read")
    assert 'data-testid="unread-count"' not in client.get("/portal/notifications/").get_data(True)
