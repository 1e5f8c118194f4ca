"""A staff member works today's care list on a phone: opens an item, records the outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chapter.care import service
from clubplatform import dates
from clubplatform.tenancy import chapter_scope
from tests.chapter.care.factories import owner
from tests.factories import make_chapter, make_user
from tests.platform.test_browser import (  # noqa: F401  (fixtures)
    browser,
    live_url,
    log_in,
    phone,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def scene(db):
    chapter = make_chapter()
    staff = make_user("chapter_staff", chapter=chapter)
    cid, username = chapter.id, staff.username
    o = owner(cid, name="李雷", advisor_id=staff.id)
    o2 = owner(cid, name="韩梅梅", advisor_id=staff.id)
    with chapter_scope(cid):
        service.add_task(chapter_id=cid, owner_id=o, reason="callback", label="回访承诺",
                         due_on=dates.today() - timedelta(days=2), source_key="b1")
        service.add_task(chapter_id=cid, owner_id=o2, reason="callback", label="回访承诺",
                         due_on=dates.today(), source_key="b2")
        db.session.commit()
    db.session.rollback()  # end the read transaction: the server thread writes next
    return username


def test_staff_record_an_outcome_on_the_phone(phone, scene):  # noqa: F811
    log_in(phone, scene, None)
    phone.wait_for_load_state()
    phone.goto("/chapter/care/")

    assert phone.locator("[data-testid=care-count]").inner_text() == "2"
    assert phone.locator("[data-testid=care-group]").count() == 1
    assert phone.locator("[data-testid=care-age]").count() == 1  # the one from two days ago
    # nothing wider than the phone
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    phone.click("text=李雷")
    phone.select_option("select[name=outcome]", "appointment_booked")
    phone.fill("textarea[name=note]", "周六上午到店")
    phone.click("[data-testid=outcome-form] button[type=submit]")
    phone.wait_for_url("**/chapter/care/")

    assert phone.locator("[data-testid=care-count]").inner_text() == "1"
    assert phone.watch.outside == [] and phone.watch.csp_violations() == []
