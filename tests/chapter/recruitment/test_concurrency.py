"""20 chapters approve the same person at the same moment: exactly one member (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from chapter.recruitment import service
from chapter.recruitment.models import Application
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.members.models import Member, MemberIdentity, MemberStatusPeriod
from hq.members.service import AlreadyMember
from tests.chapter.recruitment.factories import make_application
from tests.factories import make_chapter, make_user

RACERS = 20
MOBILE = "13912345678"


@pytest.fixture
def wide_pool(app):
    """A connection for every racer at once (the app's pool holds 15)."""
    engines = db.engines
    original = engines[None]
    wide = sa.create_engine(original.url, pool_size=RACERS + 2, max_overflow=0,
                            connect_args={"options": "-c lock_timeout=10000 -c timezone=UTC"})
    engines[None] = wide
    yield
    db.session.remove()  # give the test's connection back before the pool goes
    engines[None] = original
    wide.dispose()


def _race(app, entries):
    """Approve every (chapter_id, manager_id, application_id) in its own thread, together."""
    barrier = threading.Barrier(len(entries), timeout=30)
    outcomes: list = [None] * len(entries)

    def approve(i: int) -> None:
        chapter_id, manager_id, application_id = entries[i]
        with app.app_context():  # its own session, hence its own connection
            try:
                with chapter_scope(chapter_id):
                    manager = db.session.get(User, manager_id)
                    application = service.get_application(application_id)
                    application.owner  # noqa: B018  (loaded before the start)
                    barrier.wait()
                    member = service.approve_application(application, actor=manager)
                    db.session.commit()
                    outcomes[i] = ("member", member.id)
            except AlreadyMember as exc:
                db.session.rollback()
                outcomes[i] = ("already_member", exc)
            except Exception as exc:  # anything else is a failure of the rule
                db.session.rollback()
                outcomes[i] = ("error", repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(len(entries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


@pytest.mark.postgres
def test_twenty_chapters_approving_the_same_person_at_once_make_exactly_one_member(
        app, db, wide_pool):
    entries = []
    for _ in range(RACERS):
        chapter = make_chapter()
        manager = make_user("chapter_manager", chapter=chapter)
        application = make_application(chapter, mobile=MOBILE, by=manager)
        entries.append((chapter.id, manager.id, application.id))
    db.session.remove()

    outcomes = _race(app, entries)

    kinds = [o[0] if o else "no outcome" for o in outcomes]
    assert kinds.count("member") == 1, outcomes
    assert kinds.count("already_member") == RACERS - 1, outcomes
    with unscoped("check the race's result across chapters"):
        assert db.session.execute(sa.select(sa.func.count()).select_from(Member)).scalar() == 1
        identities = db.session.execute(
            sa.select(MemberIdentity.kind, MemberIdentity.member_id)).all()
        winner = next(o[1] for o in outcomes if o[0] == "member")
        assert identities == [("mobile", winner)]
        assert db.session.execute(
            sa.select(sa.func.count()).select_from(MemberStatusPeriod)).scalar() == 1
        statuses = db.session.execute(
            sa.select(Application.status, sa.func.count()).group_by(Application.status)).all()
        assert sorted(statuses) == [("approved", 1), ("pending", RACERS - 1)]
    for _, exc in (o for o in outcomes if o[0] == "already_member"):
        assert exc.code == "already_member" and not exc.fields.keys() - {"owner_id"}
