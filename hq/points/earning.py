"""Earning and spending points at a chapter: the entries HQ's rules and people post.

Every write goes through :func:`hq.points.ledger.post` with an idempotency key that
names the logical event (``visit:<chapter>:<visit>``, ``join:<member>`` …), so a
retried job, a re-import or a double click writes nothing twice.

- Rule-based earnings (service visits, joining, referrals, attendance) are funded by
  HQ and record the rule that set the amount (``rule_id``).
- A chapter's own campaign adds a separate, chapter-funded entry per visit.
- A manual award is chapter-funded and needs a reason; an adjust (signed, with a
  reason) is for a manager; a dealer redemption is spent at the chapter's dealer.

Only active members earn; a visit before the member joined earns nothing. Functions
run in the caller's tenant scope (the member must be visible in it) and only flush.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.auth.models import CHAPTER_MANAGER, HQ_ADMIN
from clubplatform.errors import NotFound, PermissionDenied, ValidationFailed, field_error
from clubplatform.extensions import db
from hq.members import service as members
from hq.members.models import ACTIVE, Member
from hq.points import ledger
from hq.points.models import ADJUST, EARN, REDEEM, Campaign

#: why points are spent at the dealer
DEALER_REASONS = ("dealer_service", "dealer_parts")
#: longest reason a person may give (the ledger's ``note``)
NOTE_MAX = 255
#: largest single manual award, adjust or redemption (a typo guard)
POINTS_MAX = 10_000_000


@dataclass(frozen=True)
class Earner:
    """What earning needs to know about a member."""

    id: int
    chapter_id: int
    status: str
    tier: str
    joined_on: date

    def may_earn_on(self, day: date) -> bool:
        return self.status == ACTIVE and day >= self.joined_on


def earner(member_id: int) -> Earner | None:
    """The member as seen in the current scope, or None."""
    row = db.session.execute(
        sa.select(Member.id, Member.chapter_id, Member.status, Member.tier, Member.joined_on)
        .where(Member.id == member_id)).first()
    return Earner(*row) if row else None


def _rule_points(kind: str, on: date, key: str = "") -> tuple[int, int | None]:
    rule = ledger.rule_at(kind, key, on)
    if rule is None:
        return 0, None
    return rule.value, rule.id


def tier_percent(tier: str, on: date) -> int:
    """The tier's earn multiplier in percent on ``on`` (100 when HQ set none)."""
    value = ledger.rule_value("tier_multiplier", tier, on)
    return 100 if value is None else value


def visit_points(amount_fen: int, visit_type: str, tier: str, on: date) -> tuple[int, int | None]:
    """Points a visit earns under HQ's rules of ``on``, and the service-rate rule's id.

    floor(amount in CNY × points per CNY of the visit type) × tier multiplier // 100.
    """
    rate, rule_id = _rule_points("service_rate", on, visit_type)
    if not rate or amount_fen <= 0:
        return 0, rule_id
    base = amount_fen * rate // 100
    return base * tier_percent(tier, on) // 100, rule_id


def active_campaigns(chapter_id: int, on: date, visit_type: str) -> list[Campaign]:
    """The chapter's active campaigns covering ``on`` and the visit type."""
    found = db.session.execute(
        sa.select(Campaign).where(Campaign.chapter_id == chapter_id, Campaign.active.is_(True),
                                  Campaign.starts_on <= on, Campaign.ends_on >= on)
        .order_by(Campaign.id)).scalars()
    return [c for c in found if not c.visit_types or visit_type in c.visit_types]


def earn_for_visit(member_id: int, chapter_id: int, visit_id: int, visit_type: str,
                   amount_fen: int, visit_date: date, *, who: Earner | None = None,
                   campaigns: list[Campaign] | None = None) -> list[ledger.Posted]:
    """Post a service visit's points (HQ-funded) and each active campaign's bonus.

    ``who`` and ``campaigns`` may be passed by a caller that already read them
    (awarding many visits at once). Returns the entries (none for a member who may
    not earn, or a visit worth no points).
    """
    who = who or earner(member_id)
    if who is None or not who.may_earn_on(visit_date):
        return []
    posted = []
    points, rule_id = visit_points(amount_fen, visit_type, who.tier, visit_date)
    ref = f"visit:{visit_id}"
    if points > 0:
        posted.append(ledger.post(
            member_id=member_id, chapter_id=chapter_id, kind=EARN, reason="service",
            points=points, funder="hq", rule_id=rule_id, business_date=visit_date,
            idempotency_key=f"visit:{chapter_id}:{visit_id}", source_ref=ref))
    if campaigns is None:
        campaigns = active_campaigns(chapter_id, visit_date, visit_type)
    for campaign in campaigns:
        bonus = amount_fen * campaign.points_per_yuan // 100
        if bonus > 0:
            posted.append(ledger.post(
                member_id=member_id, chapter_id=chapter_id, kind=EARN, reason="campaign",
                points=bonus, funder="chapter", business_date=visit_date,
                idempotency_key=f"campaign:{campaign.id}:visit:{visit_id}", source_ref=ref,
                note=campaign.name[:NOTE_MAX]))
    return posted


def _earn_by_rule(kind: str, member_id: int, chapter_id: int, on: date, key: str,
                  source_ref: str) -> ledger.Posted | None:
    who = earner(member_id)
    if who is None or who.status != ACTIVE:
        return None
    points, rule_id = _rule_points(kind, on)
    if points <= 0:
        return None
    return ledger.post(member_id=member_id, chapter_id=chapter_id, kind=EARN, reason=kind,
                       points=points, funder="hq", rule_id=rule_id, business_date=on,
                       idempotency_key=key, source_ref=source_ref)


