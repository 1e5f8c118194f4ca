"""The churn matrix in a real browser: a manager opens it, follows a cell to its owners."""

from __future__ import annotations

from datetime import date

import pytest

from clubplatform import dates
from tests.chapter.churn.factories import owner_with_visits
from tests.factories import make_chapter, make_user
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
def manager(db):
    chapter = make_chapter()
    user = make_user("chapter_manager", chapter=chapter)
    lost = owner_with_visits(chapter, [(date(2020, 5, 1), 800)], name="流失车主")
    owner_with_visits(chapter, [(dates.today().replace(day=1), 2000)], name="忠诚车主")
    data = (user.username, lost.id)
    db.session.rollback()  # end the read transaction: the server thread reads next
    return data


def test_a_manager_opens_the_matrix_and_follows_a_cell_to_its_owners(phone, manager):  # noqa: F811
    username, lost_id = manager
    log_in(phone, username, "**/chapter/**")
    phone.goto("/chapter/reports/")
    phone.click("#churn a[href*='/chapter/churn/']")
    phone.wait_for_url("**/chapter/churn/*")
    matrix = phone.locator("[data-testid=churn-matrix]")
    assert matrix.locator("[data-total]").inner_text() == "2"
    cell = matrix.locator("td[data-cell=CS] a")
    assert cell.inner_text() == "1"
    _shot(phone, "churn-matrix")
    cell.click()
    phone.wait_for_url("**/chapter/churn/owners*")
    rows = phone.locator("[data-testid=churn-owners] tbody tr[data-owner]")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-owner") == str(lost_id)
    assert "流失车主" in rows.first.inner_text()
    _shot(phone, "churn-owners")
    _assert_clean(phone)
