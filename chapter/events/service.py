"""Chapter events: creating them (alone, from an HQ template, as a series), RSVPs with a
waitlist, check-in, no-shows, attendance points, feedback and the summary.

Every function runs in the chapter's tenant scope (staff's, or the member's chapter in
the portal), so another chapter's event, registration or code is simply not found.
Services only flush; the edge commits.

Capacity holds under concurrency because every change to an event's seats (RSVP,
cancellation, waitlist promotion, capacity change) first locks the event's row
(``SELECT … FOR UPDATE``); the arrival order is the event's ``rsvp_seq`` counter,
taken under that lock. Attendance points go through
:func:`hq.points.earning.earn_for_attendance`, whose ledger key
(``attendance:<event>:<member>``) keeps them to once per attendee and event.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.events.models import (
    CANCELLED,
    EVENT_TYPES,
    FREQUENCIES,
    REGISTERED,
    SCHEDULED,
    WAITLISTED,
    WITHDRAWN,
    Event,
    EventFeedback,
    EventInvitation,
    EventRegistration,
    EventSeries,
    EventTemplate,
)
from chapter.recruitment.models import Application
from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.dates import SHANGHAI
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, ValidationFailed, field_error
from clubplatform.extensions import db
from hq.members.models import ACTIVE, Member
from hq.perks import codes
from hq.points import earning, ledger

#: how people call the event types (爱车课堂 / 自驾游 / 答谢晚会 / 试驾 / 其他)
TYPE_LABELS = {
    "car_care": _l("Car-care class"),
    "self_drive": _l("Self-drive trip"),
    "gala": _l("Gala"),
    "test_drive": _l("Test drive"),
    "other": _l("Other"),
}
REGISTRATION_LABELS = {
    REGISTERED: _l("Registered"),
    WAITLISTED: _l("Waitlist"),
    WITHDRAWN: _l("Cancelled"),
}
#: most guests a member may bring to one event
GUESTS_MAX = 10
#: most seats an event may have
CAPACITY_MAX = 100_000
#: most events a series may create at once
SERIES_MAX = 24
#: the largest id a row can have (BIGINT): a larger one in a URL is simply not found
ID_MAX = 2**63 - 1
#: check-in opens on the event's day, and at least this long before it starts
DOORS_OPEN = timedelta(hours=3)


# --- cleaning input ---------------------------------------------------------------------

def as_utc(value, field_name: str) -> datetime | None:
    """A datetime (aware, or naive meaning Asia/Shanghai) or ISO text, as aware UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise field_error(field_name, _l("Not a date and time (use YYYY-MM-DD HH:MM).")) \
                from exc
    if not isinstance(value, datetime):
        raise field_error(field_name, _l("Not a date and time (use YYYY-MM-DD HH:MM)."))
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(SHANGHAI).astimezone(utcnow().tzinfo)


def _int(data: dict, name: str, errors: dict, *, low: int, high: int, message) -> int | None:
    raw = data.get(name)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[name] = [message]
        return None
    if not low <= value <= high:
        errors[name] = [message]
        return None
    return value


EVENT_FIELDS = ("type", "title_zh", "title_en", "description_zh", "description_en", "starts_at",
                "ends_at", "place", "capacity", "rsvp_deadline", "max_guests",
                "attendance_points")


def clean_event(data: dict, *, current: Event | None = None) -> dict:
    """Validate an event's fields (all, or a change to ``current``); errors name each field."""
    merged = {}
    if current is not None:
        merged = {k: getattr(current, k) for k in EVENT_FIELDS}
    merged.update({k: v for k, v in data.items() if k in EVENT_FIELDS})
    errors: dict[str, list] = {}
    out: dict = {}
    if merged.get("type") not in EVENT_TYPES:
        errors["type"] = [_l("Choose the type of event.")]
    out["type"] = merged.get("type")
    title = (merged.get("title_zh") or "").strip()
    if not title:
        errors["title_zh"] = [_l("Enter the title in Chinese.")]
    elif len(title) > 128:
        errors["title_zh"] = [_l("Keep the title under 128 characters.")]
    out["title_zh"] = title
    out["title_en"] = (merged.get("title_en") or "").strip()[:128] or None
    out["description_zh"] = (merged.get("description_zh") or "").strip()[:5000] or None
    out["description_en"] = (merged.get("description_en") or "").strip()[:5000] or None
    place = (merged.get("place") or "").strip()
    if not place:
        errors["place"] = [_l("Enter where the event takes place.")]
    out["place"] = place[:255]
    for name in ("starts_at", "ends_at", "rsvp_deadline"):
        try:
            out[name] = as_utc(merged.get(name), name)
        except ValidationFailed as exc:
            errors.update(exc.fields)
            out[name] = None
    if out["starts_at"] is None and "starts_at" not in errors:
        errors["starts_at"] = [_l("Enter when the event starts.")]
    if out["ends_at"] is None and "ends_at" not in errors:
        errors["ends_at"] = [_l("Enter when the event ends.")]
    if out["starts_at"] and out["ends_at"] and out["ends_at"] <= out["starts_at"]:
        errors["ends_at"] = [_l("The event must end after it starts.")]
    if out["rsvp_deadline"] is None and out["starts_at"] and "rsvp_deadline" not in errors:
        out["rsvp_deadline"] = out["starts_at"]
    if out["rsvp_deadline"] and out["starts_at"] and out["rsvp_deadline"] > out["starts_at"]:
        errors["rsvp_deadline"] = [_l("The RSVP deadline must be before the event starts.")]
    out["capacity"] = _int(merged, "capacity", errors, low=1, high=CAPACITY_MAX,
                           message=_l("Enter the number of seats (at least 1)."))
    merged.setdefault("max_guests", 0)
    if merged.get("max_guests") in (None, ""):
        merged["max_guests"] = 0
    out["max_guests"] = _int(merged, "max_guests", errors, low=0, high=GUESTS_MAX,
                             message=_l("Guests per member: a number from 0 to %(n)s.",
                                        n=GUESTS_MAX))
    if merged.get("attendance_points") in (None, ""):
        merged["attendance_points"] = 0
    out["attendance_points"] = _int(merged, "attendance_points", errors, low=0,
                                    high=earning.POINTS_MAX,
                                    message=_l("Enter the points for attending (0 or more)."))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return out


