"""Choosing an event's audience and inviting it.

The filters (tier, car model, hobby, join date, last visit, and the value segment D/G/S
and loyalty A/B/C of :mod:`chapter.churn`) select the chapter's active members who
consented to marketing messages on a channel we can reach; the count is shown before
sending, from the same statement that the invitations use. Inviting records one
:class:`EventInvitation` per member (unique, so inviting again adds only the new ones)
and hands each to the messaging outbox.
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.churn import service as churn
from chapter.events.models import CANCELLED, Event, EventInvitation
from chapter.owners.models import ServiceVisit, Vehicle
from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.db import insert, utcnow
from clubplatform.errors import Conflict, ValidationFailed, field_error
from clubplatform.extensions import db
from hq.members.models import ACTIVE, TIERS, Member

FILTERS = ("tiers", "car_model", "hobby", "joined_from", "joined_to", "last_visit_from",
           "last_visit_to", "value_segments", "loyalties")
#: the churn filters: name → (allowed codes, the error naming unknown ones)
SEGMENT_FILTERS = {
    "value_segments": (churn.VALUES,
                       lambda codes: _l("Unknown value segment: %(codes)s.", codes=codes)),
    "loyalties": (churn.LOYALTIES,
                  lambda codes: _l("Unknown loyalty: %(codes)s.", codes=codes)),
}


def _date(value, name: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[name] = [_l("Not a date (use YYYY-MM-DD).")]
        return None


def _codes(value) -> list[str]:
    """A multiple-choice filter: a list, or one comma-separated string."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def clean_filters(raw: dict | None) -> dict:
    """The filters as stored (JSON-friendly); errors name the field."""
    raw = raw or {}
    errors: dict[str, list] = {}
    tiers = [t.lower() for t in _codes(raw.get("tiers"))]
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        errors["tiers"] = [_l("Unknown tier: %(t)s.", t=", ".join(unknown))]
    out: dict = {"tiers": sorted(set(tiers))}
    for name, (allowed, message) in SEGMENT_FILTERS.items():
        codes = [c.upper() for c in _codes(raw.get(name))]
        unknown = [c for c in codes if c not in allowed]
        if unknown:
            errors[name] = [message(", ".join(unknown))]
        out[name] = sorted(set(codes) & set(allowed))
    out["car_model"] = (raw.get("car_model") or "").strip()[:64] or None
    out["hobby"] = (raw.get("hobby") or "").strip()[:64] or None
    for name in ("joined_from", "joined_to", "last_visit_from", "last_visit_to"):
        value = _date(raw.get(name), name, errors)
        out[name] = value.isoformat() if value else None
    for low, high in (("joined_from", "joined_to"), ("last_visit_from", "last_visit_to")):
        if out[low] and out[high] and out[low] > out[high]:
            errors[high] = [_l("The end date is before the start date.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return out


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _uses_segments(filters: dict) -> bool:
    return any(filters.get(name) for name in SEGMENT_FILTERS)


def segment_owners(filters: dict, chapter_id: int) -> sa.Select:
    """Ids of the chapter's owners in the chosen value segments and loyalties, as of today.

    The classification is :func:`chapter.churn.service.classified` with HQ's cut-offs;
    owners with no after-sales visit are in no segment, so a segment filter leaves out
    the members whose owner never came.
    """
    c = churn.classified(dates.today(), churn.get_settings(), chapter_id=chapter_id, rfm=False)
    owners = sa.select(c.c.owner_id)
    if filters.get("value_segments"):
        owners = owners.where(c.c.value.in_(filters["value_segments"]))
    if filters.get("loyalties"):
        owners = owners.where(c.c.loyalty.in_(filters["loyalties"]))
    return owners


def audience_query(filters: dict, chapter_id: int) -> sa.Select:
    """Ids of the chapter's members the (clean) filters select, who may get marketing."""
    stmt = sa.select(Member.id).where(
        Member.chapter_id == chapter_id,
        Member.status == ACTIVE, Member.anonymised_at.is_(None),
        sa.or_(sa.and_(Member.consent_portal.is_(True), Member.user_id.is_not(None)),
               sa.and_(Member.consent_email.is_(True), Member.email.is_not(None)),
               sa.and_(Member.consent_sms.is_(True), Member.mobile.is_not(None))))
    if filters.get("tiers"):
        stmt = stmt.where(Member.tier.in_(filters["tiers"]))
    if filters.get("joined_from"):
        stmt = stmt.where(Member.joined_on >= date.fromisoformat(filters["joined_from"]))
    if filters.get("joined_to"):
        stmt = stmt.where(Member.joined_on <= date.fromisoformat(filters["joined_to"]))
    if filters.get("hobby"):
        # hobbies are a JSON list of strings: match the serialised string, quotes included
        pattern = "%" + _like_escape(json.dumps(filters["hobby"])) + "%"
        stmt = stmt.where(sa.cast(Member.hobbies, sa.Text).like(pattern, escape="\\"))
    if filters.get("car_model"):
        pattern = "%" + _like_escape(filters["car_model"]) + "%"
        stmt = stmt.where(sa.exists(
            sa.select(Vehicle.id).where(Vehicle.owner_id == Member.owner_id,
                                        Vehicle.model.ilike(pattern, escape="\\"))))
    if filters.get("last_visit_from") or filters.get("last_visit_to"):
        last = (sa.select(sa.func.max(ServiceVisit.visit_date))
                .where(ServiceVisit.owner_id == Member.owner_id).scalar_subquery())
        if filters.get("last_visit_from"):
            stmt = stmt.where(last >= date.fromisoformat(filters["last_visit_from"]))
        if filters.get("last_visit_to"):
            stmt = stmt.where(last <= date.fromisoformat(filters["last_visit_to"]))
    if _uses_segments(filters):
        # a semi-join on the churn classification: computed once, in the same statement
        stmt = stmt.where(Member.owner_id.in_(segment_owners(filters, chapter_id)))
    return stmt


def audience_count(event: Event, raw_filters: dict | None) -> dict:
    """How many members the filters select, and how many of them are not invited yet."""
    filters = clean_filters(raw_filters)
    if _uses_segments(filters):
        churn.no_jit()
    ids = audience_query(filters, event.chapter_id).subquery()
    # one statement, so the audience (and the churn ranking in it) is computed once
    invited = sa.select(EventInvitation.member_id).where(EventInvitation.event_id == event.id)
    total, already = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(ids.c.id.in_(invited)))
        .select_from(ids)).one()
    return {"filters": filters, "matching": int(total), "new": int(total) - int(already)}


