"""Factories for churn tests: an owner with a car and visits on given dates and amounts."""

from __future__ import annotations

from datetime import date

from tests.chapter.owners.factories import make_vehicle, make_visit
from tests.factories import make_owner


def owner_with_visits(chapter, visits: list[tuple[date, int]], **owner_fields):
    """An owner of ``chapter`` with one car and a visit per ``(date, yuan)``."""
    owner = make_owner(chapter, **owner_fields)
    car = make_vehicle(chapter, owner, delivery_date=date(2020, 1, 1))
    for on, yuan in visits:
        make_visit(chapter, car, visit_date=on, amount=f"{yuan}.00", visit_type="maintenance")
    return owner
