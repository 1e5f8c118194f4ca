"""Demo data of events: an HQ template and a year of events per demo chapter.

Per chapter: a monthly car-care class (a series, 9 months back and 3 ahead), a self-drive
trip every quarter and the annual gala, with RSVPs, check-ins, no-shows and feedback on
the past ones. Runs after the chapters' demo data (it needs their members). Idempotent:
a chapter that already has its demo series is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

SERIES_TITLE = "爱车课堂"


def _local(day, hour: int) -> datetime:
    from clubplatform.dates import SHANGHAI

    return datetime.combine(day, time(hour, 0), SHANGHAI)


def load(seed: int = 20261124, *, chapters: int | None = None) -> list[tuple[str, str, str]]:
    """Create the demo templates and each demo chapter's year of events."""
    import sqlalchemy as sa

    from chapter.demo import _demo_chapters
    from chapter.events import service
    from chapter.events.models import EventSeries, EventTemplate
    from clubplatform import dates
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from hq.members.models import ACTIVE, Member

    db.session.remove()
    if not db.session.execute(sa.select(EventTemplate.id).where(
            EventTemplate.title_zh == SERIES_TITLE)).first():
        service.save_template({
            "type": "car_care", "title_zh": SERIES_TITLE, "title_en": "Car-care class",
            "description_zh": "每月一次：保养常识、季节用车、动手小课堂。",
            "description_en": "Monthly: maintenance basics, seasonal driving, hands-on tips.",
            "duration_minutes": 120, "capacity": 30, "max_guests": 1, "attendance_points": 50,
            "published": True})
        service.save_template({
            "type": "self_drive", "title_zh": "周末自驾游", "title_en": "Weekend self-drive trip",
            "duration_minutes": 600, "capacity": 40, "max_guests": 2, "attendance_points": 100,
            "published": True})
        db.session.commit()
    template_id = db.session.execute(sa.select(EventTemplate.id).where(
        EventTemplate.title_zh == SERIES_TITLE)).scalar_one()
    today = dates.today()
    for chapter in _demo_chapters()[:chapters]:
        rng = random.Random(f"{seed}/{chapter['code']}/events")
        with chapter_scope(chapter["id"]):
            if db.session.execute(sa.select(EventSeries.id).where(
                    EventSeries.title == SERIES_TITLE)).first():
                db.session.remove()
                continue
            members = list(db.session.execute(
                sa.select(Member.id).where(Member.status == ACTIVE).order_by(Member.id)
            ).scalars())
            first = (today.replace(day=1) - timedelta(days=9 * 31)).replace(day=1) \
                + timedelta(days=13)
            _, events = service.create_series(
                chapter["id"], {"starts_at": _local(first, 14), "place": f"{chapter['city']}"
                                                                         "展厅二楼"},
                frequency="monthly", occurrences=12, template_id=template_id)
            for quarter in range(4):
                day = first + timedelta(days=20 + 91 * quarter)
                events.append(service.create_event(chapter["id"], {
                    "type": "self_drive", "title_zh": f"自驾游 · 第{quarter + 1}站",
                    "title_en": f"Self-drive trip #{quarter + 1}",
                    "starts_at": _local(day, 8), "ends_at": _local(day, 18),
                    "place": "城郊集合点", "capacity": 40, "max_guests": 2,
                    "attendance_points": 100}))
            gala = first + timedelta(days=200)
            events.append(service.create_event(chapter["id"], {
                "type": "gala", "title_zh": "年度车主答谢晚会", "title_en": "Annual owners' gala",
                "starts_at": _local(gala, 18), "ends_at": _local(gala, 22),
                "place": "市中心酒店宴会厅", "capacity": 120, "max_guests": 1,
                "attendance_points": 200}))
            db.session.flush()
            for event in events:
                _fill(service, event, members, rng)
            db.session.commit()
        db.session.remove()
    return []


def _fill(service, event, members: list[int], rng: random.Random) -> None:
    """RSVPs before the deadline; for past events, check-ins, no-shows and feedback."""
    from clubplatform.db import utcnow

    if not members:
        return
    wanted = min(len(members), rng.randint(event.capacity // 2, event.capacity + 5))
    rsvp_at = event.rsvp_deadline - timedelta(days=3)
    for member_id in rng.sample(members, wanted):
        guests = rng.choice([0, 0, 0, 1]) if event.max_guests else 0
        service.rsvp(event.id, member_id, guests=min(guests, event.max_guests), now=rsvp_at)
    if event.ends_at > utcnow():
        return
    rows = [r for r, _ in service.db.session.execute(
        service.registrations_query(event.id, status="registered")).all()]
    for registration in rows:
        if rng.random() < 0.82:
            service.check_in(event, registration, now=event.starts_at)
            if rng.random() < 0.55:
                service.give_feedback(event.id, registration.member_id,
                                      rng.choice([3, 4, 4, 5, 5, 5]),
                                      rng.choice(["很有收获", "组织得好", None, "希望多办几次"]),
                                      now=event.ends_at)
    service.mark_no_shows(event.id, now=event.ends_at)
