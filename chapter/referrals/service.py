"""Referrals and leads (推荐购车): recording, grading, following up, losing, closing.

Every function runs inside the chapter's tenant scope (the staff member's, or the
referring member's chapter in the portal), so the queries see that chapter's leads
only. A lead that ends in a car purchase (VIN recorded) is a referral purchase: the
first close sets ``reward_recorded_at`` and sends :data:`referral_purchased`, which
the points programme listens to; closing it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from blinker import signal
from flask_babel import lazy_gettext as _l

from chapter.referrals.models import (
    GRADE_DAYS,
    GRADES,
    LOST,
    OPEN,
    PURCHASED,
    Lead,
    LeadNote,
)
from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.auth.models import CHAPTER_ROLES, User
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, ValidationFailed, field_error
from clubplatform.extensions import db
from clubplatform.validators import InvalidValue, validate_mobile, validate_vin
from hq.members.models import Member

#: sent once when a referred lead is closed as a purchase (sender: the lead;
#: kwargs ``member_id`` — the referrer — and ``lead_id``); the points issue awards it
referral_purchased = signal("referral-purchased")


# --- rules of the grade ------------------------------------------------------------

def default_follow_up(grade: str, today: date | None = None) -> date:
    """The next follow-up date a grade implies: H in 7 days, A 15, B 30, C 90."""
    if grade not in GRADES:
        raise field_error("grade", _l("Choose a grade: H, A, B or C."))
    return (today or dates.today()) + timedelta(days=GRADE_DAYS[grade])


def _clean_grade(value) -> str | None:
    if value in (None, ""):
        return None
    grade = str(value).strip().upper()
    if grade not in GRADES:
        raise field_error("grade", _l("Choose a grade: H, A, B or C."))
    return grade


def _clean_date(value, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise field_error(field, _l("Not a date (use YYYY-MM-DD).")) from exc


# --- recording ---------------------------------------------------------------------

def find_referrer(member_number: str) -> Member:
    """The chapter's member with this member number (the referrer of a lead)."""
    number = (member_number or "").strip().upper()
    member = None
    if number:
        member = db.session.execute(
            sa.select(Member).where(Member.member_number == number)).scalar_one_or_none()
    if member is None:
        raise field_error("referrer_member_number",
                          _l("No member of this chapter has this member number."))
    return member


def record_lead(data: dict, *, referrer: Member | None = None, actor=None,
                ip: str | None = None, today: date | None = None) -> Lead:
    """Record a lead: a member's referral (``referrer``) or a walk-in.

    ``data`` holds ``friend_name``, ``friend_mobile``, ``model`` and optionally
    ``grade`` and ``next_follow_up_on``. A graded lead is followed up at the date
    its grade implies unless a date is given; an ungraded one (a referral just
    made in the portal) is graded C and due for its first contact today.
    """
    today = today or dates.today()
    errors: dict[str, list] = {}
    name = (data.get("friend_name") or "").strip()[:128]
    if not name:
        errors["friend_name"] = [_l("Enter the friend's name.")]
    mobile = None
    try:
        mobile = validate_mobile(data.get("friend_mobile"))
    except InvalidValue as exc:
        errors["friend_mobile"] = [exc.message]
    model = (data.get("model") or "").strip()[:64] or None
    try:
        grade = _clean_grade(data.get("grade"))
    except ValidationFailed as exc:
        errors.update(exc.fields)
        grade = None
    try:
        follow_up = _clean_date(data.get("next_follow_up_on"), "next_follow_up_on")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        follow_up = None
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    if referrer is not None and referrer.mobile and referrer.mobile == mobile:
        raise field_error("friend_mobile", _l("You cannot refer yourself."))
    duplicate = db.session.execute(
        sa.select(Lead.id).where(Lead.friend_mobile == mobile, Lead.status == OPEN).limit(1)
    ).first()
    if duplicate:
        raise field_error("friend_mobile",
                          _l("The chapter is already following up a lead with this mobile."),
                          Conflict)
    if follow_up is None:
        follow_up = default_follow_up(grade, today) if grade else today
    is_staff = getattr(actor, "role", None) in CHAPTER_ROLES
    lead = Lead(
        referrer_member_id=referrer.id if referrer is not None else None,
        friend_name=name, friend_mobile=mobile, model=model, grade=grade or "C",
        next_follow_up_on=follow_up, status=OPEN,
        assigned_to_id=actor.id if is_staff else None,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(lead)
    db.session.flush()
    note = (data.get("note") or "").strip()
    if note:
        db.session.add(LeadNote(lead_id=lead.id, author_id=getattr(actor, "id", None),
                                note=note[:1000], grade=lead.grade))
        db.session.flush()
    return lead


def get_lead(lead_id: int) -> Lead:
    """A lead of the scope's chapter; another chapter's lead is not found."""
    lead = db.session.execute(sa.select(Lead).where(Lead.id == lead_id)).scalar_one_or_none()
    if lead is None:
        raise NotFound(_l("No such lead."))
    return lead


def lead_query(*, status: str | None = None, grade: str | None = None,
               q: str | None = None, today: date | None = None) -> sa.Select:
    """The chapter's leads, follow-ups that are due first, then by next follow-up date."""
    today = today or dates.today()
    due = sa.case((sa.and_(Lead.status == OPEN, Lead.next_follow_up_on <= today), 0), else_=1)
    stmt = sa.select(Lead).order_by(due, Lead.next_follow_up_on.is_(None),
                                    Lead.next_follow_up_on, Lead.id.desc())
    if status:
        stmt = stmt.where(Lead.status == status)
    if grade:
        stmt = stmt.where(Lead.grade == grade)
    if q:
        text = q.strip()
        if text.isdigit():
            stmt = stmt.where(Lead.friend_mobile.like(f"{text}%"))
        else:
            stmt = stmt.where(Lead.friend_name.like(f"{text}%"))
    return stmt


def is_due(lead: Lead, today: date | None = None) -> bool:
    """Whether an open lead's follow-up is due (today or overdue)."""
    return (lead.status == OPEN and lead.next_follow_up_on is not None
            and lead.next_follow_up_on <= (today or dates.today()))


def referrers_of(leads: list[Lead]) -> dict[int, Member]:
    """The referring members of these leads that belong to the chapter now, by id."""
    ids = {lead.referrer_member_id for lead in leads if lead.referrer_member_id}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(Member).where(Member.id.in_(ids))).scalars()
    return {m.id: m for m in rows}


