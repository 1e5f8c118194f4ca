"""Closing a complaint from many requests at once gives its goodwill points once (PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from chapter.complaints import service
from chapter.complaints.models import ComplaintContact
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.points import ledger
from hq.points.models import PointEntry
from tests import concurrency
from tests.chapter.complaints.factories import make_complaint
from tests.factories import make_member


@pytest.fixture
def wide_pool(app):
    with concurrency.wide_pool(12):
        yield


@pytest.mark.postgres
def test_ten_parallel_closes_post_the_goodwill_once(app, wide_pool, two_chapters):
    a = two_chapters["a"]
    member = make_member(a, by=two_chapters["manager_a"])
    from tests.chapter.complaints.test_service import owners_owner

    complaint_id = make_complaint(a, owner=owners_owner(a, member.owner_id)).id
    chapter_id, member_id = a.id, member.id
    before = _balance(member_id)

    def work(i):
        with chapter_scope(chapter_id):
            closed = service.close_complaint(service.get_complaint(complaint_id), {
                "resolution": "返修", "goodwill_kind": "points", "goodwill_points": 250,
                "goodwill_reason": "延误"})
            return closed.status

    outcomes = concurrency.race(app, 10, work, scope=None)
    assert [o for o in outcomes if o[0] == "error"] == []
    with unscoped("test: the ledger and the timeline"):
        db.session.expire_all()
        keys = db.session.execute(sa.select(PointEntry.points).where(
            PointEntry.idempotency_key == f"goodwill:{complaint_id}")).scalars().all()
        closes = db.session.execute(sa.select(sa.func.count()).select_from(ComplaintContact).where(
            ComplaintContact.complaint_id == complaint_id,
            ComplaintContact.kind == "closed")).scalar_one()
        assert ledger.balance(member_id) == ledger.ledger_sum(member_id)
    assert (keys, closes) == ([250], 1)
    assert _balance(member_id) == before + 250


def _balance(member_id):
    with unscoped("test: balance"):
        db.session.expire_all()
        return ledger.balance(member_id)
