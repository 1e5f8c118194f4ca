"""Factories for complaints (each takes its chapter explicitly)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter.complaints import service
from chapter.complaints.models import Complaint
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope


def later(hours: float = 4):
    """A call-back time in the future (aware UTC)."""
    return utcnow() + timedelta(hours=hours)


def make_complaint(chapter, *, owner=None, staff=None, raised_by: str = "staff", now=None,
                   **fields) -> Complaint:
    """An open complaint of ``chapter`` about ``owner`` (a new owner if none), recorded by staff."""
    from chapter.owners import service as owners
    from tests.factories import make_owner, make_user

    owner = owner or make_owner(chapter)
    staff = staff or make_user("chapter_staff", chapter=chapter)
    data = {"channel": "phone", "cause": "repair_quality", "severity": "medium",
            "description": "保养后仍有异响", "callback_due_at": (now or utcnow()) + timedelta(hours=4)}
    data.update(fields)
    with chapter_scope(chapter.id):
        owner_row = owners.get_owner(owner.id)
        complaint = service.record_complaint(owner_row, data, actor=staff, raised_by=raised_by,
                                             now=now)
        db.session.commit()
        db.session.refresh(complaint)
    return complaint


def load(chapter, complaint_id: int) -> Complaint:
    """The complaint as stored now."""
    with chapter_scope(chapter.id):
        db.session.expire_all()
        return db.session.execute(
            sa.select(Complaint).where(Complaint.id == complaint_id)).scalar_one()