# --- following up ------------------------------------------------------------------

def _check_open(lead: Lead) -> None:
    if lead.status != OPEN:
        raise field_error("status", _l("This lead is closed."), Conflict)


def add_note(lead: Lead, note: str, *, grade: str | None = None,
             next_follow_up_on=None, actor=None, today: date | None = None) -> LeadNote:
    """Record a follow-up contact; on an open lead it may re-grade it and set the next date.

    Without an explicit date, the next follow-up is the one the (new or current)
    grade implies, counted from today.
    """
    text = (note or "").strip()
    if not text:
        raise field_error("note", _l("Write what was said."))
    grade = _clean_grade(grade)
    follow_up = _clean_date(next_follow_up_on, "next_follow_up_on")
    if lead.status == OPEN:
        if grade:
            lead.grade = grade
        lead.next_follow_up_on = follow_up or default_follow_up(lead.grade, today)
    elif grade or follow_up:
        _check_open(lead)
    entry = LeadNote(lead_id=lead.id, author_id=getattr(actor, "id", None), note=text[:1000],
                     grade=lead.grade)
    db.session.add(entry)
    db.session.flush()
    return entry


def update_lead(lead: Lead, data: dict, *, actor=None, today: date | None = None) -> Lead:
    """Change an open lead's grade, next follow-up date, model or assigned staff member.

    A new grade without a date moves the next follow-up to the date the grade implies.
    """
    _check_open(lead)
    if "grade" in data:
        grade = _clean_grade(data["grade"])
        if grade is None:
            raise field_error("grade", _l("Choose a grade: H, A, B or C."))
        if grade != lead.grade:
            lead.grade = grade
            if not data.get("next_follow_up_on"):
                lead.next_follow_up_on = default_follow_up(grade, today)
    if data.get("next_follow_up_on"):
        lead.next_follow_up_on = _clean_date(data["next_follow_up_on"], "next_follow_up_on")
    if "model" in data:
        lead.model = (data["model"] or "").strip()[:64] or None
    if "assigned_to_id" in data:
        lead.assigned_to_id = _chapter_staff_id(lead.chapter_id, data["assigned_to_id"])
    db.session.flush()
    return lead


def _chapter_staff_id(chapter_id: int, user_id) -> int | None:
    if not user_id:
        return None
    found = db.session.execute(sa.select(User.id).where(
        User.id == user_id, User.chapter_id == chapter_id, User.role.in_(CHAPTER_ROLES))
    ).scalar_one_or_none()
    if found is None:
        raise field_error("assigned_to_id", _l("Choose a staff member of this chapter."))
    return found


