"""Factories for applications and members (each takes its chapter explicitly)."""

from __future__ import annotations

import random

from chapter.recruitment import service as recruitment
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_id_number
from tests.factories import make_owner, make_user

_rng = random.Random(4)


def id_number(birthday=None, gender: str = "male") -> str:
    """A valid 18-character national ID number."""
    from datetime import date

    return make_id_number(_rng, birthday or date(1985, 6, 15), gender)


def make_application(chapter, owner=None, *, source: str = "showroom", by=None,
                     **owner_fields):
    """A pending application of ``chapter`` (for a new owner unless one is given)."""
    owner = owner or make_owner(chapter, **owner_fields)
    with chapter_scope(chapter.id):
        application = recruitment.submit_application(owner, source=source, actor=by)
        db.session.commit()
        db.session.refresh(application)
    return application


def make_member_of(chapter, owner=None, *, by=None, consents=None, **owner_fields):
    """A member of ``chapter``: an application approved by a manager."""
    owner = owner or make_owner(chapter, **owner_fields)
    by = by or make_user("chapter_manager", chapter=chapter)
    application = make_application(chapter, owner, by=by)
    with chapter_scope(chapter.id):
        application = recruitment.get_application(application.id)
        member = recruitment.approve_application(application, actor=by, consents=consents)
        db.session.commit()
        db.session.refresh(member)
    return member
