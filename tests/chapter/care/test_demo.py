"""The care list's demo: two weeks generated and partly worked, once."""

from __future__ import annotations

import sqlalchemy as sa

from chapter import demo as chapter_demo
from chapter.care import demo as care_demo
from chapter.care.models import CareRun, CareTask
from clubplatform import demo as org_demo
from clubplatform.tenancy import unscoped


def _counts(db):
    with unscoped("test: count the demo's care rows"):
        tasks = dict(db.session.execute(
            sa.select(CareTask.status, sa.func.count()).group_by(CareTask.status)).all())
        runs = db.session.execute(sa.select(sa.func.count()).select_from(CareRun)).scalar()
    return tasks, runs


def test_the_demo_generates_and_works_the_care_list_once(db):
    org_demo.load()
    chapter_demo.load(chapters=1)

    care_demo.load(chapters=1)
    first = _counts(db)
    care_demo.load(chapters=1)

    tasks, runs = first
    assert runs == care_demo.DAYS + 1
    assert tasks.get("open", 0) > 0 and tasks.get("done", 0) > 0
    assert _counts(db) == first
