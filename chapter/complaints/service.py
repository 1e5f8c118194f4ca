"""Complaints (投诉处理): recording, acknowledging, following up, escalating, closing, reopening.

Every function runs inside the chapter's tenant scope (a staff member's, a member's in
the portal, or the job's), so the queries see that chapter's complaints only; HQ's
hotline opens the scope of the owner's chapter itself (:func:`route_hotline_complaint`).
Services only flush; the edge commits. Rules kept here:

- a complaint recorded by staff is acknowledged at once, owned by one person and has
  a promised call-back time that is not in the past; one raised in the portal or on
  HQ's hotline waits for the chapter to acknowledge it (the same business day, or it
  is escalated);
- the visit and the car concerned must be the owner's, in this chapter;
- closing needs a resolution; goodwill needs a reason and stays within the chapter's
  limit; goodwill points are funded by the chapter and posted to the ledger exactly
  once (idempotency key ``goodwill:<complaint id>``);
- reopening keeps the history (timeline, reopen count);
- promised call-backs and escalations are handed to the care list
  (:func:`put_on_care_list`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.complaints.models import (
    CAUSES,
    CHANNELS,
    CLOSED,
    DEFAULT_GOODWILL_LIMIT_POINTS,
    DEFAULT_OPEN_LIMIT_DAYS,
    NOT_ACKNOWLEDGED,
    OPEN,
    OPEN_TOO_LONG,
    PROMISE_MISSED,
    SEVERITIES,
    Complaint,
    ComplaintContact,
    ComplaintSettings,
)
from chapter.owners.models import Owner, ServiceVisit, Vehicle
from clubplatform import dates
from clubplatform.auth.models import CHAPTER_MANAGER, CHAPTER_ROLES, User
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, current_chapter_id, unscoped
from hq.members.models import ACTIVE, Member
from hq.points import ledger
from hq.points.models import EARN

DESCRIPTION_MAX = 4000
NOTE_MAX = 1000
#: most days a limit may be set to
OPEN_LIMIT_MAX = 365
GOODWILL_LIMIT_MAX = 100_000


# --- the chapter's limits ------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    open_limit_days: int
    goodwill_limit_points: int


def limits(chapter_id: int | None = None) -> Limits:
    """The chapter's complaint limits: its own settings, or the defaults."""
    row = db.session.execute(sa.select(ComplaintSettings).where(
        ComplaintSettings.chapter_id == (chapter_id or current_chapter_id()))).scalar_one_or_none()
    if row is None:
        return Limits(DEFAULT_OPEN_LIMIT_DAYS, DEFAULT_GOODWILL_LIMIT_POINTS)
    return Limits(row.open_limit_days, row.goodwill_limit_points)


def update_limits(chapter_id: int, data: dict, *, actor) -> Limits:
    """Set the chapter's limits (the manager only)."""
    if getattr(actor, "role", None) != CHAPTER_MANAGER:
        raise PermissionDenied(_l("Only the chapter's manager sets the complaint limits."))
    errors: dict[str, list] = {}
    values = {}
    for name, low, high, message in (
        ("open_limit_days", 1, OPEN_LIMIT_MAX,
         _l("Enter a number of days between 1 and %(n)s.", n=OPEN_LIMIT_MAX)),
        ("goodwill_limit_points", 0, GOODWILL_LIMIT_MAX,
         _l("Enter a number of points between 0 and %(n)s.", n=GOODWILL_LIMIT_MAX)),
    ):
        if name not in data:
            continue
        try:
            value = int(data[name])
        except (TypeError, ValueError):
            value = None
        if value is None or not low <= value <= high:
            errors[name] = [message]
        values[name] = value
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    row = db.session.execute(sa.select(ComplaintSettings).where(
        ComplaintSettings.chapter_id == chapter_id)).scalar_one_or_none()
    if row is None:
        row = ComplaintSettings(chapter_id=chapter_id, open_limit_days=DEFAULT_OPEN_LIMIT_DAYS,
                                goodwill_limit_points=DEFAULT_GOODWILL_LIMIT_POINTS)
        db.session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    return Limits(row.open_limit_days, row.goodwill_limit_points)