# --- HQ's templates -----------------------------------------------------------------------

TEMPLATE_FIELDS = ("type", "title_zh", "title_en", "description_zh", "description_en",
                   "duration_minutes", "capacity", "max_guests", "attendance_points",
                   "published")


def template_query(*, published_only: bool = True) -> sa.Select:
    """HQ's event templates, newest first (chapters see the published ones)."""
    stmt = sa.select(EventTemplate).order_by(EventTemplate.id.desc())
    if published_only:
        stmt = stmt.where(EventTemplate.published.is_(True))
    return stmt


def get_template(template_id: int, *, published_only: bool = True) -> EventTemplate:
    """A template; chapters find only published ones."""
    template = None
    if _id_ok(template_id):
        template = db.session.execute(template_query(published_only=published_only)
                                      .where(EventTemplate.id == template_id)
                                      ).scalar_one_or_none()
    if template is None:
        raise NotFound(_l("No such event template."))
    return template


def save_template(data: dict, template: EventTemplate | None = None, *, actor=None,
                  ip: str | None = None) -> EventTemplate:
    """Create or change an HQ event template (validated like an event, without a date)."""
    merged = {k: getattr(template, k) for k in TEMPLATE_FIELDS} if template else {}
    merged.update({k: v for k, v in data.items() if k in TEMPLATE_FIELDS})
    errors: dict[str, list] = {}
    if merged.get("type") not in EVENT_TYPES:
        errors["type"] = [_l("Choose the type of event.")]
    title = (merged.get("title_zh") or "").strip()
    if not title:
        errors["title_zh"] = [_l("Enter the title in Chinese.")]
    duration = _int({**{"duration_minutes": 120}, **{k: v for k, v in merged.items() if v not in
                                                      (None, "")}},
                    "duration_minutes", errors, low=1, high=7 * 24 * 60,
                    message=_l("Enter the length in minutes (at least 1)."))
    capacity = _int({"capacity": merged.get("capacity") or 30}, "capacity", errors, low=1,
                    high=CAPACITY_MAX, message=_l("Enter the number of seats (at least 1)."))
    guests = _int({"max_guests": merged.get("max_guests") or 0}, "max_guests", errors, low=0,
                  high=GUESTS_MAX, message=_l("Guests per member: a number from 0 to %(n)s.",
                                              n=GUESTS_MAX))
    points = _int({"attendance_points": merged.get("attendance_points") or 0},
                  "attendance_points", errors, low=0, high=earning.POINTS_MAX,
                  message=_l("Enter the points for attending (0 or more)."))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    if template is None:
        template = EventTemplate(created_by_id=getattr(actor, "id", None))
        db.session.add(template)
    template.type = merged["type"]
    template.title_zh = title[:128]
    template.title_en = (merged.get("title_en") or "").strip()[:128] or None
    template.description_zh = (merged.get("description_zh") or "").strip()[:5000] or None
    template.description_en = (merged.get("description_en") or "").strip()[:5000] or None
    template.duration_minutes = duration
    template.capacity = capacity
    template.max_guests = guests
    template.attendance_points = points
    template.published = bool(merged.get("published"))
    db.session.flush()
    audit.record("event_template_saved", actor=actor, ip=ip, target_type="event_template",
                 target_id=template.id, details={"published": template.published})
    return template


