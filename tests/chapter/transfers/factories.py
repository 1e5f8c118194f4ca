"""Factories for transfers: members who joined on a past date, and transfer requests."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.members import service as members
from hq.members.models import Member, MemberStatusPeriod, Transfer
from tests.chapter.recruitment.factories import make_member_of
from tests.factories import make_chapter, make_user


def make_member_since(chapter, joined_on: date = date(2024, 1, 10), **owner_fields) -> int:
    """A member of ``chapter`` who joined on ``joined_on``; returns the member id."""
    member_id = make_member_of(chapter, **owner_fields).id
    with unscoped("test: backdate a membership"):
        db.session.execute(sa.update(Member).where(Member.id == member_id)
                           .values(joined_on=joined_on, status_since=joined_on))
        db.session.execute(sa.update(MemberStatusPeriod)
                           .where(MemberStatusPeriod.member_id == member_id)
                           .values(valid_from=joined_on))
        db.session.commit()
    return member_id


def load_member(member_id: int) -> Member:
    """The member row, fresh from the database (read across chapters)."""
    with unscoped("test: read a member"):
        return db.session.execute(
            sa.select(Member).where(Member.id == member_id)
            .execution_options(populate_existing=True)).scalar_one()


def make_transfer(member_id: int, to_chapter, *, by=None, reason: str = "搬家") -> Transfer:
    """A transfer request of a member to ``to_chapter`` (asked by a manager of their chapter)."""
    with unscoped("test: request a transfer"):
        member = load_member(member_id)
        by = by or make_user("chapter_manager", chapter=_chapter(member.chapter_id))
        member = load_member(member_id)
        transfer = members.request_transfer(member, to_chapter.id, reason, by)
        db.session.commit()
        db.session.refresh(transfer)
    return transfer


def _chapter(chapter_id: int):
    from clubplatform.org.models import Chapter

    return db.session.get(Chapter, chapter_id)


def transfer_of_chapter_a(ctx) -> int:
    """For the isolation sweep: chapter A's member asked to move to a third chapter."""
    member_id = make_member_of(ctx["a"], by=ctx["manager_a"]).id
    return make_transfer(member_id, make_chapter(), by=ctx["manager_a"]).id
