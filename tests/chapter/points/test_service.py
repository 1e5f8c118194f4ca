"""Points at the chapter: imported visits earn once, the one-query summary."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from chapter.owners.models import ServiceVisit
from chapter.points import service
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from hq.points import ledger
from tests.chapter.points.factories import entries_of, make_earning_member
from tests.factories import make_chapter
from tests.hq.points.factories import award, make_rule


@pytest.fixture
def chapter(db):
    return make_chapter()


def _insert_visit(chapter, vehicle, order_no, day=date(2024, 5, 20), amount_fen=50000):
    """A visit written the way the bulk importer writes it (no service call)."""
    with chapter_scope(chapter.id):
        visit_id = db.session.execute(sa.insert(ServiceVisit.__table__).values(
            chapter_id=chapter.id, order_no=order_no, vehicle_id=vehicle.id,
            owner_id=vehicle.owner_id, visit_date=day, visit_type="maintenance",
            amount_fen=amount_fen, created_at=sa.func.now()).returning(
                ServiceVisit.__table__.c.id)).scalar_one()
        db.session.commit()
    return visit_id


def test_imported_visits_earn_when_awarded_and_only_once(chapter):
    make_rule("service_rate", 2, key="maintenance")
    member_id, vehicle = make_earning_member(chapter)
    ids = [_insert_visit(chapter, vehicle, f"IMP{i}") for i in range(3)]
    with chapter_scope(chapter.id):
        assert service.award_visits(chapter.id, ids) == 3
        assert service.award_visits(chapter.id) == 0
        db.session.commit()
    assert [e.points for e in entries_of(member_id)] == [1000, 1000, 1000]


def test_awarding_a_chapter_skips_visits_of_owners_who_are_not_members(chapter):
    from tests.chapter.owners.factories import make_vehicle

    make_rule("service_rate", 2, key="maintenance")
    _insert_visit(chapter, make_vehicle(chapter), "NOTMEMBER")
    with chapter_scope(chapter.id):
        assert service.award_visits(chapter.id) == 0


def test_the_summary_gives_balance_tier_and_what_expires_next(chapter):
    member_id, _vehicle = make_earning_member(chapter, tier="gold")
    award(member_id, chapter.id, 100, on=date(2024, 3, 10))
    award(member_id, chapter.id, 50, on=date(2024, 8, 1))
    with chapter_scope(chapter.id):
        summary = service.summary(member_id, today=date(2025, 1, 1))
        expected = ledger.next_expiry(member_id, today=date(2025, 1, 1))
    assert (summary.balance, summary.tier) == (150, "gold")
    assert (summary.next_expiry_on, summary.next_expiry_points) == (expected.on, expected.points)
    assert summary.next_expiry_points == 100


def test_another_chapters_member_has_no_summary(chapter):
    from clubplatform.errors import NotFound

    member_id, _vehicle = make_earning_member(chapter)
    other = make_chapter()
    with chapter_scope(other.id), pytest.raises(NotFound):
        service.summary(member_id)