def from_template(template: EventTemplate, data: dict) -> dict:
    """An event's fields: the template's, overridden by what the chapter entered."""
    out = {"type": template.type, "title_zh": template.title_zh, "title_en": template.title_en,
           "description_zh": template.description_zh,
           "description_en": template.description_en, "capacity": template.capacity,
           "max_guests": template.max_guests, "attendance_points": template.attendance_points}
    out.update({k: v for k, v in data.items() if v not in (None, "")})
    starts = data.get("starts_at")
    if starts and not data.get("ends_at"):
        start = as_utc(starts, "starts_at")
        out["ends_at"] = start + timedelta(minutes=template.duration_minutes)
    return out


# --- events -------------------------------------------------------------------------------

def create_event(chapter_id: int, data: dict, *, template_id: int | None = None,
                 series: EventSeries | None = None, actor=None,
                 ip: str | None = None) -> Event:
    """Create an event (optionally from a published HQ template, or as part of a series)."""
    template = get_template(template_id) if template_id else None
    if template is not None:
        data = from_template(template, data)
    clean = clean_event(data)
    event = Event(chapter_id=chapter_id, status=SCHEDULED, rsvp_seq=0,
                  template_id=template.id if template else None,
                  series_id=series.id if series else None,
                  created_by_id=getattr(actor, "id", None), **clean)
    db.session.add(event)
    db.session.flush()
    audit.record("event_created", actor=actor, ip=ip, chapter_id=chapter_id, target_type="event",
                 target_id=event.id, details={"type": event.type})
    return event


def _shift(moment: datetime, frequency: str, n: int) -> datetime:
    """``moment`` moved ``n`` weeks or months later, at the same Shanghai wall-clock time."""
    local = moment.astimezone(SHANGHAI)
    if frequency == "weekly":
        shifted = local + timedelta(weeks=n)
    else:
        month0 = local.month - 1 + n
        year, month = local.year + month0 // 12, month0 % 12 + 1
        day = min(local.day, _calendar.monthrange(year, month)[1])
        shifted = local.replace(year=year, month=month, day=day)
    return shifted.astimezone(moment.tzinfo)


def create_series(chapter_id: int, data: dict, *, frequency: str, occurrences,
                  template_id: int | None = None, actor=None,
                  ip: str | None = None) -> tuple[EventSeries, list[Event]]:
    """Create ``occurrences`` events, one each week or month from the first one's date."""
    errors: dict[str, list] = {}
    if frequency not in FREQUENCIES:
        errors["frequency"] = [_l("Choose weekly or monthly.")]
    count = _int({"occurrences": occurrences}, "occurrences", errors, low=1, high=SERIES_MAX,
                 message=_l("Create from 1 to %(n)s events.", n=SERIES_MAX))
    template = get_template(template_id) if template_id else None
    if template is not None:
        data = from_template(template, data)
    try:
        first = clean_event(data)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    series = EventSeries(chapter_id=chapter_id, title=first["title_zh"], frequency=frequency,
                         occurrences=count, created_by_id=getattr(actor, "id", None))
    db.session.add(series)
    db.session.flush()
    events = []
    for n in range(count):
        moved = dict(first)
        for name in ("starts_at", "ends_at", "rsvp_deadline"):
            moved[name] = _shift(first[name], frequency, n)
        events.append(create_event(chapter_id, moved, series=series, actor=actor, ip=ip))
        if template is not None:
            events[-1].template_id = template.id
    db.session.flush()
    return series, events


def _id_ok(value) -> bool:
    return isinstance(value, int) and 0 < value <= ID_MAX


def get_event(event_id: int) -> Event:
    """An event of the scope's chapter; another chapter's is not found."""
    event = None
    if _id_ok(event_id):
        event = db.session.execute(sa.select(Event).where(Event.id == event_id)
                                   ).scalar_one_or_none()
    if event is None:
        raise NotFound(_l("No such event."))
    return event


def lock_event(event_id: int) -> Event:
    """The event, its row locked until the transaction ends (serialises seat changes)."""
    if not _id_ok(event_id):
        raise NotFound(_l("No such event."))
    event = db.session.execute(
        sa.select(Event).where(Event.id == event_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if event is None:
        raise NotFound(_l("No such event."))
    return event


def event_query(*, upcoming: bool | None = None, status: str | None = None,
                type: str | None = None, now: datetime | None = None) -> sa.Select:
    """The chapter's events: upcoming soonest first, past most recent first."""
    now = now or utcnow()
    stmt = sa.select(Event)
    if status:
        stmt = stmt.where(Event.status == status)
    if type:
        stmt = stmt.where(Event.type == type)
    if upcoming is True:
        return stmt.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    if upcoming is False:
        stmt = stmt.where(Event.ends_at < now)
    return stmt.order_by(Event.starts_at.desc(), Event.id.desc())


def seats_taken(event_id: int) -> int:
    """Seats held by registered members and their guests."""
    return int(db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(1 + EventRegistration.guests), 0))
        .where(EventRegistration.event_id == event_id,
               EventRegistration.status == REGISTERED)).scalar_one())


