"""Recruitment: applications registered by staff or made in the portal, and decisions.

Every function runs inside the chapter's tenant scope, so an application or owner
of another chapter is simply not found. "A person is a member at most once on the
whole platform" is kept by :func:`hq.members.service.create_member` in the database;
the errors raised here for it never say where the person is a member.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from chapter.owners.models import Owner
from chapter.recruitment.models import APPROVED, PENDING, REJECTED, SOURCES, STATUSES, Application
from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, field_error
from clubplatform.extensions import db
from hq.members import service as members
from hq.members.models import CHANNELS, Member

#: where an application came from, as people call it (展厅/维修保养/活动/推荐/线上/导入)
SOURCE_LABELS = {
    "showroom": _l("Showroom"),
    "service_visit": _l("Service visit"),
    "event": _l("Event"),
    "referral": _l("Referral"),
    "online": _l("Online"),
    "import": _l("Import"),
}
#: the state of an application
STATUS_LABELS = {
    PENDING: _l("Pending"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}


# --- applying ----------------------------------------------------------------------

def _check_owner_can_join(owner: Owner) -> None:
    if owner.kind != "individual":
        raise field_error("owner_id", _l("Only individual owners can join the club."))
    if owner.anonymised_at is not None:
        raise field_error("owner_id", _l("This owner's personal data was removed on request."))


def _already_member_error(member_id: int, chapter_id: int):
    """The error for a person who is a member: precise here, silent about other chapters."""
    own = db.session.execute(sa.select(Member.id).where(
        Member.id == member_id, Member.chapter_id == chapter_id)).first()
    if own:  # a member of this very chapter
        return field_error("owner_id", _l("This person is already a member of this chapter."),
                           Conflict)
    return members.already_member_error()


def submit_application(owner: Owner, *, source: str, actor=None, note: str | None = None,
                       event_id: int | None = None, applied_on: date | None = None,
                       ip: str | None = None) -> Application:
    """Register an owner's application to join the club (one open application per owner).

    Refused for companies, anonymised owners, owners with an open application and
    people who are already members anywhere on the platform (:class:`AlreadyMember`,
    which names no chapter).
    """
    if source not in SOURCES:
        raise field_error("source", _l("Choose where the application came from."))
    if source == "event":
        from chapter.events.service import check_recruiting_event

        event_id = check_recruiting_event(event_id)
    else:
        event_id = None
    _check_owner_can_join(owner)
    if db.session.execute(sa.select(Member.id).where(Member.owner_id == owner.id)).first():
        raise field_error("owner_id", _l("This owner is already a member."), Conflict)
    holder = members.find_member_by_identity(mobile=owner.mobile,
                                             id_number_digest=owner.id_number_digest)
    if holder is not None:
        raise _already_member_error(holder, owner.chapter_id)
    if not (owner.mobile or owner.id_number_digest):
        raise field_error("owner_id", _l("A member needs a mobile number or an ID number."))
    pending = db.session.execute(sa.select(Application.id).where(
        Application.owner_id == owner.id, Application.status == PENDING)).first()
    if pending:
        raise field_error("owner_id", _l("This owner already has an open application."), Conflict)
    applied_on = applied_on or dates.today()
    if applied_on > dates.today():
        raise field_error("applied_on", _l("The date is in the future."))
    application = Application(chapter_id=owner.chapter_id, owner_id=owner.id, source=source,
                              event_id=event_id, status=PENDING, applied_on=applied_on,
                              created_by_id=getattr(actor, "id", None),
                              note=(note or "").strip()[:500] or None)
    db.session.add(application)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent request registered one first
        raise field_error("owner_id", _l("This owner already has an open application."),
                          Conflict) from exc
    audit.record("application_submitted", actor=actor, ip=ip, chapter_id=owner.chapter_id,
                 target_type="application", target_id=application.id, details={"source": source})
    return application


def submit_application_for(owner_id: int | None, **kwargs) -> Application:
    """:func:`submit_application` for an owner given by id (of the scope's chapter)."""
    owner = None
    if owner_id:
        owner = db.session.execute(
            sa.select(Owner).where(Owner.id == owner_id)).scalar_one_or_none()
    if owner is None:
        raise field_error("owner_id", _l("Choose an owner of this chapter."))
    return submit_application(owner, **kwargs)


# --- reading -----------------------------------------------------------------------

def get_application(application_id: int) -> Application:
    """An application of the scope's chapter; another chapter's is not found."""
    app = db.session.execute(
        sa.select(Application).where(Application.id == application_id)
        .options(selectinload(Application.owner))).scalar_one_or_none()
    if app is None:
        raise NotFound(_l("No such application."))
    return app


def application_query(*, status: str | None = None, source: str | None = None,
                      owner_id: int | None = None) -> sa.Select:
    """The scope's applications, newest first, with their owners loaded."""
    stmt = (sa.select(Application).options(selectinload(Application.owner))
            .order_by(Application.applied_on.desc(), Application.id.desc()))
    if status:
        stmt = stmt.where(Application.status == status)
    if source:
        stmt = stmt.where(Application.source == source)
    if owner_id:
        stmt = stmt.where(Application.owner_id == owner_id)
    return stmt


@dataclass
class ApplicationCounts:
    """How many applications the chapter has, by status and by source."""

    by_status: dict[str, int]
    by_source: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def application_counts(*, status: str | None = None) -> ApplicationCounts:
    """Counts by status (all sources) and by source (within ``status`` when given)."""
    rows = db.session.execute(
        sa.select(Application.status, Application.source, sa.func.count())
        .group_by(Application.status, Application.source)).all()
    by_status: Counter = Counter({s: 0 for s in STATUSES})
    by_source: Counter = Counter({s: 0 for s in SOURCES})
    for st, src, n in rows:
        by_status[st] += n
        if not status or st == status:
            by_source[src] += n
    return ApplicationCounts(dict(by_status), dict(by_source))


def owner_candidates(q: str, *, limit: int = 20) -> list[tuple[Owner, str | None]]:
    """Individual owners matching a search, each with why they cannot apply (or None)."""
    from chapter.owners.service import owner_query

    if not (q or "").strip():
        return []
    owners = db.session.execute(owner_query(q=q, kind="individual").limit(limit)).scalars().all()
    ids = [o.id for o in owners]
    if not ids:
        return []
    member_ids = set(db.session.execute(
        sa.select(Member.owner_id).where(Member.owner_id.in_(ids))).scalars())
    pending_ids = set(db.session.execute(
        sa.select(Application.owner_id).where(Application.owner_id.in_(ids),
                                              Application.status == PENDING)).scalars())
    out = []
    for o in owners:
        why = None
        if o.id in member_ids:
            why = _l("Already a member")
        elif o.id in pending_ids:
            why = _l("Has an open application")
        elif o.anonymised_at is not None:
            why = _l("Personal data removed")
        out.append((o, why))
    return out


# --- deciding ----------------------------------------------------------------------

def _lock_pending(application: Application) -> None:
    """Lock the application row and re-read it: of two decisions at once, one wins."""
    db.session.execute(
        sa.select(Application).where(Application.id == application.id)
        .with_for_update().execution_options(populate_existing=True)).scalar_one()
    if application.status != PENDING:
        raise field_error("status", _l("This application was already decided."), Conflict)


def _clean_consents(consents: dict | None) -> dict[str, bool]:
    out = {}
    for channel, granted in (consents or {}).items():
        if channel not in CHANNELS:
            raise field_error("consents", _l("Unknown channel."))
        out[channel] = bool(granted)
    return out


def approve_application(application: Application, *, actor, ip: str | None = None,
                        consents: dict[str, bool] | None = None) -> Member:
    """Approve: the owner becomes a member with a member number (at most once per person).

    ``consents`` maps channels (sms, email, phone, portal) to the initial marketing
    consent given with the application; each one is recorded with its time.
    When the person is a member anywhere else, :class:`AlreadyMember` is raised
    (it names no chapter) and nothing is written: the application stays pending.
    """
    _lock_pending(application)
    consents = _clean_consents(consents)
    owner = application.owner
    _check_owner_can_join(owner)
    today = dates.today()
    try:
        member = members.create_member(
            chapter_id=application.chapter_id, owner=owner, joined_on=today,
            source=application.source, actor=actor, ip=ip, consents=consents)
    except members.AlreadyMember:
        holder = members.find_member_by_identity(mobile=owner.mobile,
                                                 id_number_digest=owner.id_number_digest)
        if holder is None:
            raise
        raise _already_member_error(holder, application.chapter_id) from None
    application.status = APPROVED
    application.decided_on = today
    application.decided_at = utcnow()
    application.decided_by_id = actor.id
    application.member_id = member.id
    db.session.flush()
    members.member_joined.send(member, application_id=application.id)
    return member


def reject_application(application: Application, reason: str | None, *, actor,
                       ip: str | None = None) -> Application:
    """Reject with a reason (kept with the application)."""
    _lock_pending(application)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", _l("Give the reason for the rejection."))
    application.status = REJECTED
    application.reason = reason[:255]
    application.decided_on = dates.today()
    application.decided_at = utcnow()
    application.decided_by_id = actor.id
    db.session.flush()
    audit.record("application_rejected", actor=actor, ip=ip, chapter_id=application.chapter_id,
                 target_type="application", target_id=application.id, details={"reason": reason})
    return application


def pending_as_of(chapter_id: int, day: date) -> sa.Select:
    """Applications pending on a business date: made on or before it, undecided then."""
    return sa.select(Application.id).where(
        Application.chapter_id == chapter_id,
        Application.applied_on <= day,
        sa.or_(Application.decided_on.is_(None), Application.decided_on > day),
    )
