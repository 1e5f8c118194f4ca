"""The churn matrix in a real browser: a manager opens it, follows a cell to its owners."""

from __future__ import annotations

from datetime import date

import pytest

from clubplatform import dates
from tests.chapter.churn.factories import owner_with_visits
from tests.factories import PASSWORD, make_chapter, make_user
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
def manager(db):
    chapter = make_chapter()
    user = make_user("chapter_manager", chapter=chapter)
    lost = owner_with_visits(chapter, [(date(2020, 5, 1), 800)], name="流失车主")
    owner_with_visits(chapter, [(dates.today().replace(day=1), 2000)], name="忠诚车主")
    data = (user.username, lost.id)
    db.session.rollback()  # end the read transaction: the server thread reads next
    return data


def test_a_manager_opens_the_matrix_and_follows_a_cell_to_its_owners(page, manager):
    username, lost_id = manager
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login]")
    page.wait_for_url("**/chapter/**")
    page.goto("/chapter/reports/")
    page.click("#churn a[href*='/chapter/churn/']")
    page.wait_for_url("**/chapter/churn/*")
    matrix = page.locator("[data-testid=churn-matrix]")
    assert matrix.locator("[data-total]").inner_text() == "2"
    cell = matrix.locator("td[data-cell=CS] a")
    assert cell.inner_text() == "1"
    _shot(page, "churn-matrix")
    cell.click()
    page.wait_for_url("**/chapter/churn/owners*")
    rows = page.locator("[data-testid=churn-owners] tbody tr[data-owner]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-owner") == str(lost_id)
    assert "流失车主" in rows.first.inner_text()
    _shot(page, "churn-owners")
    _assert_clean(page)
