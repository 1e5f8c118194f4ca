"""The complaints' demo data: complaints in every state, loaded twice without doubling."""

from __future__ import annotations

import sqlalchemy as sa

from chapter import demo as chapter_demo
from chapter.complaints import demo as complaints_demo
from chapter.complaints.models import Complaint
from chapter.points import demo as points_demo
from clubplatform import demo as org_demo
from clubplatform.tenancy import unscoped


def _load():
    org_demo.load()
    chapter_demo.load(chapters=1)
    points_demo.load(chapters=1)
    return complaints_demo.load(chapters=1)


def _states(db):
    with unscoped("test: the demo's complaints"):
        return db.session.execute(sa.select(
            Complaint.status, Complaint.reopen_count > 0, Complaint.escalated_at.is_not(None),
            Complaint.goodwill_kind)).all()


def test_the_demo_has_open_closed_reopened_and_escalated_complaints(db):
    _load()
    rows = _states(db)
    assert len(rows) == complaints_demo.PER_CHAPTER
    assert {r[0] for r in rows} == {"open", "closed"}
    assert any(r[1] for r in rows)
    assert any(r[2] for r in rows)


def test_loading_the_demo_twice_adds_nothing(db):
    _load()
    first = len(_states(db))
    complaints_demo.load(chapters=1)
    assert len(_states(db)) == first


def test_the_complaints_demo_is_a_demo_loader(app):
    assert complaints_demo.load in app.extensions["demo_loaders"]