# --- cleaning input ------------------------------------------------------------------

def clean_callback(value, *, now: datetime | None = None, field: str = "callback_due_at",
                   required: bool = False) -> datetime | None:
    """A promised call-back time as aware UTC; a naive time is Asia/Shanghai wall time.

    A time in the past is refused.
    """
    now = now or utcnow()
    if value in (None, ""):
        if required:
            raise field_error(field, _l("Promise a call-back time."))
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise field_error(field, _l("Not a time (use YYYY-MM-DD HH:MM).")) from exc
    if not isinstance(value, datetime):
        raise field_error(field, _l("Not a time (use YYYY-MM-DD HH:MM)."))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dates.SHANGHAI)
    value = value.astimezone(now.tzinfo)
    # a minute's grace: a form filled in "now" is not in the past
    if value < now - timedelta(minutes=1):
        raise field_error(field, _l("The call-back time is in the past."))
    return value


def _clean_choice(data: dict, name: str, allowed: tuple, message, errors: dict,
                  default: str | None = None) -> str | None:
    value = (data.get(name) or default or "")
    value = str(value).strip()
    if value not in allowed:
        errors[name] = [message]
        return None
    return value


def _clean_text(value, limit: int) -> str:
    return (value or "").strip()[:limit]


def _clean_id(value) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # never an id: reported as not found


def _chapter_staff_id(chapter_id: int, user_id, field: str = "assignee_id") -> int:
    found = None
    uid = _clean_id(user_id)
    if uid:
        found = db.session.execute(sa.select(User.id).where(
            User.id == uid, User.chapter_id == chapter_id, User.role.in_(CHAPTER_ROLES),
            User.is_active_user.is_(True))).scalar_one_or_none()
    if found is None:
        raise field_error(field, _l("Choose a staff member of this chapter."))
    return found


def _concerned(owner: Owner, data: dict, errors: dict) -> tuple[int | None, int | None]:
    """The car and visit the complaint is about: both the owner's, in this chapter."""
    vehicle_id = _clean_id(data.get("vehicle_id"))
    visit_id = _clean_id(data.get("visit_id"))
    vehicle = visit = None
    if visit_id:
        visit = db.session.execute(
            sa.select(ServiceVisit).where(ServiceVisit.id == visit_id)).scalar_one_or_none()
        if visit is None:
            errors["visit_id"] = [_l("This service visit is not one of this chapter's.")]
        elif visit.owner_id != owner.id:
            errors["visit_id"] = [_l("This service visit is not the owner's.")]
    if vehicle_id:
        vehicle = db.session.execute(
            sa.select(Vehicle).where(Vehicle.id == vehicle_id)).scalar_one_or_none()
        if vehicle is None:
            errors["vehicle_id"] = [_l("This car is not one of this chapter's.")]
        elif vehicle.owner_id != owner.id:
            errors["vehicle_id"] = [_l("This car is not the owner's.")]
    if visit is not None and "visit_id" not in errors:
        if vehicle is not None and visit.vehicle_id != vehicle.id:
            errors["visit_id"] = [_l("This service visit is not of the car chosen.")]
        vehicle_id = vehicle_id or visit.vehicle_id
    return vehicle_id, visit_id


# --- recording -----------------------------------------------------------------------

def _log(complaint: Complaint, kind: str, note: str | None = None, *, actor=None,
         visible: bool = True) -> ComplaintContact:
    entry = ComplaintContact(chapter_id=complaint.chapter_id, complaint_id=complaint.id,
                             kind=kind, note=(note or None) and note[:NOTE_MAX],
                             author_id=getattr(actor, "id", None), visible_to_owner=visible)
    db.session.add(entry)
    return entry


