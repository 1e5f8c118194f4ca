"""Monthly tiers: from qualifying points over 12 months, thresholds by date, with history."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.members.models import Member
from hq.points import tiers
from hq.points.models import TierChange
from tests.factories import make_chapter, make_member
from tests.hq.points.factories import award, make_rule


def _thresholds(gold=5000, platinum=20000, diamond=50000, since=date(2020, 1, 1)):
    make_rule("tier_threshold", 0, key="silver", effective_from=since)
    make_rule("tier_threshold", gold, key="gold", effective_from=since)
    make_rule("tier_threshold", platinum, key="platinum", effective_from=since)
    make_rule("tier_threshold", diamond, key="diamond", effective_from=since)


def _tier(member_id: int) -> str:
    with unscoped("test"):
        return db.session.execute(
            sa.select(Member.__table__.c.tier).where(Member.__table__.c.id == member_id)
        ).scalar_one()


def _run(month_end: date, **kw):
    with unscoped("test"):
        result = tiers.recompute_month(month_end, **kw)
        db.session.commit()
    return result


def test_a_member_reaching_a_threshold_moves_up_from_the_next_day(app):
    _thresholds()
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 6000, on=date(2026, 3, 5), reason="service")
    result = _run(date(2026, 3, 31))
    assert result.changed == 1
    assert _tier(member.id) == "gold"
    with unscoped("test"):
        [change] = tiers.tier_history(member.id)
    assert (change.previous_tier, change.tier) == ("silver", "gold")
    assert change.effective_on == date(2026, 4, 1)
    assert change.qualifying_points == 6000


def test_points_older_than_12_months_do_not_qualify(app):
    _thresholds()
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 6000, on=date(2025, 3, 31), reason="service")
    _run(date(2026, 3, 31))
    assert _tier(member.id) == "silver"


def test_manual_awards_do_not_qualify(app):
    _thresholds()
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 60000, on=date(2026, 3, 5), reason="manual")
    _run(date(2026, 3, 31))
    assert _tier(member.id) == "silver"


def test_the_thresholds_in_force_at_the_month_end_apply(app):
    make_rule("tier_threshold", 0, key="silver", effective_from=date(2020, 1, 1))
    make_rule("tier_threshold", 8000, key="gold", effective_from=date(2020, 1, 1),
              effective_to=date(2026, 3, 1))
    make_rule("tier_threshold", 4000, key="gold", effective_from=date(2026, 3, 1))
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 5000, on=date(2026, 1, 5), reason="service")
    _run(date(2026, 2, 28))
    assert _tier(member.id) == "silver"
    _run(date(2026, 3, 31))
    assert _tier(member.id) == "gold"


def test_a_tier_goes_down_when_the_points_no_longer_qualify_and_history_keeps_both(app):
    _thresholds()
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 25000, on=date(2025, 1, 10), reason="service")
    _run(date(2025, 1, 31))
    assert _tier(member.id) == "platinum"
    _run(date(2026, 1, 31))
    assert _tier(member.id) == "silver"
    with unscoped("test"):
        history = [(c.effective_on, c.tier) for c in tiers.tier_history(member.id)]
        assert tiers.tier_on(member.id, date(2025, 6, 1)) == "platinum"
    assert history == [(date(2025, 2, 1), "platinum"), (date(2026, 2, 1), "silver")]


def test_a_second_run_for_the_same_month_writes_nothing(app):
    _thresholds()
    chapter = make_chapter()
    member = make_member(chapter)
    award(member.id, chapter.id, 6000, on=date(2026, 3, 5), reason="service")
    _run(date(2026, 3, 31))
    again = _run(date(2026, 3, 31))
    assert again.changed == 0
    with unscoped("test"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TierChange)) == 1


def test_a_run_killed_half_way_and_run_again_changes_each_member_once(app):
    _thresholds()
    chapter = make_chapter()
    members = [make_member(chapter) for _ in range(3)]
    for m in members:
        award(m.id, chapter.id, 6000, on=date(2026, 3, 5), reason="service")

    class Killed(Exception):
        pass

    def kill(done, total):
        db.session.commit()
        raise Killed

    with unscoped("test"):
        try:
            tiers.recompute_month(date(2026, 3, 31), chunk=1, after_chunk=kill)
        except Killed:
            db.session.rollback()
    rerun = _run(date(2026, 3, 31), chunk=1)
    assert rerun.changed == 2
    for m in members:
        assert _tier(m.id) == "gold"
    with unscoped("test"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TierChange)) == 3


def test_members_who_left_keep_their_tier(app):
    _thresholds()
    chapter = make_chapter()
    member = make_member(chapter)
    with unscoped("test"):
        db.session.execute(sa.update(Member.__table__).where(Member.__table__.c.id == member.id)
                           .values(status="left", tier="gold"))
        db.session.commit()
    _run(date(2026, 3, 31))
    assert _tier(member.id) == "gold"
