"""Points at the chapter: visits earning, a member's balance and history, campaigns.

Runs inside the chapter's tenant scope. Ledger entries follow the member, so they are
read only through a member the scope can see. Writes only flush; the edge commits.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.owners.models import ServiceVisit
from clubplatform import dates
from clubplatform.errors import NotFound, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import current_chapter_id
from clubplatform.validators import VISIT_TYPES
from hq.members.models import ACTIVE, Member
from hq.points import earning
from hq.points.models import Campaign, Partner, PointEntry

KIND_LABELS = {"earn": _l("Earned"), "redeem": _l("Redeemed"), "expire": _l("Expired"),
               "adjust": _l("Adjusted")}
REASON_LABELS = {
    "service": _l("Service visit"), "attendance": _l("Event attendance"),
    "referral": _l("Referral purchase"), "birthday": _l("Birthday gift"),
    "join": _l("Join bonus"), "manual": _l("Manual award"), "campaign": _l("Chapter campaign"),
    "dealer_service": _l("Service at the dealer"), "dealer_parts": _l("Parts at the dealer"),
    "perk": _l("Partner perk"), "expiry": _l("Expiry"), "correction": _l("Correction"),
}
FUNDER_LABELS = {"hq": _l("HQ"), "chapter": _l("Chapter")}
VENUE_LABELS = {"dealer": _l("Dealer"), "partner": _l("Partner")}
DEALER_REASON_LABELS = {r: REASON_LABELS[r] for r in earning.DEALER_REASONS}

#: visit ids per query when awarding a list of visits
_CHUNK = 1000


# --- service visits earn ------------------------------------------------------------------

def award_visits(chapter_id: int, visit_ids: Iterable[int] | None = None) -> int:
    """Award the points of the chapter's visits that have not earned yet; return entries written.

    One query finds the visits of active members on or after their joining date whose
    earn entry is missing (``visit_ids`` limits it, e.g. to an import batch); each is
    then posted through the ledger, so running it again — or concurrently — writes
    nothing twice. Visits that earn no points are looked at again next time (cheap).
    """
    if visit_ids is None:
        return _award(chapter_id, None)
    ids = list(visit_ids)
    return sum(_award(chapter_id, ids[i:i + _CHUNK]) for i in range(0, len(ids), _CHUNK))


def _award(chapter_id: int, ids: list[int] | None) -> int:
    v = ServiceVisit
    key = sa.literal(f"visit:{chapter_id}:") + sa.cast(v.id, sa.String)
    stmt = (
        sa.select(v.id, v.visit_type, v.amount_fen, v.visit_date, Member.id, Member.chapter_id,
                  Member.status, Member.tier, Member.joined_on)
        .join(Member, sa.and_(Member.owner_id == v.owner_id, Member.chapter_id == v.chapter_id))
        .where(v.chapter_id == chapter_id, Member.status == ACTIVE,
               v.visit_date >= Member.joined_on, v.amount_fen > 0,
               ~sa.exists().where(PointEntry.idempotency_key == key))
        .order_by(v.id)
    )
    if ids is not None:
        if not ids:
            return 0
        stmt = stmt.where(v.id.in_(ids))
    rows = db.session.execute(stmt).all()
    if not rows:
        return 0
    campaigns = list(db.session.execute(
        sa.select(Campaign).where(Campaign.chapter_id == chapter_id, Campaign.active.is_(True))
    ).scalars())
    written = 0
    for visit_id, visit_type, amount_fen, day, *member in rows:
        who = earning.Earner(*member)
        covering = [c for c in campaigns if c.starts_on <= day <= c.ends_on
                    and (not c.visit_types or visit_type in c.visit_types)]
        posted = earning.earn_for_visit(who.id, chapter_id, visit_id, visit_type, amount_fen, day,
                                        who=who, campaigns=covering)
        written += sum(1 for p in posted if p.created)
    return written


# --- a member's points ---------------------------------------------------------------------

@dataclass(frozen=True)
class PointsSummary:
    member_id: int
    balance: int
    tier: str
    next_expiry_on: date | None
    next_expiry_points: int | None


def summary(member_id: int, *, today: date | None = None) -> PointsSummary:
    """Balance, tier and what expires next, in one query (404 outside the scope).

    What expires at the end of a date is, oldest first, every point added to expire by
    then less every debit so far; the next expiry is the first date ahead where that
    is positive (the same rule as :func:`hq.points.ledger.next_expiry`).
    """
    cid = current_chapter_id()
    params = {"member_id": member_id, "today": today or dates.today()}
    if cid is not None:  # Core SQL: the tenant filter is ours to add
        params["chapter_id"] = cid
    row = db.session.execute(_summary_statement(cid is not None), params).first()
    if row is None:
        raise NotFound(_l("No such member."))
    return PointsSummary(member_id, int(row[0]), row[1], row[2],
                         int(row[3]) if row[3] is not None else None)


@functools.cache
def _summary_statement(scoped: bool) -> sa.Select:
    """The summary's query, built once (it is the balance API's whole work per call):
    parameters ``member_id``, ``today`` and, when ``scoped``, ``chapter_id``."""
    pe, m = PointEntry.__table__, Member.__table__
    member_id = sa.bindparam("member_id", type_=m.c.id.type)
    today = sa.bindparam("today", type_=sa.Date)
    debits = (sa.select(sa.func.coalesce(sa.func.sum(pe.c.points), 0))
              .where(pe.c.member_id == member_id, pe.c.points < 0).scalar_subquery())
    added = (sa.select(pe.c.expires_on, sa.func.sum(pe.c.points).label("points"))
             .where(pe.c.member_id == member_id, pe.c.points > 0, pe.c.expires_on.is_not(None))
             .group_by(pe.c.expires_on).subquery())
    running = sa.select(
        added.c.expires_on,
        (sa.func.sum(added.c.points).over(order_by=added.c.expires_on) + debits).label("amount"),
    ).subquery()
    upcoming = (sa.select(running.c.expires_on, running.c.amount)
                .where(running.c.expires_on >= today, running.c.amount > 0)
                .order_by(running.c.expires_on).limit(1).subquery())
    stmt = (sa.select(m.c.points_balance, m.c.tier, upcoming.c.expires_on, upcoming.c.amount)
            .select_from(m.outerjoin(upcoming, sa.true()))
            .where(m.c.id == member_id))
    if scoped:
        stmt = stmt.where(m.c.chapter_id == sa.bindparam("chapter_id", type_=m.c.chapter_id.type))
    return stmt


def entries_query(member_id: int) -> sa.Select:
    """The member's ledger, newest first (load the member in scope first)."""
    return (sa.select(PointEntry).where(PointEntry.member_id == member_id)
            .order_by(PointEntry.id.desc()))


