"""The chapter wing's answers to the member database: owner records on transfer and removal.

:mod:`hq.members.service` never imports the chapter wing; when a member moves to
another chapter or asks to be removed, it sends a signal and these receivers do the
owner-record part inside the same unit of work (the sender has opened ``unscoped``).
They are connected when the chapter wing is imported (the app factory always does).
"""

from __future__ import annotations

import sqlalchemy as sa

from chapter.owners.models import Owner, Vehicle
from chapter.recruitment.models import Application
from clubplatform.db import bytewise, utcnow
from clubplatform.extensions import db
from hq.members import service as members
from hq.members.models import Member


@members.owner_record_for_transfer.connect
def owner_record_in_chapter(member: Member, *, chapter_id: int, **_kwargs) -> int:
    """The member's owner record in ``chapter_id``: the one with their ID number or
    mobile, else a new one made from the member's personal data."""
    owner = None
    for column, value in ((Owner.id_number_digest, member.id_number_digest),
                          (Owner.mobile, member.mobile)):
        if value and owner is None:
            owner = db.session.execute(sa.select(Owner).where(
                Owner.chapter_id == chapter_id, column == value,
                Owner.anonymised_at.is_(None))).scalar_one_or_none()
    if owner is None:
        owner = Owner(chapter_id=chapter_id, kind="individual", name=member.name,
                      gender=member.gender, mobile=member.mobile,
                      id_number_enc=member.id_number_enc,
                      id_number_digest=member.id_number_digest,
                      id_number_masked=member.id_number_masked, birthday=member.birthday,
                      email=member.email, hobbies=list(member.hobbies or []), is_vip=False)
        db.session.add(owner)
    if member.user_id and owner.user_id is None:
        taken = db.session.execute(sa.select(Owner.id).where(
            Owner.chapter_id == chapter_id, Owner.user_id == member.user_id)).first()
        if not taken:
            owner.user_id = member.user_id
    db.session.flush()
    return owner.id


@members.member_anonymising.connect
def anonymise_owner_records(member: Member, *, placeholder: str,
                            **_kwargs) -> list[tuple[int, int]]:
    """Anonymise the person's owner records in every chapter; returns (chapter, owner) ids.

    The person is found by the member's current owner record, the owner whose
    application made them a member, and mobile, ID number and portal account in any
    chapter. Vehicles, visits and statistics stay; plates are cleared.
    """
    conds = [sa.exists().where(Application.member_id == member.id,
                               Application.chapter_id == Owner.chapter_id,
                               Application.owner_id == Owner.id)]
    if member.owner_id:
        conds.append(sa.and_(Owner.chapter_id == member.chapter_id, Owner.id == member.owner_id))
    if member.mobile:
        # across chapters: the person indexes (compared byte by byte on PostgreSQL)
        conds.append(bytewise(Owner.mobile) == member.mobile)
    if member.id_number_digest:
        conds.append(bytewise(Owner.id_number_digest) == member.id_number_digest)
    if member.user_id:
        conds.append(Owner.user_id == member.user_id)
    owners = db.session.execute(
        sa.select(Owner).where(sa.or_(*conds), Owner.anonymised_at.is_(None))
        .order_by(Owner.chapter_id, Owner.id)).scalars().all()
    now = utcnow()
    for owner in owners:
        owner.name = placeholder
        owner.gender = None
        owner.mobile = None
        owner.id_number_enc = owner.id_number_digest = owner.id_number_masked = None
        owner.birthday = None
        owner.occupation = owner.address = owner.postal_code = owner.work_address = None
        owner.email = None
        owner.hobbies = []
        owner.anonymised_at = now
        db.session.execute(
            sa.update(Vehicle).where(Vehicle.chapter_id == owner.chapter_id,
                                     Vehicle.owner_id == owner.id).values(plate=None)
            .execution_options(synchronize_session=False))
    db.session.flush()
    return [(o.chapter_id, o.id) for o in owners]
