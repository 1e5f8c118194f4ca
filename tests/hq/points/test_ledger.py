"""The ledger's invariants: append-only, idempotent, never negative, valued in fen."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.points import ledger
from hq.points.models import PointEntry
from tests import concurrency
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import award, make_rule


def _redeem(member_id, chapter_id, points, key, on=None):
    return ledger.post(member_id=member_id, chapter_id=chapter_id, kind="redeem",
                       reason="dealer_service", venue="dealer", points=-points,
                       idempotency_key=key, business_date=on)


def test_an_award_raises_the_balance_and_is_valued_at_the_rules_point_value(app):
    chapter = make_chapter()
    member = make_member(chapter)
    make_rule("point_value", 100)  # 100 points = 1 CNY
    entry = award(member.id, chapter.id, 250, on=date(2026, 3, 10))
    with unscoped("test"):
        assert ledger.balance(member.id) == 250
        assert entry.value_fen == 250
        assert entry.expires_on == date(2028, 3, 31)


def test_the_same_key_posted_twice_writes_one_entry(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 100, key="visit:1")
    award(member.id, chapter.id, 100, key="visit:1")
    with unscoped("test"):
        assert ledger.balance(member.id) == 100
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry)) == 1


def test_redeeming_more_than_the_balance_is_refused_and_writes_nothing(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 100)
    with unscoped("test"), pytest.raises(ledger.InsufficientPoints):
        _redeem(member.id, chapter.id, 101, "r-1")
    db.session.rollback()
    with unscoped("test"):
        assert ledger.balance(member.id) == 100
        assert ledger.ledger_sum(member.id) == 100


def test_a_refused_redemption_leaves_the_rest_of_the_transaction_usable(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 100)
    with unscoped("test"):
        with pytest.raises(ledger.InsufficientPoints):
            _redeem(member.id, chapter.id, 500, "r-big")
        _redeem(member.id, chapter.id, 40, "r-small")
        db.session.commit()
        assert ledger.balance(member.id) == 60 == ledger.ledger_sum(member.id)


def test_a_rule_applies_only_within_its_effective_dates(app):
    make_rule("join", 500, effective_from=date(2025, 1, 1), effective_to=date(2026, 1, 1))
    make_rule("join", 800, effective_from=date(2026, 1, 1))
    assert ledger.rule_at("join", on=date(2024, 12, 31)) is None
    assert ledger.rule_value("join", on=date(2025, 12, 31)) == 500
    assert ledger.rule_value("join", on=date(2026, 1, 1)) == 800


def test_points_expire_at_the_end_of_the_month_24_months_after_earning(app):
    assert ledger.expiry_for(date(2024, 1, 15)) == date(2026, 1, 31)
    assert ledger.expiry_for(date(2024, 12, 31)) == date(2026, 12, 31)


def test_next_expiry_counts_the_oldest_points_first(app):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 300, on=date(2024, 5, 3))   # expires 2026-05-31
    award(member.id, chapter.id, 200, on=date(2024, 8, 3))   # expires 2026-08-31
    with unscoped("test"):
        _redeem(member.id, chapter.id, 250, "r-old", on=date(2025, 1, 2))
        db.session.commit()
        nxt = ledger.next_expiry(member.id, today=date(2026, 1, 1))
    assert (nxt.on, nxt.points) == (date(2026, 5, 31), 50)


def test_value_in_fen_rounds_half_away_from_zero(app):
    assert ledger.fen_for(150, 1) == 2
    assert ledger.fen_for(-150, 1) == -2
    assert ledger.fen_for(149, 1) == 1


# --- under concurrency (PostgreSQL) -------------------------------------------------------

@pytest.fixture
def wide_pool(app):
    with concurrency.wide_pool(52):
        yield


def _race(app, n, work):
    return concurrency.race(app, n, work, refused=(ledger.InsufficientPoints,))


@pytest.mark.postgres
def test_fifty_parallel_redemptions_take_only_what_the_balance_allows(app, wide_pool):
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 1000)
    member_id, chapter_id = member.id, chapter.id

    outcomes = _race(app, 50, lambda i: _redeem(member_id, chapter_id, 100, f"race-r-{i}"))
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o[0] == "ok") == 10
    assert sum(1 for o in outcomes if o[0] == "refused") == 40
    with app.app_context(), unscoped("test"):
        assert ledger.balance(member_id) == 0 == ledger.ledger_sum(member_id)


@pytest.mark.postgres
def test_the_same_award_retried_100_times_in_parallel_is_one_entry(app, wide_pool):
    chapter = make_chapter()
    member = make_member(chapter)
    member_id, chapter_id = member.id, chapter.id

    def work(i):
        return ledger.post(member_id=member_id, chapter_id=chapter_id, kind="earn",
                           reason="service", funder="hq", points=120,
                           idempotency_key="visit:race:1").created

    outcomes = []
    for _ in range(2):  # 2 waves of 50 (the pool holds 52 connections)
        outcomes += _race(app, 50, work)
    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o == ("ok", True)) == 1
    with app.app_context(), unscoped("test"):
        assert ledger.balance(member_id) == 120 == ledger.ledger_sum(member_id)