def _minutes(since: datetime, until: datetime) -> int:
    return max(0, int((until - since).total_seconds() // 60))


def record_complaint(owner: Owner, data: dict, *, actor=None, raised_by: str = "staff",
                     now: datetime | None = None) -> Complaint:
    """Record an owner's complaint (a member or not).

    ``data`` holds ``channel``, ``cause``, ``severity``, ``description`` and optionally
    ``vehicle_id``, ``visit_id``. Recorded by staff (``raised_by="staff"``) it is
    acknowledged at once and also needs ``assignee_id`` (default: the actor) and
    ``callback_due_at`` (not in the past); raised in the portal (``member``) or on HQ's
    hotline (``hq``) it is owned by the owner's advisor, if any, and waits for the
    chapter to acknowledge it. Nothing is written when a field is wrong.
    """
    now = now or utcnow()
    errors: dict[str, list] = {}
    default_channel = {"member": "online", "hq": "hq_hotline"}.get(raised_by)
    channel = _clean_choice(data, "channel", CHANNELS, _l("Choose how the complaint came in."),
                            errors, default_channel)
    cause = _clean_choice(data, "cause", CAUSES, _l("Choose the cause."), errors)
    severity = _clean_choice(data, "severity", SEVERITIES, _l("Choose the severity."), errors,
                             "medium")
    description = _clean_text(data.get("description"), DESCRIPTION_MAX)
    if not description:
        errors["description"] = [_l("Describe the complaint.")]
    vehicle_id, visit_id = _concerned(owner, data, errors)
    staff = raised_by == "staff"
    assignee_id = callback = None
    if staff:
        try:
            assignee_id = _chapter_staff_id(owner.chapter_id,
                                            data.get("assignee_id") or getattr(actor, "id", None))
        except ValidationFailed as exc:
            errors.update(exc.fields)
        try:
            callback = clean_callback(data.get("callback_due_at"), now=now, required=True)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    complaint = Complaint(
        chapter_id=owner.chapter_id, owner_id=owner.id, vehicle_id=vehicle_id, visit_id=visit_id,
        channel=channel, cause=cause, severity=severity, description=description,
        raised_by=raised_by, received_at=now, received_on=now.astimezone(dates.SHANGHAI).date(),
        status=OPEN, goodwill_kind="none", goodwill_points=0, reopen_count=0,
        assignee_id=assignee_id if staff else owner.advisor_id,
        created_by_id=getattr(actor, "id", None),
    )
    if staff:
        complaint.acknowledged_at = now
        complaint.ack_minutes = 0
        complaint.callback_due_at = callback
    db.session.add(complaint)
    db.session.flush()
    _log(complaint, "received", _clean_text(data.get("note"), NOTE_MAX) or None, actor=actor)
    if staff:
        _log(complaint, "acknowledged", actor=actor)
    db.session.flush()
    if callback is not None:
        _promise_on_care_list(complaint)
    return complaint


def get_complaint(complaint_id: int) -> Complaint:
    """A complaint of the scope's chapter; another chapter's is not found."""
    complaint = db.session.execute(
        sa.select(Complaint).where(Complaint.id == complaint_id)).scalar_one_or_none()
    if complaint is None:
        raise NotFound(_l("No such complaint."))
    return complaint


def complaint_query(*, status: str | None = None, escalated: bool | None = None,
                    assignee_id: int | None = None, owner_id: int | None = None,
                    cause: str | None = None) -> sa.Select:
    """The chapter's complaints: escalated first, then the earliest promise, newest."""
    stmt = sa.select(Complaint).order_by(
        sa.case((sa.and_(Complaint.status == OPEN, Complaint.escalated_at.is_not(None)), 0),
                else_=1),
        Complaint.status.desc(),  # open before closed
        Complaint.callback_due_at.is_(None), Complaint.callback_due_at,
        Complaint.received_at.desc(), Complaint.id.desc())
    if status:
        stmt = stmt.where(Complaint.status == status)
    if escalated is not None:
        stmt = stmt.where(Complaint.escalated_at.is_not(None) if escalated
                          else Complaint.escalated_at.is_(None))
    if assignee_id:
        stmt = stmt.where(Complaint.assignee_id == assignee_id)
    if owner_id:
        stmt = stmt.where(Complaint.owner_id == owner_id)
    if cause:
        stmt = stmt.where(Complaint.cause == cause)
    return stmt


def escalated_query() -> sa.Select:
    """Open complaints escalated to the manager (the manager's dashboard panel)."""
    return (sa.select(Complaint)
            .where(Complaint.status == OPEN, Complaint.escalated_at.is_not(None))
            .order_by(Complaint.escalated_at, Complaint.id))


def timeline(complaint: Complaint, *, owner_view: bool = False) -> list[ComplaintContact]:
    """The complaint's timeline, newest first (the owner sees the entries meant for them)."""
    stmt = (sa.select(ComplaintContact).where(ComplaintContact.complaint_id == complaint.id)
            .order_by(ComplaintContact.created_at.desc(), ComplaintContact.id.desc()))
    if owner_view:
        stmt = stmt.where(ComplaintContact.visible_to_owner.is_(True))
    return list(db.session.execute(stmt).scalars())


def owners_of(complaints) -> dict[int, Owner]:
    ids = {c.owner_id for c in complaints}
    if not ids:
        return {}
    return {o.id: o for o in db.session.execute(sa.select(Owner).where(Owner.id.in_(ids))).scalars()}


def staff_names(chapter_id: int) -> dict[int, str]:
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(
        User.chapter_id == chapter_id, User.role.in_(CHAPTER_ROLES))).all())


