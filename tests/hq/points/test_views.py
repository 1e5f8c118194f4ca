"""HQ pages of points rules: the table in force, history, a new value from a date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from clubplatform import dates
from hq.points.models import PointRule
from tests.factories import make_user
from tests.hq.points.factories import make_rule


def test_hq_sees_the_rules_in_force_today_with_tiers(client, login_as, db):
    make_rule("join", 1000, effective_from=date(2020, 1, 1))
    make_rule("tier_threshold", 5000, key="gold", effective_from=date(2020, 1, 1))
    login_as(make_user("hq_analyst"))
    resp = client.get("/hq/points/rules")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'data-rule="join:"' in html and "1000" in html
    assert 'data-tier="gold"' in html and "5000" in html


def test_the_history_shows_every_value_of_a_rule(client, login_as, db):
    make_rule("join", 1000, effective_from=date(2020, 1, 1), effective_to=date(2025, 1, 1))
    make_rule("join", 1500, effective_from=date(2025, 1, 1))
    login_as(make_user("hq_analyst"))
    html = client.get("/hq/points/rules/join").get_data(as_text=True)
    assert "1000" in html and "1500" in html


def test_an_unknown_kind_of_rule_is_404(client, login_as, db):
    login_as(make_user("hq_admin"))
    assert client.get("/hq/points/rules/cashback").status_code == 404


def test_an_admin_sets_a_new_value_from_a_date(client, login_as, db):
    make_rule("join", 1000, effective_from=date(2020, 1, 1))
    login_as(make_user("hq_admin"))
    start = dates.today() + timedelta(days=10)
    resp = client.post("/hq/points/rules/new", data={
        "kind": "join", "key": "", "value": "1300", "effective_from": start.isoformat()})
    assert resp.status_code == 302
    rules = db.session.execute(sa.select(PointRule).order_by(PointRule.effective_from)).scalars()
    assert [(r.value, r.effective_to) for r in rules] == [(1000, start), (1300, None)]


def test_an_overlapping_value_is_shown_on_the_date_field(client, login_as, db):
    start = dates.today() + timedelta(days=10)
    make_rule("join", 2000, effective_from=start + timedelta(days=5))
    login_as(make_user("hq_admin"))
    resp = client.post("/hq/points/rules/new", data={
        "kind": "join", "key": "", "value": "1300", "effective_from": start.isoformat()})
    assert resp.status_code == 422
    assert 'data-field-error="effective_from"' in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PointRule)) == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_analyst_cannot_open_the_new_value_form(client, login_as, db, method):
    login_as(make_user("hq_analyst"))
    assert client.open("/hq/points/rules/new", method=method).status_code == 403


def test_chapter_users_cannot_see_the_rules(client, login_as, two_chapters):
    login_as(two_chapters["manager_a"])
    assert client.get("/hq/points/rules").status_code == 403
