"""Factories for portal users: members with an account, and applicants."""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa

from chapter.owners.models import Owner
from chapter.portal import service as portal
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_mobile
from hq.members.models import Member, Transfer
from tests.factories import PASSWORD, make_chapter, make_member, make_user

_rng = random.Random(404)


@dataclass
class PortalMember:
    """A member with a portal account (ids and plain values: rows expire after commits)."""

    user: User
    member_id: int
    member_number: str
    owner_id: int
    mobile: str
    chapter_id: int


def make_portal_member(chapter, **owner_fields) -> PortalMember:
    """A member of ``chapter`` whose portal account is linked to the member and the owner."""
    member_id = make_member(chapter, **owner_fields).id
    with chapter_scope(chapter.id):
        member = db.session.execute(sa.select(Member).where(Member.id == member_id)).scalar_one()
        mobile, name = member.mobile, member.name
    user = make_user("member", username=mobile, display_name=name)
    with chapter_scope(chapter.id):
        member = db.session.execute(sa.select(Member).where(Member.id == member_id)).scalar_one()
        owner = db.session.execute(
            sa.select(Owner).where(Owner.id == member.owner_id)).scalar_one()
        member.user_id = user.id
        owner.user_id = user.id
        db.session.commit()
        return PortalMember(user, member.id, member.member_number, owner.id, member.mobile,
                            chapter.id)


def make_applicant(chapter, *, mobile: str | None = None, name: str = "申请人",
                   id_number: str | None = None) -> User:
    """Someone who signed up in the portal; their online application is pending."""
    with chapter_scope(chapter.id):
        user = portal.sign_up(chapter_id=chapter.id, name=name,
                              mobile=mobile or make_mobile(_rng), password=PASSWORD,
                              id_number=id_number)
        db.session.commit()
    return user


def make_transfer(member: PortalMember, to_chapter=None, *, status: str = "requested",
                  reason: str = "搬家") -> int:
    """A transfer request of the member, written directly (the request rules live in hq)."""
    to_chapter = to_chapter or make_chapter()
    transfer = Transfer(member_id=member.member_id, from_chapter_id=member.chapter_id,
                        to_chapter_id=to_chapter.id, status=status, reason=reason,
                        requested_by_id=member.user.id)
    db.session.add(transfer)
    db.session.commit()
    return transfer.id