def invite(event: Event, raw_filters: dict | None, *, actor=None, ip: str | None = None) -> dict:
    """Invite the audience: record new invitations and hand them to the outbox."""
    from chapter.events import outbox

    if event.status == CANCELLED:
        raise field_error("event_id", _l("This event was cancelled."), Conflict)
    filters = clean_filters(raw_filters)
    if _uses_segments(filters):
        churn.no_jit()
    # one statement records the audience's members not invited yet (a parallel run's rows
    # are skipped: the outbox's dedupe keys send each member one message in any case)
    inv = EventInvitation.__table__
    ids = audience_query(filters, event.chapter_id).subquery("audience")
    already = sa.select(inv.c.member_id).where(inv.c.chapter_id == event.chapter_id,
                                               inv.c.event_id == event.id)
    source = sa.select(
        sa.literal(event.chapter_id, sa.Integer), sa.literal(event.id, sa.BigInteger), ids.c.id,
        sa.literal(getattr(actor, "id", None), sa.Integer),
        sa.literal(utcnow(), inv.c.created_at.type)).where(ids.c.id.not_in(already))
    fresh = db.session.execute(
        insert(inv).from_select(["chapter_id", "event_id", "member_id", "invited_by_id",
                                 "created_at"], source)
        .on_conflict_do_nothing(index_elements=["chapter_id", "event_id", "member_id"])
        .returning(inv.c.member_id)).scalars().all()
    # the audience as counted before sending: the new invitations and the earlier ones
    matching = db.session.execute(sa.select(sa.func.count()).select_from(
        audience_query(filters, event.chapter_id).subquery())).scalar_one()
    event.audience = filters
    queued = outbox.hand_invitations_to_outbox(event) if fresh else 0
    db.session.flush()
    audit.record("event_invitations", actor=actor, ip=ip, chapter_id=event.chapter_id,
                 target_type="event", target_id=event.id,
                 details={"invited": len(fresh), "queued": queued})
    return {"filters": filters, "matching": matching, "invited": len(fresh), "queued": queued}