def partner_names(entries) -> dict[int, str]:
    """Names of the partners some entries were spent at."""
    ids = {e.partner_id for e in entries if e.partner_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all())


@dataclass
class MemberCard:
    summary: PointsSummary
    recent: list[PointEntry]
    partners: dict[int, str]


def member_card(member: Member, recent: int = 5) -> MemberCard:
    """What the member's page shows of their points."""
    entries = list(db.session.execute(entries_query(member.id).limit(recent)).scalars())
    return MemberCard(summary(member.id), entries, partner_names(entries))


# --- campaigns ------------------------------------------------------------------------------

def campaign_query(*, active: bool | None = None) -> sa.Select:
    """The chapter's campaigns, latest start first."""
    stmt = sa.select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    if active is not None:
        stmt = stmt.where(Campaign.active.is_(active))
    return stmt


def get_campaign(campaign_id: int) -> Campaign:
    """A campaign of the scope's chapter, or :class:`NotFound`."""
    campaign = db.session.execute(
        sa.select(Campaign).where(Campaign.id == campaign_id)).scalar_one_or_none()
    if campaign is None:
        raise NotFound(_l("No such campaign."))
    return campaign


def clean_campaign(data: dict, campaign: Campaign | None = None) -> dict:
    """Validate a campaign's fields (all of them for a new one, those given otherwise)."""
    errors: dict[str, list] = {}
    out: dict = {}

    def wanted(name):
        return campaign is None or name in data

    if wanted("name"):
        name = (data.get("name") or "").strip()
        if not name:
            errors["name"] = [_l("Give the campaign a name.")]
        elif len(name) > 128:
            errors["name"] = [_l("Keep the name under 128 characters.")]
        out["name"] = name
    if wanted("points_per_yuan"):
        try:
            per = int(data.get("points_per_yuan"))
        except (TypeError, ValueError):
            per = 0
        if not 0 < per <= 1000:
            errors["points_per_yuan"] = [_l("Enter bonus points per yuan between 1 and 1000.")]
        out["points_per_yuan"] = per
    if wanted("visit_types"):
        types = list(data.get("visit_types") or [])
        if any(t not in VISIT_TYPES for t in types):
            errors["visit_types"] = [_l("Choose visit types from the list.")]
        out["visit_types"] = [t for t in VISIT_TYPES if t in types]
    for name in ("starts_on", "ends_on"):
        if wanted(name):
            day = data.get(name)
            if isinstance(day, str):
                try:
                    day = date.fromisoformat(day)
                except ValueError:
                    day = None
            if not isinstance(day, date):
                errors[name] = [_l("Enter a date.")]
            out[name] = day
    if "active" in data and campaign is not None:
        out["active"] = bool(data["active"])
    starts = out.get("starts_on", campaign.starts_on if campaign else None)
    ends = out.get("ends_on", campaign.ends_on if campaign else None)
    if isinstance(starts, date) and isinstance(ends, date) and ends < starts:
        errors.setdefault("ends_on", []).append(_l("The campaign ends before it starts."))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return out


def create_campaign(chapter_id: int, data: dict, *, actor=None) -> Campaign:
    """Start a chapter-funded campaign: bonus points per yuan of service spend."""
    values = clean_campaign(data)
    campaign = Campaign(chapter_id=chapter_id, active=True,
                        created_by_id=getattr(actor, "id", None), **values)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update_campaign(campaign: Campaign, data: dict) -> Campaign:
    """Change a campaign; visits already awarded keep their points."""
    for name, value in clean_campaign(data, campaign).items():
        setattr(campaign, name, value)
    db.session.flush()
    return campaign


def deactivate_campaign(campaign: Campaign) -> Campaign:
    """Stop a campaign: later visits earn no bonus from it."""
    campaign.active = False
    db.session.flush()
    return campaign