def earn_for_join(member_id: int, chapter_id: int, on: date) -> ledger.Posted | None:
    """The join bonus (HQ's ``join`` rule of the joining date), once per member."""
    return _earn_by_rule("join", member_id, chapter_id, on, f"join:{member_id}",
                         f"member:{member_id}")


def earn_for_referral(member_id: int, lead_id: int, chapter_id: int,
                      on: date | None = None) -> ledger.Posted | None:
    """Points for a referral that ended in a purchase, once per lead."""
    return _earn_by_rule("referral", member_id, chapter_id, on or dates.today(),
                         f"referral:{lead_id}", f"lead:{lead_id}")


def earn_for_attendance(member_id: int, chapter_id: int, event_id: int,
                        on: date | None = None) -> ledger.Posted | None:
    """Points for attending an event, once per event and member."""
    return _earn_by_rule("attendance", member_id, chapter_id, on or dates.today(),
                         f"attendance:{event_id}:{member_id}", f"event:{event_id}")


def _on_member_joined(member: Member, **_kwargs) -> None:
    earn_for_join(member.id, member.chapter_id, member.joined_on)


members.member_joined.connect(_on_member_joined)


# --- what people post -------------------------------------------------------------------

def _clean(points, note, *, signed: bool = False) -> tuple[int, str]:
    errors: dict[str, list] = {}
    try:
        value = int(points)
    except (TypeError, ValueError):
        value = 0
        errors["points"] = [_l("Enter a whole number of points.")]
    else:
        if signed and value == 0:
            errors["points"] = [_l("Enter a number of points other than zero.")]
        elif not signed and value <= 0:
            errors["points"] = [_l("Enter a number of points greater than zero.")]
        elif abs(value) > POINTS_MAX:
            errors["points"] = [_l("Enter at most %(n)s points.", n=POINTS_MAX)]
    text = (note or "").strip()
    if not text:
        errors["note"] = [_l("Give the reason.")]
    elif len(text) > NOTE_MAX:
        errors["note"] = [_l("Keep the reason under %(n)s characters.", n=NOTE_MAX)]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    return value, text


def _key(kind: str, member_id: int, token: str) -> str:
    token = (token or "").strip()
    if not token or len(token) > 100:
        raise field_error("idempotency_key", _l("The form expired; please submit it again."))
    return f"{kind}:{member_id}:{token}"


def award_points(member: Member, points, note: str | None, *, token: str,
                 actor=None) -> ledger.Posted:
    """A manual award with a reason, funded by the member's chapter.

    ``token`` identifies the submission (the form's, or the API's idempotency key):
    submitting it twice writes one entry.
    """
    value, text = _clean(points, note)
    if member.status != ACTIVE:
        raise ValidationFailed(_l("Only an active member earns points."))
    return ledger.post(member_id=member.id, chapter_id=member.chapter_id, kind=EARN,
                       reason="manual", points=value, funder="chapter", note=text,
                       idempotency_key=_key("manual", member.id, token), actor=actor)


def adjust_points(member: Member, points, note: str | None, *, token: str,
                  actor) -> ledger.Posted:
    """A signed correction with a reason, by the chapter's manager (or HQ's admin).

    Refused (:class:`~hq.points.ledger.InsufficientPoints`) when it would take the
    balance below zero.
    """
    role = getattr(actor, "role", None)
    if role not in (CHAPTER_MANAGER, HQ_ADMIN):
        raise PermissionDenied(_l("Only the chapter's manager adjusts points."))
    value, text = _clean(points, note, signed=True)
    return ledger.post(member_id=member.id, chapter_id=member.chapter_id, kind=ADJUST,
                       reason="correction", points=value,
                       funder="hq" if role == HQ_ADMIN else "chapter", note=text,
                       idempotency_key=_key("adjust", member.id, token), actor=actor)


def redeem_at_dealer(member: Member, points, reason: str, note: str | None = None, *,
                     token: str, actor=None) -> ledger.Posted:
    """Spend points at the chapter's dealer for service or parts.

    More than the balance raises :class:`~hq.points.ledger.InsufficientPoints` and
    writes nothing.
    """
    if reason not in DEALER_REASONS:
        raise field_error("reason", _l("Choose what the points pay for: service or parts."))
    try:
        value = int(points)
    except (TypeError, ValueError):
        raise field_error("points", _l("Enter a whole number of points.")) from None
    if value <= 0:
        raise field_error("points", _l("Enter a number of points greater than zero."))
    if value > POINTS_MAX:
        raise field_error("points", _l("Enter at most %(n)s points.", n=POINTS_MAX))
    text = (note or "").strip()[:NOTE_MAX] or None
    return ledger.post(member_id=member.id, chapter_id=member.chapter_id, kind=REDEEM,
                       reason=reason, points=-value, venue="dealer", note=text,
                       idempotency_key=_key("redeem", member.id, token), actor=actor)


def require_member(member_id: int) -> Member:
    """The member in the current scope, or :class:`NotFound`."""
    member = db.session.execute(sa.select(Member).where(Member.id == member_id)).scalar_one_or_none()
    if member is None:
        raise NotFound(_l("No such member."))
    return member