def lead_notes(lead: Lead) -> list[LeadNote]:
    """The lead's follow-up timeline, newest first."""
    return list(db.session.execute(
        sa.select(LeadNote).where(LeadNote.lead_id == lead.id)
        .order_by(LeadNote.created_at.desc(), LeadNote.id.desc())).scalars())


def mark_lost(lead: Lead, reason: str, *, actor=None) -> Lead:
    """Close an open lead as lost; the reason is kept."""
    _check_open(lead)
    text = (reason or "").strip()
    if not text:
        raise field_error("reason", _l("Give the reason the lead was lost."))
    lead.status = LOST
    lead.lost_reason = text[:255]
    lead.next_follow_up_on = None
    db.session.flush()
    return lead


def close_as_purchase(lead: Lead, vin: str, purchased_on, *, actor=None,
                      ip: str | None = None) -> Lead:
    """Close a lead as a referral purchase with the VIN of the car bought.

    Idempotent: a lead already closed as a purchase is returned unchanged, and the
    referrer's reward (:data:`referral_purchased`) is handed over only once. A lead
    marked lost may still close as a purchase (the friend came back).
    """
    if lead.status == PURCHASED:
        return lead
    errors: dict[str, list] = {}
    try:
        clean_vin = validate_vin(vin)
    except InvalidValue as exc:
        errors["vin"] = [exc.message]
        clean_vin = None
    try:
        day = _clean_date(purchased_on, "purchased_on")
    except ValidationFailed as exc:
        errors.update(exc.fields)
        day = None
    if day is None and "purchased_on" not in errors:
        errors["purchased_on"] = [_l("Enter the purchase date.")]
    elif day is not None and day > dates.today():
        errors["purchased_on"] = [_l("The date is in the future.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    taken = db.session.execute(sa.select(Lead.id).where(
        Lead.purchased_vin == clean_vin, Lead.id != lead.id).limit(1)).first()
    if taken:
        raise field_error("vin", _l("Another lead was already closed with this VIN."), Conflict)
    lead.status = PURCHASED
    lead.purchased_vin = clean_vin
    lead.purchased_on = day
    lead.next_follow_up_on = None
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent close used the VIN first
        raise field_error("vin", _l("Another lead was already closed with this VIN."),
                          Conflict) from exc
    if lead.referrer_member_id is not None and lead.reward_recorded_at is None:
        lead.reward_recorded_at = utcnow()
        db.session.flush()
        audit.record("referral_purchase", actor=actor, ip=ip, chapter_id=lead.chapter_id,
                     target_type="lead", target_id=lead.id,
                     details={"member_id": lead.referrer_member_id})
        referral_purchased.send(lead, member_id=lead.referrer_member_id, lead_id=lead.id)
    return lead


# --- figures -----------------------------------------------------------------------

@dataclass
class MonthCount:
    year: int
    month: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def referral_purchases_by_month(months: int = 12, today: date | None = None) -> list[MonthCount]:
    """Referral purchases per month (purchase date) for the chapter, the last ``months``.

    Counted in SQL with GROUP BY; months without a purchase are shown as 0.
    """
    months = max(1, min(int(months), 60))
    today = today or dates.today()
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    year = sa.extract("year", Lead.purchased_on)
    month = sa.extract("month", Lead.purchased_on)
    rows = db.session.execute(
        sa.select(year.label("y"), month.label("m"), sa.func.count(Lead.id))
        .where(Lead.status == PURCHASED, Lead.purchased_on >= first,
               Lead.purchased_on <= today)
        .group_by(year, month)
    ).all()
    counts = {(int(y), int(m)): int(n) for y, m, n in rows}
    out: list[MonthCount] = []
    cursor = first
    while cursor <= today:
        out.append(MonthCount(cursor.year, cursor.month, counts.get((cursor.year, cursor.month), 0)))
        cursor = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


# --- a member's own referrals (portal) ---------------------------------------------

def member_referrals_query(member_id: int) -> sa.Select:
    """The leads a member referred in their current chapter, newest first."""
    return (sa.select(Lead).where(Lead.referrer_member_id == member_id)
            .order_by(Lead.created_at.desc(), Lead.id.desc()))


def get_member_referral(member_id: int, lead_id: int) -> Lead:
    """One of the member's own referrals; anyone else's lead is not found."""
    lead = db.session.execute(member_referrals_query(member_id).where(Lead.id == lead_id)
                              ).scalar_one_or_none()
    if lead is None:
        raise NotFound(_l("No such referral."))
    return lead