def update_event(event_id: int, data: dict, *, actor=None, ip: str | None = None) -> Event:
    """Change an event; capacity never below the seats taken; more seats move the waitlist."""
    event = lock_event(event_id)
    if event.status == CANCELLED:
        raise field_error("status", _l("This event was cancelled."), Conflict)
    clean = clean_event(data, current=event)
    taken = seats_taken(event.id)
    if clean["capacity"] < taken:
        raise field_error("capacity", _l(
            "%(n)s seats are already taken: the capacity cannot be lower.", n=taken))
    for name, value in clean.items():
        setattr(event, name, value)
    db.session.flush()
    promote_waitlist(event)
    audit.record("event_updated", actor=actor, ip=ip, chapter_id=event.chapter_id,
                 target_type="event", target_id=event.id, details={})
    return event


def cancel_event(event_id: int, reason: str, *, actor=None, ip: str | None = None) -> Event:
    """Cancel an event (with the reason); cancelling again changes nothing."""
    event = lock_event(event_id)
    if event.status == CANCELLED:
        return event
    text = (reason or "").strip()
    if not text:
        raise field_error("reason", _l("Give the reason the event is cancelled."))
    event.status = CANCELLED
    event.cancel_reason = text[:255]
    db.session.flush()
    audit.record("event_cancelled", actor=actor, ip=ip, chapter_id=event.chapter_id,
                 target_type="event", target_id=event.id, details={})
    return event


def event_choices(*, around: date | None = None) -> list[Event]:
    """Events a recruitment source may name: the last year's and the next 3 months'."""
    day = around or dates.today()
    return list(db.session.execute(
        sa.select(Event).where(Event.starts_at >= dates.day_start_utc(day - timedelta(days=366)),
                               Event.starts_at < dates.day_end_utc(day + timedelta(days=92)))
        .order_by(Event.starts_at.desc())).scalars())


def check_recruiting_event(event_id) -> int | None:
    """The id of the chapter's event an application names (for source "event")."""
    if event_id in (None, "", 0):
        return None
    try:
        wanted = int(event_id)
    except (TypeError, ValueError):
        wanted = None
    found = None
    if _id_ok(wanted):
        found = db.session.execute(
            sa.select(Event.id).where(Event.id == wanted)).scalar_one_or_none()
    if found is None:
        raise field_error("event_id", _l("Choose an event of this chapter."))
    return found


# --- the calendar -------------------------------------------------------------------------

@dataclass
class CalendarDay:
    day: date
    in_month: bool
    events: list = field(default_factory=list)


def month_calendar(year: int, month: int) -> list[list[CalendarDay]]:
    """The month's weeks (Monday first), each day with its events (Asia/Shanghai dates)."""
    first = date(year, month, 1)
    start = first - timedelta(days=first.weekday())
    last = dates.month_end(first)
    end = last + timedelta(days=6 - last.weekday())
    rows = db.session.execute(
        sa.select(Event).where(Event.starts_at >= dates.day_start_utc(start),
                               Event.starts_at < dates.day_end_utc(end))
        .order_by(Event.starts_at, Event.id)).scalars()
    by_day: dict[date, list] = {}
    for event in rows:
        by_day.setdefault(dates.local(event.starts_at).date(), []).append(event)
    weeks, cursor = [], start
    while cursor <= end:
        week = []
        for _ in range(7):
            week.append(CalendarDay(cursor, cursor.month == month, by_day.get(cursor, [])))
            cursor += timedelta(days=1)
        weeks.append(week)
    return weeks


# --- RSVP and the waitlist ----------------------------------------------------------------

@dataclass
class Rsvp:
    registration: EventRegistration
    created: bool


def _new_code() -> str:
    return codes.new_code()


def _member(member_id: int) -> Member:
    member = db.session.execute(sa.select(Member).where(Member.id == member_id)
                                ).scalar_one_or_none()
    if member is None:
        raise NotFound(_l("No such member."))
    return member


def member_registration(event_id: int, member_id: int) -> EventRegistration | None:
    return db.session.execute(
        sa.select(EventRegistration).where(EventRegistration.event_id == event_id,
                                           EventRegistration.member_id == member_id)
        .execution_options(populate_existing=True)).scalar_one_or_none()


