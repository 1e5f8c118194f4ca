"""A member takes a perk in the portal in a real browser and sees the code and its QR code."""

from __future__ import annotations

import pytest

from tests.chapter.portal.factories import make_portal_member
from tests.factories import PASSWORD, make_chapter
from tests.hq.perks.factories import make_partner, make_perk
from tests.hq.points.factories import award
from tests.platform.test_browser import (  # noqa: F401  (fixtures)
    TIMEOUT_MS,
    Watch,
    _assert_clean,
    _shot,
    browser,
    live_url,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, live_url):  # noqa: F811
    # a phone
    context = browser.new_context(base_url=live_url, locale="zh-CN",
                                  viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.watch = Watch(pg)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def offer(db):
    member = make_portal_member(make_chapter())
    award(member.member_id, member.chapter_id, 1000)
    perk = make_perk(make_partner(), points_cost=300, title="精致洗车一次", stock=5)
    data = (member.user.username, perk.id)
    db.session.rollback()  # end the read transaction: the server thread writes next
    return data


def test_member_takes_a_perk_in_the_portal_and_sees_the_code_and_qr(page, offer):
    username, perk_id = offer
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login]")
    page.wait_for_url("**/portal/")
    page.goto("/portal/perks/")
    page.click(f"[data-testid=take-{perk_id}]")
    page.wait_for_url("**/portal/perks/vouchers*")
    code = page.locator("[data-testid=voucher-code]").first.inner_text()
    assert len(code) == 19 and code.count("-") == 3
    qr = page.locator("[data-testid=voucher] img").first
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    _shot(page, "portal-perk-voucher")
    _assert_clean(page)
