"""A member RSVPs in the portal on a phone, then staff check the code in at the door."""

from __future__ import annotations

import pytest

from tests.chapter.events.factories import make_event
from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_chapter, make_user
from tests.platform.test_browser import (  # noqa: F401  (fixtures)
    PHONE,
    browser,
    live_url,
    log_in,
    new_page,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def phones(browser, live_url):  # noqa: F811
    """Opens a new phone (its own browser context) on each call; all closed at the end."""
    contexts = []

    def open_phone():
        context, pg = new_page(browser, live_url, PHONE)
        contexts.append(context)
        return pg

    try:
        yield open_phone
    finally:
        for c in contexts:
            c.close()


@pytest.fixture
def scene(db):
    from datetime import timedelta

    from clubplatform.db import utcnow

    chapter = make_chapter()
    member = make_portal_member(chapter)
    staff = make_user("chapter_staff", chapter=chapter)
    # today, an hour from now: RSVPs open and the door too
    starts = utcnow() + timedelta(hours=1)
    event_id = make_event(chapter, title_zh="爱车课堂", capacity=10, starts_at=starts)
    data = (member.user.username, staff.username, event_id)
    db.session.rollback()  # end the read transaction: the server thread writes next
    return data


def test_member_rsvps_in_the_portal_and_staff_check_the_code_in(phones, scene):
    member_name, staff_name, event_id = scene
    member = phones()
    log_in(member, member_name, "**/portal/")
    member.goto(f"/portal/events/{event_id}")
    member.click("[data-testid=rsvp]")
    member.wait_for_selector("[data-testid=registration-code]")
    code = member.locator("[data-testid=registration-code]").inner_text()
    assert len(code) == 19 and code.count("-") == 3
    qr = member.locator("[data-testid=registration-qr]")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")

    door = phones()
    log_in(door, staff_name, "**/chapter/**")
    door.goto(f"/chapter/events/{event_id}/check-in")
    door.fill("input[name=code]", code)
    door.click("[data-testid=check-in-code]")
    door.wait_for_selector(".flash-success")
    assert "1" in door.locator("[data-testid=check-in-counts]").inner_text()
