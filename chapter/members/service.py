"""The chapter's side of the member database: finding members, their history, statuses.

The rules of membership live in :mod:`hq.members.service`; these helpers read what a
chapter's pages and API show, always inside the chapter's scope (members of other
chapters are not found), and turn a page's "suspend / reactivate / leave" into a
status change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.recruitment.models import Application
from clubplatform.audit.models import AuditLog
from clubplatform.errors import field_error
from clubplatform.extensions import db
from hq.members import service as members
from hq.members.models import (
    ACTIVE,
    LEFT,
    MEMBER_STATUSES,
    SUSPENDED,
    TIERS,
    Member,
    MemberConsent,
    MemberStatusPeriod,
)

STATUS_LABELS = {ACTIVE: _l("Active"), SUSPENDED: _l("Suspended"), LEFT: _l("Left")}
TIER_LABELS = {"silver": _l("Silver"), "gold": _l("Gold"), "platinum": _l("Platinum"),
               "diamond": _l("Diamond")}
CHANNEL_LABELS = {"sms": _l("SMS"), "email": _l("E-mail"), "phone": _l("Phone"),
                  "portal": _l("Member portal")}
#: why a status period began or ended
PERIOD_REASON_LABELS = {
    "joined": _l("Joined"), "suspended": _l("Suspended"), "reactivated": _l("Reactivated"),
    "left": _l("Left"), "transfer_in": _l("Transferred in"),
    "transfer_out": _l("Transferred out"),
}
CONSENT_SOURCE_LABELS = {"portal": _l("Member portal"), "staff": _l("Staff"),
                         "application": _l("Application"), "import": _l("Import")}

#: what a manager can do to a membership, and the status it leads to
ACTIONS = {"suspend": SUSPENDED, "reactivate": ACTIVE, "leave": LEFT}
ACTION_LABELS = {"suspend": _l("Suspend"), "reactivate": _l("Reactivate"), "leave": _l("Leave")}
_FROM = {ACTIVE: ("suspend", "leave"), SUSPENDED: ("reactivate", "leave"), LEFT: ("reactivate",)}

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def actions_for(member: Member) -> tuple[str, ...]:
    """The status changes open to a member in their current status."""
    return _FROM.get(member.status, ())


def month_range(text: str | None) -> tuple[date, date] | None:
    """``YYYY-MM`` → (first day, first day of the next month); None when empty."""
    if not text:
        return None
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise field_error("joined_month", _l("Enter a month as YYYY-MM."))
    year, month = int(m.group(1)), int(m.group(2))
    first = date(year, month, 1)
    return first, date(year + month // 12, month % 12 + 1, 1)


def search_predicate(q: str):
    """A search box over members: member number, mobile (whole or its last digits), or name."""
    text = q.strip()
    upper = text.upper().replace(" ", "")
    if re.fullmatch(r"M\d{1,12}", upper):
        return Member.member_number == upper
    if re.fullmatch(r"1\d{10}", text):
        return Member.mobile == text
    if re.fullmatch(r"\d{4,10}", text):
        return Member.mobile.like(f"%{text}")
    return Member.name.like(f"{text}%")


def member_query(*, q: str | None = None, status: str | None = None, tier: str | None = None,
                 source: str | None = None, joined_month: str | None = None) -> sa.Select:
    """The scope's members, filtered; newest first."""
    stmt = sa.select(Member).order_by(Member.joined_on.desc(), Member.id.desc())
    if q and q.strip():
        stmt = stmt.where(search_predicate(q))
    if status:
        if status not in MEMBER_STATUSES:
            raise field_error("status", _l("Unknown status."))
        stmt = stmt.where(Member.status == status)
    if tier:
        if tier not in TIERS:
            raise field_error("tier", _l("Unknown tier."))
        stmt = stmt.where(Member.tier == tier)
    if source:
        stmt = stmt.where(Member.source == source)
    month = month_range(joined_month)
    if month:
        stmt = stmt.where(Member.joined_on >= month[0], Member.joined_on < month[1])
    return stmt


def status_counts() -> dict[str, int]:
    """How many of the scope's members are in each status."""
    rows = db.session.execute(
        sa.select(Member.status, sa.func.count()).group_by(Member.status)).all()
    counts = {s: 0 for s in MEMBER_STATUSES}
    counts.update({s: n for s, n in rows})
    return counts


@dataclass
class StatusChange:
    """One recorded status change (from the audit log): when, from what to what, why, who."""

    at: object
    on: date | None
    old: str
    new: str
    reason: str
    by: str


@dataclass
class MemberDetail:
    """What the member page and the API show about one member of the chapter."""

    member: Member
    status_periods: list[MemberStatusPeriod] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    consent_history: list[MemberConsent] = field(default_factory=list)
    application: Application | None = None


def _iso_date(text) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def member_detail(member: Member) -> MemberDetail:
    """A member's history as seen by their chapter: periods here, changes, consents."""
    periods = db.session.execute(
        sa.select(MemberStatusPeriod).where(MemberStatusPeriod.member_id == member.id)
        .order_by(MemberStatusPeriod.valid_from.desc(), MemberStatusPeriod.id.desc())
    ).scalars().all()
    consents = db.session.execute(
        sa.select(MemberConsent).where(MemberConsent.member_id == member.id)
        .order_by(MemberConsent.created_at.desc(), MemberConsent.id.desc()).limit(100)
    ).scalars().all()
    application = db.session.execute(
        sa.select(Application).where(Application.member_id == member.id)
        .order_by(Application.id.desc()).limit(1)).scalar_one_or_none()
    # the audit log is not tenant-scoped: this chapter's entries only
    entries = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "member_status_changed",
                                  AuditLog.chapter_id == member.chapter_id,
                                  AuditLog.target_type == "member",
                                  AuditLog.target_id == str(member.id))
        .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(100)).scalars().all()
    changes = [StatusChange(at=e.at, on=_iso_date((e.details or {}).get("on")),
                            old=(e.details or {}).get("old", ""),
                            new=(e.details or {}).get("new", ""),
                            reason=(e.details or {}).get("reason", ""), by=e.actor_name)
               for e in entries]
    return MemberDetail(member=member, status_periods=list(periods), status_changes=changes,
                        consent_history=list(consents), application=application)


def set_member_status(member: Member, status: str | None, *, on: date | None = None,
                      reason: str | None = None, actor=None, ip: str | None = None) -> Member:
    """Give a membership a new status (active, suspended, left) from a date, with a reason."""
    if status not in MEMBER_STATUSES:
        raise field_error("status", _l("Choose the new status."))
    return members.change_status(member, status, on=on,
                                 reason=(reason or "").strip()[:255] or None,
                                 actor=actor, ip=ip)


def change_member_status(member: Member, action: str | None, *, on: date | None = None,
                         reason: str | None = None, actor=None,
                         ip: str | None = None) -> Member:
    """Suspend, reactivate or end (leave) a membership from a date, with a reason."""
    if action not in ACTIONS:
        raise field_error("action", _l("Choose suspend, reactivate or leave."))
    return set_member_status(member, ACTIONS[action], on=on, reason=reason, actor=actor, ip=ip)
