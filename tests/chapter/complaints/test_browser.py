"""Complaints in a real browser: staff record one, and acknowledge one a member raised."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clubplatform import dates
from clubplatform.db import utcnow
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_chapter, make_owner, make_user
from tests.platform.test_browser import (  # noqa: F401  (fixtures)
    PHONE,
    _assert_clean,
    _shot,
    browser,
    live_url,
    log_in,
    new_page,
    page,
)

pytestmark = pytest.mark.browser


def _later(hours: int) -> str:
    return (utcnow() + timedelta(hours=hours)).astimezone(dates.SHANGHAI).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def chapter_with_owner(db):
    chapter = make_chapter(name="北京星徽车友会")
    staff = make_user("chapter_staff", chapter=chapter, display_name="李娜")
    owner = make_owner(chapter, name="王先生")
    data = (staff.username, owner.mobile, owner.id)
    db.session.rollback()  # end the read transaction: the server thread writes next
    return data


def test_staff_record_and_acknowledge_a_complaint(page, chapter_with_owner):  # noqa: F811
    username, mobile, owner_id = chapter_with_owner
    log_in(page, username, "**/chapter/")
    page.goto("/chapter/complaints/new")
    page.fill("input[name=q]", mobile)
    page.click("[data-testid=find-owner]")
    page.click(f"[data-testid=choose-owner-{owner_id}]")
    page.select_option("select[name=channel]", "phone")
    page.select_option("select[name=cause]", "service_attitude")
    page.fill("textarea[name=description]", "接待顾问态度冷淡")
    page.fill("input[name=callback_due_at]", _later(3))
    page.click("[data-testid=save-complaint]")
    page.wait_for_url("**/chapter/complaints/*")
    assert "接待顾问态度冷淡" in page.content()
    assert page.locator("[data-testid=acknowledged]").inner_text().strip() != ""
    assert page.locator("[data-testid=timeline] tbody tr").count() == 2
    _shot(page, "complaint-recorded")
    _assert_clean(page)


@pytest.fixture
def member_complaint(db):
    chapter = make_chapter(name="上海星徽车友会")
    pm = make_portal_member(chapter)
    staff = make_user("chapter_staff", chapter=chapter, display_name="张强")
    data = (pm.user.username, staff.username)
    db.session.rollback()
    return data


def test_a_member_raises_a_complaint_and_staff_acknowledge_it(browser, live_url,  # noqa: F811
                                                             member_complaint):
    member_name, staff_name = member_complaint
    member, mp = new_page(browser, live_url, PHONE)
    staff, sp = new_page(browser, live_url)
    try:
        log_in(mp, member_name, "**/portal/")
        mp.goto("/portal/complaints/")
        mp.select_option("select[name=cause]", "repair_quality")
        mp.fill("textarea[name=description]", "保养后发动机故障灯亮")
        mp.click("[data-testid=portal-complaint-form] button[type=submit]")
        mp.wait_for_url("**/portal/complaints/*")
        complaint_url = mp.url
        complaint_id = complaint_url.rstrip("/").rsplit("/", 1)[1]
        _assert_clean(mp)

        log_in(sp, staff_name, "**/chapter/")
        sp.goto("/chapter/complaints/")
        sp.click(f"a[href='/chapter/complaints/{complaint_id}']")
        sp.fill("[data-testid=acknowledge] input[name=callback_due_at]", _later(2))
        sp.click("[data-testid=acknowledge-button]")
        sp.wait_for_url(f"**/chapter/complaints/{complaint_id}")
        assert sp.locator("[data-testid=acknowledge]").count() == 0
        assert sp.locator("[data-testid=callback]").inner_text().strip() not in ("", "—")
        _shot(sp, "complaint-acknowledged")
        _assert_clean(sp)

        mp.goto(complaint_url)
        assert "保养后发动机故障灯亮" in mp.content()
    finally:
        member.close()
        staff.close()
