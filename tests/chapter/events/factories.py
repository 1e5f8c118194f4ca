"""Factories for event tests: events, registrations (each takes its chapter explicitly)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from chapter.events import service
from chapter.events.models import Event, EventRegistration
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope


def event_data(**fields) -> dict:
    starts = fields.pop("starts_at", utcnow() + timedelta(days=7))
    data = {"type": "car_care", "title_zh": "爱车课堂", "title_en": "Car-care class",
            "starts_at": starts, "ends_at": starts + timedelta(hours=2),
            "place": "展厅二楼", "capacity": 30, "max_guests": 0, "attendance_points": 50}
    data.update(fields)
    return data


def make_event(chapter, **fields) -> int:
    """An event of ``chapter`` (a week ahead unless ``starts_at`` is given); returns its id."""
    with chapter_scope(chapter.id):
        event = service.create_event(chapter.id, event_data(**fields))
        db.session.commit()
        return event.id


def make_event_today(chapter, **fields) -> int:
    """An event that started an hour ago (check-in open), RSVPs closed."""
    starts = utcnow() - timedelta(hours=1)
    return make_event(chapter, starts_at=starts, ends_at=starts + timedelta(hours=3),
                      rsvp_deadline=starts - timedelta(days=1), **fields)


def register(chapter, event_id: int, member_id: int, *, guests: int = 0, now=None):
    """An RSVP made before the deadline (``now`` defaults to a day before the event)."""
    with chapter_scope(chapter.id):
        event = db.session.execute(sa.select(Event).where(Event.id == event_id)).scalar_one()
        at = now or min(utcnow(), event.rsvp_deadline - timedelta(minutes=1))
        result = service.rsvp(event_id, member_id, guests=guests, now=at)
        db.session.commit()
        return result.registration.id


def load_registration(chapter, registration_id: int) -> EventRegistration:
    with chapter_scope(chapter.id):
        return db.session.execute(
            sa.select(EventRegistration).where(EventRegistration.id == registration_id)
            .execution_options(populate_existing=True)).scalar_one()


def load_event(chapter, event_id: int) -> Event:
    with chapter_scope(chapter.id):
        return db.session.execute(sa.select(Event).where(Event.id == event_id)
                                  .execution_options(populate_existing=True)).scalar_one()


def consenting_member(chapter, owner=None, *, consent: bool = True):
    """A member of ``chapter`` who accepts marketing e-mail (unless ``consent`` is False)."""
    from hq.members.models import Member
    from tests.factories import make_member

    member = make_member(chapter, owner)
    if consent:
        with chapter_scope(chapter.id):
            db.session.execute(sa.update(Member).where(Member.id == member.id).values(
                consent_email=True, email=f"m{member.id}@example.com"))
            db.session.commit()
    return member


def segmented_members(chapter) -> dict[str, int]:
    """Members whose owners fall in known churn cells as of today; returns ids by name.

    Seven owners with visits (N = 7: D is the top owner by spend, G the next two, S the
    rest); loyalty by the last visit: A a month ago, B eight months ago, C fifteen months
    ago (all within the 24-month value window). Keys are ``<value><loyalty>`` for the
    consenting members, plus ``SC_no_consent`` (a member who refused marketing) and
    ``no_visits`` (a consenting member whose owner never came, in no segment); two
    owners (``S/B``, ``S/A``) are not members.
    """
    from clubplatform import dates
    from tests.chapter.churn.factories import owner_with_visits

    today = dates.today()
    ago = {"A": today - timedelta(days=30), "B": today - timedelta(days=240),
           "C": today - timedelta(days=450)}

    def owner(yuan: int, loyalty: str):
        return owner_with_visits(chapter, [(ago[loyalty], yuan)])

    ids = {
        "DA": consenting_member(chapter, owner(7000, "A")).id,
        "GC": consenting_member(chapter, owner(6000, "C")).id,
        "GB": consenting_member(chapter, owner(5000, "B")).id,
        "SA": consenting_member(chapter, owner(400, "A")).id,
    }
    owner(300, "B")
    ids["SC_no_consent"] = consenting_member(chapter, owner(200, "C"), consent=False).id
    owner(100, "A")
    ids["no_visits"] = consenting_member(chapter).id
    return ids
