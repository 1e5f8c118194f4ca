"""Factories of the care tests: owners, cars and visits written directly (fast), and helpers."""

from __future__ import annotations

import itertools
from datetime import date

import sqlalchemy as sa

from chapter.care import service
from chapter.care.models import CareTask
from chapter.owners.models import Owner, ServiceVisit, Vehicle
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope

_seq = itertools.count(1)


def owner(chapter_id: int, **fields) -> int:
    n = next(_seq)
    with chapter_scope(chapter_id):
        o = Owner(chapter_id=chapter_id, name=fields.pop("name", f"车主{n}"),
                  mobile=fields.pop("mobile", f"139{n:08d}"), **fields)
        db.session.add(o)
        db.session.commit()
        return o.id


def vehicle(chapter_id: int, owner_id: int, **fields) -> int:
    n = next(_seq)
    with chapter_scope(chapter_id):
        v = Vehicle(chapter_id=chapter_id, owner_id=owner_id, vin=f"TESTVIN{n:010d}", **fields)
        db.session.add(v)
        db.session.commit()
        return v.id


def visit(chapter_id: int, owner_id: int, vehicle_id: int, visit_date: date, **fields) -> int:
    n = next(_seq)
    with chapter_scope(chapter_id):
        sv = ServiceVisit(chapter_id=chapter_id, owner_id=owner_id, vehicle_id=vehicle_id,
                          order_no=f"WO{n:08d}", visit_date=visit_date,
                          visit_type=fields.pop("visit_type", "maintenance"),
                          amount_fen=fields.pop("amount_fen", 68000), **fields)
        db.session.add(sv)
        db.session.commit()
        return sv.id


def generate(chapter_id: int, day: date, *, greet: bool = False):
    with chapter_scope(chapter_id):
        result = service.generate_day(chapter_id, day, greet=greet)
        db.session.commit()
    db.session.remove()
    return result


def tasks(chapter_id: int, **where) -> list[tuple]:
    """(owner_id, reason, number, due_on) of the chapter's tasks, sorted."""
    with chapter_scope(chapter_id):
        q = sa.select(CareTask.owner_id, CareTask.reason, CareTask.number, CareTask.due_on)
        for k, v in where.items():
            q = q.where(getattr(CareTask, k) == v)
        rows = sorted(tuple(r) for r in db.session.execute(q).all())
    db.session.remove()
    return rows


def reasons_on(chapter_id: int, day: date, owner_id: int) -> list[tuple]:
    """(reason, number) due on ``day`` for one owner, after generating that day."""
    generate(chapter_id, day)
    return [(r, n) for o, r, n, d in tasks(chapter_id) if o == owner_id and d == day]