def rsvp(event_id: int, member_id: int, *, guests=0, now: datetime | None = None,
         actor=None) -> Rsvp:
    """Register a member (and guests) for an event, or put them on the waitlist when full.

    Refused after the RSVP deadline, for a cancelled event, for an inactive member or
    with more guests than the event allows. A member already registered or waiting
    keeps their place (nothing changes); one who cancelled joins again at the end.
    """
    now = now or utcnow()
    # a repeat changes nothing: answered without taking the event's lock (a burst of
    # repeats does not queue behind the newcomers)
    existing = member_registration(event_id, member_id)
    if existing is not None and existing.status in (REGISTERED, WAITLISTED):
        event = db.session.get(Event, event_id)  # usually loaded already (the 404 check)
        if event is not None and event.status != CANCELLED:
            return Rsvp(existing, False)
    event = lock_event(event_id)
    if event.status == CANCELLED:
        raise field_error("event_id", _l("This event was cancelled."), Conflict)
    if now > event.rsvp_deadline:
        raise field_error("rsvp_deadline", _l("RSVPs for this event closed on %(at)s.",
                                              at=dates.local(event.rsvp_deadline)
                                              .strftime("%Y-%m-%d %H:%M")))
    try:
        party = int(guests or 0)
    except (TypeError, ValueError):
        party = -1
    if party < 0 or party > event.max_guests:
        if event.max_guests == 0:
            raise field_error("guests", _l("Guests are not allowed at this event."))
        raise field_error("guests", _l("Bring at most %(n)s guests.", n=event.max_guests))
    member = _member(member_id)
    if member.status != ACTIVE:
        raise field_error("member_id", _l("Only active members can register."))
    existing = member_registration(event.id, member.id)
    if existing is not None and existing.status in (REGISTERED, WAITLISTED):
        return Rsvp(existing, False)
    event.rsvp_seq = (event.rsvp_seq or 0) + 1
    fits = seats_taken(event.id) + 1 + party <= event.capacity and not _waitlist_ahead(event)
    status = REGISTERED if fits else WAITLISTED
    if existing is None:
        registration = EventRegistration(chapter_id=event.chapter_id, event_id=event.id,
                                         member_id=member.id, guests=party, status=status,
                                         seq=event.rsvp_seq, code=_new_code())
        db.session.add(registration)
    else:
        registration = existing
        registration.guests, registration.status = party, status
        registration.seq, registration.cancelled_at = event.rsvp_seq, None
        registration.promoted_at = None
    db.session.flush()
    return Rsvp(registration, True)


def _waitlist_ahead(event: Event) -> bool:
    """Whether anyone waits already (a newcomer never jumps the queue)."""
    return db.session.execute(
        sa.select(EventRegistration.id).where(EventRegistration.event_id == event.id,
                                              EventRegistration.status == WAITLISTED).limit(1)
    ).first() is not None


def waitlist(event_id: int) -> list[EventRegistration]:
    """The waitlist in arrival order."""
    return list(db.session.execute(
        sa.select(EventRegistration).where(EventRegistration.event_id == event_id,
                                           EventRegistration.status == WAITLISTED)
        .order_by(EventRegistration.seq, EventRegistration.id)).scalars())


def waitlist_position(registration: EventRegistration) -> int | None:
    """1 for the first waiting, … (None when not waiting)."""
    if registration.status != WAITLISTED:
        return None
    return int(db.session.execute(
        sa.select(sa.func.count()).select_from(EventRegistration)
        .where(EventRegistration.event_id == registration.event_id,
               EventRegistration.status == WAITLISTED,
               EventRegistration.seq <= registration.seq)).scalar_one())


def promote_waitlist(event: Event, *, now: datetime | None = None) -> list[EventRegistration]:
    """Move the waitlist up, strictly in arrival order, while the next party fits.

    The caller holds the event's row lock. Each promoted member is notified.
    """
    if event.status == CANCELLED:
        return []
    now = now or utcnow()
    free = event.capacity - seats_taken(event.id)
    promoted = []
    for registration in waitlist(event.id):
        if 1 + registration.guests > free:
            break
        registration.status = REGISTERED
        registration.promoted_at = now
        free -= 1 + registration.guests
        promoted.append(registration)
    if promoted:
        db.session.flush()
        from chapter.events import outbox

        for registration in promoted:
            outbox.notify_promoted(event, registration)
    return promoted