def owner_visits(owner: Owner, limit: int = 30) -> list[ServiceVisit]:
    return list(db.session.execute(
        sa.select(ServiceVisit).where(ServiceVisit.owner_id == owner.id)
        .order_by(ServiceVisit.visit_date.desc(), ServiceVisit.id.desc()).limit(limit)).scalars())


def owner_vehicles(owner: Owner) -> list[Vehicle]:
    return list(db.session.execute(
        sa.select(Vehicle).where(Vehicle.owner_id == owner.id).order_by(Vehicle.id)).scalars())


# --- working it ----------------------------------------------------------------------

def _lock(complaint: Complaint) -> Complaint:
    """Take the complaint's row lock and read it afresh: parallel closes serialise here."""
    return db.session.execute(
        sa.select(Complaint).where(Complaint.id == complaint.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()


def _check_open(complaint: Complaint) -> None:
    if complaint.status != OPEN:
        raise field_error("status", _l("This complaint is closed."), Conflict)


def acknowledge(complaint: Complaint, *, assignee_id=None, callback_due_at=None,
                note: str | None = None, actor=None, now: datetime | None = None) -> Complaint:
    """Acknowledge a complaint raised in the portal or on the hotline: an owner, a promise.

    Acknowledging again changes nothing.
    """
    complaint = _lock(complaint)
    _check_open(complaint)
    if complaint.acknowledged_at is not None:
        return complaint
    now = now or utcnow()
    errors: dict[str, list] = {}
    try:
        staff_id = _chapter_staff_id(complaint.chapter_id,
                                     assignee_id or complaint.assignee_id or getattr(actor, "id", None))
    except ValidationFailed as exc:
        errors.update(exc.fields)
    try:
        callback = clean_callback(callback_due_at, now=now, required=True)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    complaint.acknowledged_at = now
    complaint.ack_minutes = _minutes(complaint.received_at, now)
    complaint.assignee_id = staff_id
    complaint.callback_due_at = callback
    _log(complaint, "acknowledged", _clean_text(note, NOTE_MAX) or None, actor=actor)
    db.session.flush()
    _promise_on_care_list(complaint)
    return complaint


def log_contact(complaint: Complaint, note: str, *, callback_due_at=None, actor=None,
                visible_to_owner: bool = True, now: datetime | None = None) -> ComplaintContact:
    """Log a contact with the owner: the promised call-back is kept; optionally promise the next.

    On a closed complaint a note may still be added (no new promise).
    """
    now = now or utcnow()
    text = _clean_text(note, NOTE_MAX)
    errors: dict[str, list] = {}
    if not text:
        errors["note"] = [_l("Write what was said.")]
    callback = None
    try:
        callback = clean_callback(callback_due_at, now=now)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    if callback is not None:
        _check_open(complaint)
    entry = _log(complaint, "contact", text, actor=actor, visible=visible_to_owner)
    if complaint.status == OPEN:
        if complaint.acknowledged_at is None:  # a contact acknowledges it
            complaint.acknowledged_at = now
            complaint.ack_minutes = _minutes(complaint.received_at, now)
            if complaint.assignee_id is None and getattr(actor, "role", None) in CHAPTER_ROLES:
                complaint.assignee_id = actor.id
        complaint.callback_due_at = callback
        if complaint.escalation_reason == PROMISE_MISSED and callback is not None:
            complaint.escalated_at = complaint.escalation_reason = None
    db.session.flush()
    if callback is not None:
        _log(complaint, "promise", None, actor=actor)
        db.session.flush()
        _promise_on_care_list(complaint)
    return entry


def update_complaint(complaint: Complaint, data: dict, *, actor=None,
                     now: datetime | None = None) -> Complaint:
    """Hand an open complaint to another staff member, change its severity or its promise."""
    _check_open(complaint)
    now = now or utcnow()
    errors: dict[str, list] = {}
    staff_id = callback = severity = None
    if data.get("assignee_id") not in (None, ""):
        try:
            staff_id = _chapter_staff_id(complaint.chapter_id, data["assignee_id"])
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if data.get("callback_due_at") not in (None, ""):
        try:
            callback = clean_callback(data["callback_due_at"], now=now)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if data.get("severity") not in (None, ""):
        severity = _clean_choice(data, "severity", SEVERITIES, _l("Choose the severity."), errors)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    if staff_id is not None and staff_id != complaint.assignee_id:
        complaint.assignee_id = staff_id
        _log(complaint, "assigned", None, actor=actor, visible=False)
    if severity:
        complaint.severity = severity
    if callback is not None:
        complaint.callback_due_at = callback
        _log(complaint, "promise", None, actor=actor)
    db.session.flush()
    if callback is not None or staff_id is not None:
        _promise_on_care_list(complaint)
    return complaint


# --- closing and reopening -----------------------------------------------------------

def owner_member(complaint: Complaint) -> Member | None:
    """The owner's membership in this chapter (goodwill points need an active member)."""
    return db.session.execute(
        sa.select(Member).where(Member.owner_id == complaint.owner_id)
        .order_by(Member.id.desc()).limit(1)).scalar_one_or_none()


def close_complaint(complaint: Complaint, data: dict, *, actor=None,
                    now: datetime | None = None) -> Complaint:
    """Close an open complaint with its resolution, any goodwill and the owner's satisfaction.

    ``data``: ``resolution`` (required), ``goodwill_kind`` (``none``/``points``/``voucher``),
    ``goodwill_points``, ``goodwill_reason`` (required with goodwill), ``voucher_note``,
    ``satisfaction`` (1–5, optional). Goodwill points go to the owner's active membership,
    funded by the chapter, within its limit, posted to the ledger once. Closing a closed
    complaint again changes nothing (a double submit).
    """
    complaint = _lock(complaint)
    if complaint.status == CLOSED:
        return complaint
    now = now or utcnow()
    errors: dict[str, list] = {}
    resolution = _clean_text(data.get("resolution"), DESCRIPTION_MAX)
    if not resolution:
        errors["resolution"] = [_l("Say how the complaint was resolved.")]
    kind = (data.get("goodwill_kind") or "none").strip()
    if kind not in ("none", "points", "voucher"):
        errors["goodwill_kind"] = [_l("Choose no goodwill, points or a service voucher.")]
    reason = _clean_text(data.get("goodwill_reason"), 255)
    voucher = _clean_text(data.get("voucher_note"), 255)
    points = 0
    member = None
    if kind in ("points", "voucher") and not reason:
        errors["goodwill_reason"] = [_l("Give the reason for the goodwill.")]
    if kind == "points":
        try:
            points = int(data.get("goodwill_points") or 0)
        except (TypeError, ValueError):
            points = -1
        limit = limits(complaint.chapter_id).goodwill_limit_points
        if points <= 0:
            errors["goodwill_points"] = [_l("Enter a number of points greater than zero.")]
        elif points > limit:
            errors["goodwill_points"] = [
                _l("At most %(n)s goodwill points per complaint (the chapter's limit).", n=limit)]
        else:
            member = owner_member(complaint)
            if member is None or member.status != ACTIVE:
                errors["goodwill_kind"] = [
                    _l("Only an active member receives points; give a service voucher instead.")]
    if kind == "voucher" and not voucher:
        errors["voucher_note"] = [_l("Describe the service voucher.")]
    satisfaction = data.get("satisfaction")
    if satisfaction not in (None, ""):
        try:
            satisfaction = int(satisfaction)
        except (TypeError, ValueError):
            satisfaction = 0
        if not 1 <= satisfaction <= 5:
            errors["satisfaction"] = [_l("Satisfaction is 1 to 5.")]
    else:
        satisfaction = None
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    if kind == "points" and complaint.goodwill_points and complaint.goodwill_kind == "points":
        raise field_error("goodwill_kind",
                          _l("Goodwill points were already given for this complaint."), Conflict)
    complaint.status = CLOSED
    complaint.resolution = resolution
    complaint.closed_at = now
    complaint.close_minutes = _minutes(complaint.received_at, now)
    complaint.callback_due_at = None
    complaint.satisfaction = satisfaction
    if kind != "none":
        complaint.goodwill_kind = kind
        complaint.goodwill_reason = reason
        complaint.goodwill_points = points if kind == "points" else 0
        complaint.voucher_note = voucher if kind == "voucher" else None
    if complaint.acknowledged_at is None:
        complaint.acknowledged_at = now
        complaint.ack_minutes = complaint.close_minutes
    _log(complaint, "closed", resolution, actor=actor)
    db.session.flush()
    _off_care_list(complaint)
    if kind == "points":
        ledger.post(member_id=member.id, chapter_id=complaint.chapter_id, kind=EARN,
                    reason="manual", points=points, funder="chapter",
                    idempotency_key=f"goodwill:{complaint.id}",
                    source_ref=f"complaint:{complaint.id}",
                    note=f"{_l('Goodwill')}: {reason}"[:255], actor=actor)
    return complaint


def reopen_complaint(complaint: Complaint, reason: str, *, actor=None,
                     now: datetime | None = None) -> Complaint:
    """Reopen a closed complaint; its timeline, resolution and goodwill stay on record."""
    complaint = _lock(complaint)
    if complaint.status != CLOSED:
        raise field_error("status", _l("This complaint is open."), Conflict)
    text = _clean_text(reason, NOTE_MAX)
    if not text:
        raise field_error("reason", _l("Say why the complaint is reopened."))
    complaint.status = OPEN
    complaint.reopen_count = (complaint.reopen_count or 0) + 1
    complaint.escalated_at = complaint.escalation_reason = None
    complaint.satisfaction = None
    _log(complaint, "reopened", text, actor=actor)
    db.session.flush()
    return complaint


# --- escalation (the job) ------------------------------------------------------------

def escalate_due(chapter_id: int, *, now: datetime | None = None) -> dict:
    """Escalate the chapter's open complaints that need the manager; return counts.

    A complaint is escalated when its promised call-back time has passed, when it is
    open longer than the chapter's limit, or when it was not acknowledged the business
    day it came in. Each is escalated once (until it is reopened), logged on its
    timeline and put on the care list of its owner; a second run changes nothing.
    """
    now = now or utcnow()
    limit_days = limits(chapter_id).open_limit_days
    today_start = dates.day_start_utc(now.astimezone(dates.SHANGHAI).date())
    candidates = db.session.execute(
        sa.select(Complaint).where(
            Complaint.chapter_id == chapter_id, Complaint.status == OPEN,
            Complaint.escalated_at.is_(None),
            sa.or_(Complaint.callback_due_at < now,
                   Complaint.received_at < now - timedelta(days=limit_days),
                   sa.and_(Complaint.acknowledged_at.is_(None),
                           Complaint.received_at < today_start)))
        .order_by(Complaint.id)
    ).scalars().all()
    counts = {PROMISE_MISSED: 0, OPEN_TOO_LONG: 0, NOT_ACKNOWLEDGED: 0}
    for complaint in candidates:
        if complaint.callback_due_at is not None and complaint.callback_due_at < now:
            reason = PROMISE_MISSED
        elif complaint.acknowledged_at is None and complaint.received_at < today_start:
            reason = NOT_ACKNOWLEDGED
        else:
            reason = OPEN_TOO_LONG
        complaint.escalated_at = now
        complaint.escalation_reason = reason
        counts[reason] += 1
        _log(complaint, "escalated", reason, visible=False)  # the code; pages show its label
        db.session.flush()
        _escalation_on_care_list(complaint)
    db.session.flush()
    return {"escalated": sum(counts.values()), **counts}


ESCALATION_LABELS = {
    PROMISE_MISSED: _l("Promised call-back missed"),
    OPEN_TOO_LONG: _l("Open beyond the chapter's limit"),
    NOT_ACKNOWLEDGED: _l("Not acknowledged the day it came in"),
}


# --- the care list -------------------------------------------------------------------

def put_on_care_list(complaint: Complaint, *, reason: str, due_on: date, source_key: str,
                     label: str, note: str | None = None) -> None:
    """Hand a task about this complaint to the chapter's care list (``chapter.care``).

    The care list's ``add_task`` is idempotent on ``source_key``: a retried request or
    a rerun of the escalation job adds nothing twice. The task goes to the complaint's
    owner (the staff member), else the owner's care advisor.
    """
    from chapter.care import service as care

    care.add_task(chapter_id=complaint.chapter_id, owner_id=complaint.owner_id, reason=reason,
                  due_on=due_on, assignee_id=complaint.assignee_id, source_key=source_key,
                  note=note, label=label[:128], vehicle_id=complaint.vehicle_id,
                  visit_id=complaint.visit_id)


def _off_care_list(complaint: Complaint) -> None:
    """A closed complaint's open call-backs and escalations leave the care list."""
    from chapter.care import service as care

    care.cancel_tasks(chapter_id=complaint.chapter_id, source_prefix=f"complaint:{complaint.id}:")


def _promise_on_care_list(complaint: Complaint) -> None:
    if complaint.callback_due_at is None:
        return
    from chapter.care import service as care

    due = complaint.callback_due_at.astimezone(dates.SHANGHAI)
    key = f"complaint:{complaint.id}:callback:{due:%Y%m%d%H%M}"
    # a new promise replaces the earlier ones still open on the care list
    care.cancel_tasks(chapter_id=complaint.chapter_id,
                      source_prefix=f"complaint:{complaint.id}:callback:", keep=key)
    put_on_care_list(
        complaint, reason="complaint_callback", due_on=due.date(),
        source_key=key,
        label=str(_l("Complaint #%(id)s: call back by %(time)s", id=complaint.id,
                     time=f"{due:%H:%M}")),
        note=complaint.description[:200])


def _escalation_on_care_list(complaint: Complaint) -> None:
    put_on_care_list(
        complaint, reason="complaint_escalated",
        due_on=complaint.escalated_at.astimezone(dates.SHANGHAI).date(),
        source_key=f"complaint:{complaint.id}:escalated:{complaint.reopen_count}",
        label=str(_l("Complaint #%(id)s escalated: %(why)s", id=complaint.id,
                     why=ESCALATION_LABELS[complaint.escalation_reason])),
        note=complaint.description[:200])


# --- flags for other lists (churn, owners, members) ----------------------------------

def open_complaint_owner_ids(chapter_id: int) -> sa.Select:
    """``SELECT owner_id`` of the chapter's owners with an open complaint (join or IN it).

    Core-friendly: the chapter predicate is in the statement itself.
    """
    c = Complaint.__table__
    return (sa.select(c.c.owner_id)
            .where(c.c.chapter_id == chapter_id, c.c.status == OPEN).distinct())


def open_complaint_member_ids(chapter_id: int) -> sa.Select:
    """``SELECT member_id`` of the chapter's members whose owner has an open complaint."""
    m = Member.__table__
    return (sa.select(m.c.id)
            .where(m.c.chapter_id == chapter_id,
                   m.c.owner_id.in_(open_complaint_owner_ids(chapter_id))))


def open_complaint_counts(owner_ids) -> dict[int, int]:
    """Open complaints per owner, for flags on a page of owners."""
    ids = list({i for i in owner_ids if i})
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Complaint.owner_id, sa.func.count()).where(
            Complaint.owner_id.in_(ids), Complaint.status == OPEN)
        .group_by(Complaint.owner_id)).all())


