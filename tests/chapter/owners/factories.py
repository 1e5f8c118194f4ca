"""Factories for owners' vehicles and visits (owners themselves: tests.factories.make_owner)."""

from __future__ import annotations

import itertools
import random
from datetime import date

from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_vin

_seq = itertools.count(1)


def make_vehicle(chapter, owner=None, **fields):
    """A vehicle of ``owner`` (a new owner of ``chapter`` if none) with a valid VIN."""
    from chapter.owners import service as owners
    from tests.factories import make_owner

    owner = owner or make_owner(chapter)
    data = {"vin": make_vin(random.Random(next(_seq) * 7919)), "plate": None,
            "model": "GLC 300L", "delivery_date": date(2023, 3, 15)}
    data.update(fields)
    with chapter_scope(chapter.id):
        vehicle = owners.add_vehicle(owners.get_owner(owner.id), data)
        db.session.commit()
        db.session.refresh(vehicle)
    return vehicle


def make_visit(chapter, vehicle, **fields):
    """A service visit of ``vehicle`` (maintenance, 680 yuan, after the delivery)."""
    from chapter.owners import service as owners

    data = {"order_no": f"WO{next(_seq):06d}", "visit_date": date(2024, 5, 20),
            "visit_type": "maintenance", "amount": "680.00", "mileage_km": 12000}
    data.update(fields)
    with chapter_scope(chapter.id):
        visit = owners.add_visit(owners.get_vehicle(vehicle.id), data)
        db.session.commit()
        db.session.refresh(visit)
    return visit