def cancel_registration(registration_id: int, *, member_id: int | None = None,
                        now: datetime | None = None, actor=None) -> tuple[EventRegistration, bool]:
    """Cancel an RSVP or a waitlist place; a freed seat moves the waitlist up.

    With ``member_id`` (the portal) only the member's own registration is found, and only
    until the event starts. Cancelling again changes nothing (returns ``False``).
    """
    now = now or utcnow()
    found = get_registration(registration_id, member_id=member_id)
    event = lock_event(found.event_id)
    registration = db.session.execute(
        sa.select(EventRegistration).where(EventRegistration.id == registration_id)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    if registration.status == WITHDRAWN:
        return registration, False
    if registration.checked_in_at is not None:
        raise field_error("registration_id", _l("This registration is already checked in."),
                          Conflict)
    if member_id is not None and now >= event.starts_at:
        raise field_error("registration_id", _l("The event has started: it can no longer be "
                                                "cancelled here."))
    was_registered = registration.status == REGISTERED
    registration.status = WITHDRAWN
    registration.cancelled_at = now
    db.session.flush()
    if was_registered:
        promote_waitlist(event, now=now)
    return registration, True


def get_registration(registration_id: int, *, member_id: int | None = None,
                     event_id: int | None = None) -> EventRegistration:
    """A registration of the chapter (of the member, of the event, when given)."""
    if not _id_ok(registration_id):
        raise NotFound(_l("No such registration."))
    stmt = sa.select(EventRegistration).where(EventRegistration.id == registration_id)
    if member_id is not None:
        stmt = stmt.where(EventRegistration.member_id == member_id)
    if event_id is not None:
        stmt = stmt.where(EventRegistration.event_id == event_id)
    registration = db.session.execute(stmt).scalar_one_or_none()
    if registration is None:
        raise NotFound(_l("No such registration."))
    return registration


def registrations_query(event_id: int, *, status: str | None = None,
                        q: str | None = None) -> sa.Select:
    """An event's registrations with their member, registered first, in arrival order."""
    stmt = (sa.select(EventRegistration, Member)
            .outerjoin(Member, Member.id == EventRegistration.member_id)
            .where(EventRegistration.event_id == event_id))
    if status:
        stmt = stmt.where(EventRegistration.status == status)
    text = (q or "").strip()
    if text:
        code = codes.normalise(text)
        if text.isdigit():
            stmt = stmt.where(sa.or_(Member.mobile.like(f"{text}%"),
                                     EventRegistration.walk_in_mobile.like(f"{text}%")))
        else:
            stmt = stmt.where(sa.or_(Member.name.like(f"%{text}%"),
                                     EventRegistration.walk_in_name.like(f"%{text}%"),
                                     Member.member_number == text.upper(),
                                     EventRegistration.code == code))
    order = sa.case((EventRegistration.status == REGISTERED, 0),
                    (EventRegistration.status == WAITLISTED, 1), else_=2)
    return stmt.order_by(order, EventRegistration.seq, EventRegistration.id)


def member_events_query(member_id: int, *, now: datetime | None = None) -> sa.Select:
    """Upcoming events of the member's chapter with the member's registration (if any)."""
    now = now or utcnow()
    return (sa.select(Event, EventRegistration)
            .outerjoin(EventRegistration, sa.and_(
                EventRegistration.chapter_id == Event.chapter_id,
                EventRegistration.event_id == Event.id,
                EventRegistration.member_id == member_id))
            .where(Event.ends_at >= now, Event.status == SCHEDULED)
            .order_by(Event.starts_at, Event.id))


def member_registrations_query(member_id: int) -> sa.Select:
    """The member's registrations with their event, latest event first."""
    return (sa.select(EventRegistration, Event)
            .join(Event, sa.and_(Event.chapter_id == EventRegistration.chapter_id,
                                 Event.id == EventRegistration.event_id))
            .where(EventRegistration.member_id == member_id)
            .order_by(Event.starts_at.desc(), EventRegistration.id.desc()))


# --- check-in -----------------------------------------------------------------------------

def _check_in_open(event: Event, now: datetime) -> None:
    if event.status == CANCELLED:
        raise field_error("event_id", _l("This event was cancelled."), Conflict)
    opens = min(dates.day_start_utc(dates.local(event.starts_at).date()),
                event.starts_at - DOORS_OPEN)
    if now < opens:
        raise field_error("event_id", _l("Check-in opens on the day of the event."))


def find_by_code(event: Event, code: str) -> EventRegistration:
    """The registration of this event a scanned or typed code belongs to."""
    clean = codes.normalise(code)
    if not clean:
        raise field_error("code", _l("Scan or type the registration code."))
    registration = None
    if codes.looks_valid(clean):
        registration = db.session.execute(
            sa.select(EventRegistration).where(EventRegistration.code == clean)
        ).scalar_one_or_none()
    if registration is None:
        raise field_error("code", _l("No registration has this code."))
    if registration.event_id != event.id:
        raise field_error("code", _l("This code is for another event."))
    return registration


@dataclass
class CheckIn:
    registration: EventRegistration
    newly: bool
    points: int


def check_in(event: Event, registration: EventRegistration, *, now: datetime | None = None,
             actor=None) -> CheckIn:
    """Check a registration in at the door; checking in again changes nothing.

    A cancelled registration or a waitlist place is refused (add a walk-in instead).
    Attendance points are awarded once (the ledger's key).
    """
    now = now or utcnow()
    _check_in_open(event, now)
    if registration.event_id != event.id:
        raise field_error("code", _l("This code is for another event."))
    registration = db.session.execute(
        sa.select(EventRegistration).where(EventRegistration.id == registration.id)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    if registration.status == WITHDRAWN:
        raise field_error("code", _l("This registration was cancelled."), Conflict)
    if registration.status == WAITLISTED:
        raise field_error("code", _l("This member is on the waitlist: add them as a walk-in "
                                     "if there is room."), Conflict)
    newly = registration.checked_in_at is None
    if newly:
        registration.checked_in_at = now
        registration.checked_in_by_id = getattr(actor, "id", None)
        registration.no_show = False
        db.session.flush()
    points = award_attendance(event, registration)
    return CheckIn(registration, newly, points)


def award_attendance(event: Event, registration: EventRegistration) -> int:
    """Hand an attendee's points to the ledger (once: its idempotency key); points posted now."""
    if (registration.member_id is None or registration.checked_in_at is None
            or event.attendance_points <= 0):
        return 0
    posted = earning.earn_for_attendance(registration.member_id, event.chapter_id, event.id,
                                         dates.local(event.starts_at).date())
    if registration.points_recorded_at is None:
        registration.points_recorded_at = utcnow()
        db.session.flush()
    if isinstance(posted, ledger.Posted) and posted.created:
        return posted.entry.points
    return 0


def find_member_for_walk_in(text: str) -> Member | None:
    """The chapter's member with this member number or mobile."""
    value = (text or "").strip()
    if not value:
        return None
    return db.session.execute(
        sa.select(Member).where(sa.or_(Member.member_number == value.upper(),
                                       Member.mobile == value))).scalars().first()


def add_walk_in(event_id: int, *, member_number_or_mobile: str | None = None,
                name: str | None = None, mobile: str | None = None, guests=0,
                now: datetime | None = None, actor=None) -> CheckIn:
    """Someone turned up at the door: a member (registered or not) or a non-member.

    The walk-in is registered and checked in at once; the door is the staff's call, so
    capacity is not enforced here.
    """
    from clubplatform.validators import InvalidValue, validate_mobile

    now = now or utcnow()
    event = lock_event(event_id)
    _check_in_open(event, now)
    try:
        party = int(guests or 0)
    except (TypeError, ValueError):
        party = -1
    if party < 0 or party > GUESTS_MAX:
        raise field_error("guests", _l("Guests per member: a number from 0 to %(n)s.",
                                       n=GUESTS_MAX))
    member = None
    if (member_number_or_mobile or "").strip():
        member = find_member_for_walk_in(member_number_or_mobile)
        if member is None:
            raise field_error("member_number_or_mobile",
                              _l("No member of this chapter has this number or mobile."))
    if member is not None:
        registration = member_registration(event.id, member.id)
        if registration is not None and registration.status == REGISTERED:
            return check_in(event, registration, now=now, actor=actor)
        event.rsvp_seq = (event.rsvp_seq or 0) + 1
        if registration is None:
            registration = EventRegistration(chapter_id=event.chapter_id, event_id=event.id,
                                             member_id=member.id, code=_new_code())
            db.session.add(registration)
        registration.status, registration.walk_in = REGISTERED, True
        registration.guests, registration.seq = party, event.rsvp_seq
        registration.cancelled_at = None
        db.session.flush()
        return check_in(event, registration, now=now, actor=actor)
    errors: dict[str, list] = {}
    clean_name = (name or "").strip()[:128]
    if not clean_name:
        errors["name"] = [_l("Enter the walk-in's name (or a member's number or mobile).")]
    clean_mobile = None
    if (mobile or "").strip():
        try:
            clean_mobile = validate_mobile(mobile)
        except InvalidValue as exc:
            errors["mobile"] = [exc.message]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    event.rsvp_seq = (event.rsvp_seq or 0) + 1
    registration = EventRegistration(
        chapter_id=event.chapter_id, event_id=event.id, member_id=None, walk_in=True,
        walk_in_name=clean_name, walk_in_mobile=clean_mobile, guests=party, status=REGISTERED,
        seq=event.rsvp_seq, code=_new_code())
    db.session.add(registration)
    db.session.flush()
    return check_in(event, registration, now=now, actor=actor)


@dataclass
class Closing:
    event_id: int
    no_shows: int
    points_awarded: int


def mark_no_shows(event_id: int, *, now: datetime | None = None, actor=None) -> Closing:
    """After the event: registered but not checked in are no-shows; attendees get points.

    Idempotent (a rerun marks and awards nothing new). Refused before the event ends.
    """
    now = now or utcnow()
    event = lock_event(event_id)
    if event.status == CANCELLED:
        raise field_error("event_id", _l("This event was cancelled."), Conflict)
    if now < event.ends_at:
        raise field_error("event_id", _l("No-shows are marked after the event has ended."))
    missing = db.session.execute(
        sa.update(EventRegistration)
        .where(EventRegistration.event_id == event.id, EventRegistration.status == REGISTERED,
               EventRegistration.checked_in_at.is_(None),
               EventRegistration.no_show.is_(False))
        .values(no_show=True).execution_options(synchronize_session=False)).rowcount
    awarded = 0
    attendees = db.session.execute(
        sa.select(EventRegistration).where(EventRegistration.event_id == event.id,
                                           EventRegistration.checked_in_at.is_not(None),
                                           EventRegistration.member_id.is_not(None))
        .execution_options(populate_existing=True)).scalars().all()
    for registration in attendees:
        if award_attendance(event, registration):
            awarded += 1
    if event.closed_at is None:
        event.closed_at = now
    db.session.flush()
    return Closing(event.id, int(missing or 0), awarded)


def events_to_close(*, now: datetime | None = None) -> list[int]:
    """Ids of the chapter's ended, scheduled events not closed yet."""
    now = now or utcnow()
    return list(db.session.execute(
        sa.select(Event.id).where(Event.status == SCHEDULED, Event.ends_at <= now,
                                  Event.closed_at.is_(None)).order_by(Event.id)).scalars())


# --- feedback -----------------------------------------------------------------------------

def give_feedback(event_id: int, member_id: int, rating, comment: str | None = None, *,
                  now: datetime | None = None) -> EventFeedback:
    """An attendee rates the event (1–5) with an optional comment, once."""
    now = now or utcnow()
    event = get_event(event_id)
    try:
        score = int(rating)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise field_error("rating", _l("Rate the event from 1 to 5."))
    if now < event.starts_at:
        raise field_error("event_id", _l("Feedback opens once the event has taken place."))
    registration = member_registration(event.id, member_id)
    if registration is None or registration.checked_in_at is None:
        raise field_error("event_id", _l("Only members who attended can give feedback."))
    if db.session.execute(sa.select(EventFeedback.id).where(
            EventFeedback.registration_id == registration.id)).first():
        raise field_error("event_id", _l("You have already given feedback on this event."),
                          Conflict)
    feedback = EventFeedback(chapter_id=event.chapter_id, event_id=event.id,
                             registration_id=registration.id, member_id=member_id,
                             rating=score, comment=(comment or "").strip()[:1000] or None)
    db.session.add(feedback)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # a parallel submit got there first
        raise field_error("event_id", _l("You have already given feedback on this event."),
                          Conflict) from exc
    return feedback


def member_feedback(event_id: int, member_id: int) -> EventFeedback | None:
    return db.session.execute(sa.select(EventFeedback).where(
        EventFeedback.event_id == event_id, EventFeedback.member_id == member_id)
    ).scalar_one_or_none()


def feedback_list(event_id: int) -> list[EventFeedback]:
    return list(db.session.execute(sa.select(EventFeedback).where(
        EventFeedback.event_id == event_id).order_by(EventFeedback.id.desc())).scalars())


# --- the summary --------------------------------------------------------------------------

@dataclass
class Summary:
    event_id: int
    invited: int
    registered: int
    waitlisted: int
    cancelled: int
    guests: int
    attended: int
    walk_ins: int
    no_shows: int
    feedback_count: int
    average_rating: float | None
    new_members: int
    seats_taken: int
    capacity: int

    @property
    def attendance_rate(self) -> float | None:
        """Attended ÷ registered (walk-ins included in both), or None before anyone registered."""
        return round(self.attended / self.registered, 4) if self.registered else None


def summary(event: Event) -> Summary:
    """The event's figures, counted in SQL."""
    r = EventRegistration
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(r.status == REGISTERED),
            sa.func.count().filter(r.status == WAITLISTED),
            sa.func.count().filter(r.status == WITHDRAWN),
            sa.func.coalesce(sa.func.sum(r.guests).filter(r.status == REGISTERED), 0),
            sa.func.count().filter(r.checked_in_at.is_not(None)),
            sa.func.count().filter(r.walk_in.is_(True)),
            sa.func.count().filter(r.no_show.is_(True), r.status == REGISTERED),
        ).where(r.event_id == event.id)).one()
    fb = db.session.execute(
        sa.select(sa.func.count(), sa.func.avg(EventFeedback.rating))
        .where(EventFeedback.event_id == event.id)).one()
    invited = db.session.execute(sa.select(sa.func.count()).select_from(EventInvitation)
                                 .where(EventInvitation.event_id == event.id)).scalar_one()
    recruited = db.session.execute(sa.select(sa.func.count()).select_from(Application)
                                   .where(Application.source == "event",
                                          Application.event_id == event.id)).scalar_one()
    registered, waitlisted, cancelled, guests, attended, walk_ins, no_shows = (int(v) for v in row)
    return Summary(event.id, int(invited), registered, waitlisted, cancelled, guests, attended,
                   walk_ins, no_shows, int(fb[0]),
                   round(float(fb[1]), 2) if fb[1] is not None else None, int(recruited),
                   registered + guests, event.capacity)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    return dates.day_start_utc(day), dates.day_end_utc(day)


def local_input(moment: datetime | None) -> datetime | None:
    """A UTC timestamp as a naive Shanghai datetime (for a form's datetime-local field)."""
    return dates.local(moment).replace(tzinfo=None) if moment else None


def default_start(days: int = 14) -> datetime:
    """A suggested start: 14:00 Shanghai, two weeks from today."""
    return datetime.combine(dates.today() + timedelta(days=days), time(14, 0))