# --- the portal ----------------------------------------------------------------------

def owner_complaints_query(owner: Owner) -> sa.Select:
    """The owner's own complaints, newest first."""
    return (sa.select(Complaint).where(Complaint.owner_id == owner.id)
            .order_by(Complaint.received_at.desc(), Complaint.id.desc()))


def get_owner_complaint(owner: Owner, complaint_id: int) -> Complaint:
    """One of the owner's complaints; anyone else's is not found."""
    complaint = db.session.execute(sa.select(Complaint).where(
        Complaint.id == complaint_id, Complaint.owner_id == owner.id)).scalar_one_or_none()
    if complaint is None:
        raise NotFound(_l("No such complaint."))
    return complaint


def raise_from_portal(owner: Owner | None, data: dict, *, actor) -> Complaint:
    """A member (or applicant) raises a complaint in the portal; the chapter acknowledges it."""
    if owner is None:
        raise PermissionDenied(_l("Your owner record was not found at the chapter."))
    values = {k: data.get(k) for k in ("cause", "severity", "description", "vehicle_id",
                                       "visit_id")}
    values["channel"] = "online"
    return record_complaint(owner, values, actor=actor, raised_by="member")


# --- HQ's hotline --------------------------------------------------------------------

def find_owner_for_hotline(*, member_number: str | None = None,
                           mobile: str | None = None) -> Owner:
    """The owner a hotline caller is: by member number (their current chapter) or mobile.

    Reads across chapters (HQ). A mobile known at several chapters is ambiguous: the
    member number is asked for then.
    """
    from clubplatform.validators import normalize_mobile

    number = (member_number or "").strip().upper()
    phone = normalize_mobile(mobile or "") if mobile else ""
    with unscoped("HQ hotline: find the caller's owner record and chapter"):
        if number:
            member = db.session.execute(
                sa.select(Member).where(Member.member_number == number)).scalar_one_or_none()
            if member is None or member.owner_id is None:
                raise field_error("member_number", _l("No member has this member number."))
            owner = db.session.execute(sa.select(Owner).where(
                Owner.id == member.owner_id,
                Owner.chapter_id == member.chapter_id)).scalar_one_or_none()
            if owner is None:
                raise field_error("member_number", _l("No member has this member number."))
            return owner
        if not phone:
            raise field_error("mobile", _l("Enter the caller's member number or mobile."))
        owners = db.session.execute(
            sa.select(Owner).where(Owner.mobile == phone).limit(3)).scalars().all()
    if not owners:
        raise field_error("mobile", _l("No owner at any chapter has this mobile."))
    if len(owners) > 1:
        raise field_error("mobile", _l("Owners at several chapters have this mobile: "
                                       "enter the member number."))
    return owners[0]


def route_hotline_complaint(data: dict, *, actor, now: datetime | None = None) -> Complaint:
    """HQ records a hotline complaint; it goes to the chapter of the owner to acknowledge.

    The write happens in the owner's chapter scope (the car and visit must be that
    chapter's, as for any complaint).
    """
    owner = find_owner_for_hotline(member_number=data.get("member_number"),
                                   mobile=data.get("mobile"))
    values = {k: data.get(k) for k in ("cause", "severity", "description", "vehicle_id",
                                       "visit_id", "note")}
    values["channel"] = "hq_hotline"
    with chapter_scope(owner.chapter_id):
        return record_complaint(owner, values, actor=actor, raised_by="hq", now=now)
