"""The events demo: a year of events per demo chapter with RSVPs, check-ins and feedback."""

from __future__ import annotations

import sqlalchemy as sa

from chapter import demo as chapter_demo
from chapter.events import demo as events_demo
from chapter.events.models import Event, EventFeedback, EventRegistration, EventTemplate
from clubplatform import demo as org_demo
from clubplatform.tenancy import unscoped


def _counts(db) -> dict:
    with unscoped("test: count the demo's rows"):
        return {m.__tablename__: db.session.execute(
            sa.select(sa.func.count()).select_from(m)).scalar_one()
            for m in (EventTemplate, Event, EventRegistration, EventFeedback)}


def test_the_events_demo_fills_a_year_and_loads_once(db):
    org_demo.load()
    chapter_demo.load(chapters=1)
    events_demo.load(chapters=1)
    first = _counts(db)
    events_demo.load(chapters=1)
    assert _counts(db) == first
    assert first["events"] == 12 + 4 + 1
    assert first["event_registrations"] > 0 and first["event_feedback"] > 0
    with unscoped("test: read the demo"):
        attended = db.session.execute(sa.select(sa.func.count()).select_from(EventRegistration)
                                      .where(EventRegistration.checked_in_at.is_not(None))
                                      ).scalar_one()
    assert attended > 0
