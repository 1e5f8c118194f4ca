"""Transfers under concurrency (PostgreSQL): one approval wins, one open request per member."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.auth.models import User
from clubplatform.errors import Conflict
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.members import service as members
from hq.members.models import MemberStatusPeriod, Transfer
from tests import concurrency
from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer
from tests.factories import make_chapter, make_user

RACERS = 6


@pytest.fixture
def wide_pool(app):
    """A connection for every racer at once."""
    with concurrency.wide_pool(RACERS + 2, lock_timeout_ms=10000):
        yield


def _race(app, work) -> list:
    """Each racer loads what it needs, waits at the barrier, then acts (``work(i, barrier)``)."""
    return [("conflict", None) if o[0] == "refused" else o
            for o in concurrency.race(app, RACERS, work, refused=(Conflict,), scope=None,
                                      wait=False)]


@pytest.mark.postgres
def test_approving_the_same_transfer_at_once_moves_the_member_once(app, two_chapters, wide_pool):
    member_id = make_member_since(two_chapters["a"], date(2024, 1, 10))
    transfer_id = make_transfer(member_id, two_chapters["b"]).id
    manager_id, chapter_id = two_chapters["manager_b"].id, two_chapters["b"].id

    def approve(i, barrier):
        with chapter_scope(chapter_id):
            manager = db.session.get(User, manager_id)
            transfer = members.get_transfer(transfer_id, chapter_id=chapter_id)
            barrier.wait()
            members.approve_transfer(transfer, manager)

    outcomes = _race(app, approve)
    assert sorted(o[0] for o in outcomes) == ["conflict"] * (RACERS - 1) + ["ok"], outcomes
    with unscoped("test"):
        open_periods = db.session.execute(sa.select(MemberStatusPeriod.chapter_id).where(
            MemberStatusPeriod.member_id == member_id,
            MemberStatusPeriod.valid_to.is_(None))).scalars().all()
    assert open_periods == [chapter_id]
    assert load_member(member_id).chapter_id == chapter_id


@pytest.mark.postgres
def test_requests_for_the_same_member_at_once_leave_one_open(app, two_chapters, wide_pool):
    member_id = make_member_since(two_chapters["a"], date(2024, 1, 10))
    targets = [make_chapter().id for _ in range(RACERS)]
    manager_id = make_user("chapter_manager", chapter=two_chapters["a"]).id

    def ask(i, barrier):
        with chapter_scope(two_chapters["a"].id):
            manager = db.session.get(User, manager_id)
            member = members.get_member(member_id)
            barrier.wait()
            members.request_transfer(member, targets[i], "搬家", manager)

    outcomes = _race(app, ask)
    assert sorted(o[0] for o in outcomes) == ["conflict"] * (RACERS - 1) + ["ok"], outcomes
    assert db.session.execute(sa.select(sa.func.count()).select_from(Transfer).where(
        Transfer.status == "requested")).scalar_one() == 1
