"""A member takes a perk in the portal in a real browser and sees the code and its QR code."""

from __future__ import annotations

import pytest

from tests.chapter.portal.factories import make_portal_member
from tests.factories import make_chapter
from tests.hq.perks.factories import make_partner, make_perk
from tests.hq.points.factories import award
from tests.platform.test_browser import (  # noqa: F401  (fixtures)
    _assert_clean,
    _shot,
    browser,
    live_url,
    log_in,
    phone,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def offer(db):
    member = make_portal_member(make_chapter())
    award(member.member_id, member.chapter_id, 1000)
    perk = make_perk(make_partner(), points_cost=300, title="精致洗车一次", stock=5)
    data = (member.user.username, perk.id)
    db.session.rollback()  # end the read transaction: the server thread writes next
    return data


def test_member_takes_a_perk_in_the_portal_and_sees_the_code_and_qr(phone, offer):  # noqa: F811
    username, perk_id = offer
    log_in(phone, username, "**/portal/")
    phone.goto("/portal/perks/")
    phone.click(f"[data-testid=take-{perk_id}]")
    phone.wait_for_url("**/portal/perks/vouchers*")
    code = phone.locator("[data-testid=voucher-code]").first.inner_text()
    assert len(code) == 19 and code.count("-") == 3
    qr = phone.locator("[data-testid=voucher] img").first
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    _shot(phone, "portal-perk-voucher")
    _assert_clean(phone)
