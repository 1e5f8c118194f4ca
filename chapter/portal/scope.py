"""Which chapter a member-portal user works in: their member's, or their application's."""

from __future__ import annotations

import sqlalchemy as sa

from chapter.owners.models import Owner
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.members.models import Member


def portal_scope(user) -> int | None:
    """The chapter of the member (current) or, for an applicant, of their owner record."""
    with unscoped("resolve the portal user's chapter"):
        chapter_id = db.session.execute(
            sa.select(Member.chapter_id).where(Member.user_id == user.id)).scalar_one_or_none()
        if chapter_id is None:
            chapter_id = db.session.execute(
                sa.select(Owner.chapter_id).where(Owner.user_id == user.id)
                .order_by(Owner.id.desc()).limit(1)).scalar_one_or_none()
    return chapter_id
