"""HQ's points rules: effective-dated values of each kind (and key), set from a date.

A rule applies from ``effective_from`` until ``effective_to`` (exclusive, ``None`` while
it lasts). Ledger entries read the rule in force on their business date
(:func:`hq.points.ledger.rule_at`) and keep its id, so a past entry is always explained
by the rule that applied then. Hence:

- a new value starts on a future business date (tomorrow at the earliest): every entry
  written so far, today's included, keeps the rule that was in force on its date;
- setting a new value from date D closes the rule in force then (``effective_to = D``)
  when D is after its start; any other overlap with an existing rule is refused with
  a field error and nothing is written;
- a rule whose period has started is never edited; a rule that has not started yet may
  still get another value (:func:`change_future_rule`).

Services only flush; the edge commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.audit import service as audit
from clubplatform.errors import Conflict, NotFound, ValidationFailed
from clubplatform.extensions import db
from clubplatform.validators import VISIT_TYPES
from hq.members.models import TIERS
from hq.points import ledger
from hq.points.models import KEYED_RULE_KINDS, RULE_KINDS, PointRule

#: what HQ starts with (``install_default_rules``): ``(kind, key) -> value``
DEFAULT_RULES: dict[tuple[str, str], int] = {
    **{("service_rate", t): 1 for t in VISIT_TYPES},
    ("service_rate", "accessories"): 2,
    ("service_rate", "insurance_renewal"): 2,
    ("attendance", ""): 200,
    ("referral", ""): 5000,
    ("birthday", ""): 500,
    ("join", ""): 1000,
    ("tier_multiplier", "silver"): 100,
    ("tier_multiplier", "gold"): 120,
    ("tier_multiplier", "platinum"): 150,
    ("tier_multiplier", "diamond"): 200,
    ("tier_threshold", "silver"): 0,
    ("tier_threshold", "gold"): 5000,
    ("tier_threshold", "platinum"): 20000,
    ("tier_threshold", "diamond"): 50000,
    ("expiry_months", ""): 24,
    ("point_value", ""): 100,
}

KIND_LABELS = {
    "service_rate": _l("Points per CNY of service spend"),
    "attendance": _l("Points for attending an event"),
    "referral": _l("Points for a referral that ended in a purchase"),
    "birthday": _l("Birthday gift (points)"),
    "join": _l("Join bonus (points)"),
    "tier_multiplier": _l("Tier multiplier (percent, 100 = ×1.0)"),
    "tier_threshold": _l("Tier threshold (qualifying points over 12 months)"),
    "expiry_months": _l("Months until earned points expire"),
    "point_value": _l("Value of 100 points (fen)"),
}

#: what a key names, for people (visit types as the chapter's visit pages say them)
KEY_LABELS = {
    "first_service": _l("First service"),
    "maintenance": _l("Maintenance"),
    "warranty": _l("Warranty claim"),
    "minor_repair": _l("Minor repair"),
    "major_repair": _l("Major repair"),
    "insurance_repair": _l("Insurance repair"),
    "body_paint": _l("Body and paint"),
    "accessories": _l("Accessories"),
    "insurance_renewal": _l("Insurance renewal"),
    "inspection": _l("Annual inspection service"),
    "silver": _l("Silver"), "gold": _l("Gold"), "platinum": _l("Platinum"),
    "diamond": _l("Diamond"),
}


def keys_for(kind: str) -> tuple[str, ...]:
    """The keys a rule of ``kind`` may have (``("",)`` for unkeyed kinds)."""
    if kind == "service_rate":
        return VISIT_TYPES
    if kind in ("tier_multiplier", "tier_threshold"):
        return TIERS
    return ("",)


def all_keys() -> list[tuple[str, str]]:
    """Every (kind, key) HQ can set, in display order."""
    return [(kind, key) for kind in RULE_KINDS for key in keys_for(kind)]


# --- reading ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRow:
    """One line of the rule table: a kind/key and the rule in force (or None)."""

    kind: str
    key: str
    current: PointRule | None
    #: the next value already set from a future date, if any
    upcoming: PointRule | None


def rules_in_force(on: date | None = None) -> list[RuleRow]:
    """Every kind/key with the rule in force on ``on`` (today) and the next one planned."""
    on = on or dates.today()
    rules = db.session.execute(
        sa.select(PointRule).where(
            sa.or_(PointRule.effective_to.is_(None), PointRule.effective_to > on))
        .order_by(PointRule.effective_from)
    ).scalars().all()
    current: dict[tuple[str, str], PointRule] = {}
    upcoming: dict[tuple[str, str], PointRule] = {}
    for rule in rules:
        k = (rule.kind, rule.key)
        if rule.effective_from <= on:
            current[k] = rule
        else:
            upcoming.setdefault(k, rule)
    return [RuleRow(kind, key, current.get((kind, key)), upcoming.get((kind, key)))
            for kind, key in all_keys()]


def rule_history(kind: str, key: str | None = None) -> list[PointRule]:
    """Every rule of ``kind`` (and ``key`` when given), by key then newest first."""
    _check_kind(kind)
    stmt = sa.select(PointRule).where(PointRule.kind == kind)
    if key is not None:
        stmt = stmt.where(PointRule.key == key)
    return list(db.session.execute(
        stmt.order_by(PointRule.key, PointRule.effective_from.desc())).scalars())


def list_rules(*, kind: str | None = None, key: str | None = None,
               on: date | None = None) -> sa.Select:
    """Rules as a query: all of them, or those in force on ``on``; filtered by kind/key."""
    stmt = sa.select(PointRule)
    if kind is not None:
        stmt = stmt.where(PointRule.kind == kind)
    if key is not None:
        stmt = stmt.where(PointRule.key == key)
    if on is not None:
        stmt = stmt.where(PointRule.effective_from <= on,
                          sa.or_(PointRule.effective_to.is_(None), PointRule.effective_to > on))
    return stmt.order_by(PointRule.kind, PointRule.key, PointRule.effective_from)


def get_rule(rule_id: int) -> PointRule:
    rule = db.session.get(PointRule, rule_id)
    if rule is None:
        raise NotFound(_l("No such rule."))
    return rule


def thresholds_on(on: date) -> dict[str, int]:
    """Tier thresholds in force on ``on``; a tier without one cannot be reached (silver: 0)."""
    out = {}
    for tier in TIERS:
        rule = ledger.rule_at("tier_threshold", tier, on)
        if rule is not None:
            out[tier] = rule.value
    out.setdefault(TIERS[0], 0)
    return out


# --- writing ----------------------------------------------------------------------------

def _check_kind(kind: str) -> None:
    if kind not in RULE_KINDS:
        raise ValidationFailed(_l("Choose a known kind of rule."),
                               {"kind": [_l("Choose a known kind of rule.")]})


def _validate(kind: str, key: str, value) -> None:
    _check_kind(kind)
    if key not in keys_for(kind):
        msg = (_l("Choose what the rule applies to.") if kind in KEYED_RULE_KINDS
               else _l("This kind of rule applies to everything: leave the key empty."))
        raise ValidationFailed(msg, {"key": [msg]})
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        msg = _l("Enter a whole number, zero or more.")
        raise ValidationFailed(msg, {"value": [msg]})
    if kind in ("expiry_months", "tier_multiplier") and value < 1:
        msg = _l("Enter a whole number, one or more.")
        raise ValidationFailed(msg, {"value": [msg]})
    if kind == "tier_threshold" and key == TIERS[0] and value != 0:
        msg = _l("The first tier is where every member starts: its threshold is 0.")
        raise ValidationFailed(msg, {"value": [msg]})


def set_rule(kind: str, key: str, value: int, effective_from: date, *, note: str | None = None,
             actor=None, ip: str | None = None, today: date | None = None) -> PointRule:
    """Set a new value of ``kind``/``key`` from business date ``effective_from`` on.

    Closes the rule in force then (when it started earlier) and adds the new one, open
    ended. Refused (:class:`ValidationFailed` on ``effective_from``; nothing written)
    when the date is not in the future, or when the new rule would overlap any other
    rule (one starting on or after that date).
    """
    key = key or ""
    _validate(kind, key, value)
    today = today or dates.today()
    if effective_from <= today:
        msg = _l("A new value starts tomorrow at the earliest: entries already written "
                 "keep the rule in force on their date.")
        raise ValidationFailed(msg, {"effective_from": [msg]})
    overlapping = db.session.execute(
        sa.select(PointRule).where(
            PointRule.kind == kind, PointRule.key == key,
            sa.or_(PointRule.effective_to.is_(None), PointRule.effective_to > effective_from))
        .order_by(PointRule.effective_from).with_for_update()
    ).scalars().all()
    to_close = None
    if len(overlapping) == 1 and overlapping[0].effective_to is None \
            and overlapping[0].effective_from < effective_from:
        to_close = overlapping[0]
    elif overlapping:
        clash = overlapping[-1]
        msg = _l("This overlaps the rule from %(start)s: choose a date after %(start)s "
                 "(or change that rule while it has not started).",
                 start=clash.effective_from.isoformat())
        raise Conflict(msg, {"effective_from": [msg]})
    if to_close is not None:
        to_close.effective_to = effective_from
    rule = PointRule(kind=kind, key=key, value=value, effective_from=effective_from,
                     effective_to=None, note=note or None,
                     created_by_id=getattr(actor, "id", None))
    db.session.add(rule)
    db.session.flush()
    audit.record("point_rule_set", actor=actor, target_type="point_rule", target_id=rule.id,
                 ip=ip, details={"kind": kind, "key": key, "value": value,
                                 "effective_from": effective_from.isoformat(),
                                 "closed_rule_id": getattr(to_close, "id", None)})
    return rule


def change_future_rule(rule: PointRule, value: int, *, note: str | None = None, actor=None,
                       ip: str | None = None, today: date | None = None) -> PointRule:
    """Give a rule that has not started yet another value.

    A rule whose period has started (or ended) is refused: entries may have used it.
    """
    today = today or dates.today()
    if rule.effective_from <= today:
        msg = _l("This rule is or was in force and cannot change: set a new value from a "
                 "future date instead.")
        raise Conflict(msg, {"value": [msg]})
    _validate(rule.kind, rule.key, value)
    old = rule.value
    rule.value = value
    if note is not None:
        rule.note = note or None
    db.session.flush()
    audit.record("point_rule_changed", actor=actor, target_type="point_rule",
                 target_id=rule.id, ip=ip, details={"from": old, "to": value})
    return rule


def install_default_rules(effective_from: date) -> int:
    """Add :data:`DEFAULT_RULES` from ``effective_from`` for every kind/key that has none.

    Idempotent: a kind/key with any rule already is left alone. Returns how many rules
    were added. (Used to start a platform and by the demo; any start date is accepted.)
    """
    existing = {(kind, key) for kind, key in db.session.execute(
        sa.select(PointRule.kind, PointRule.key).distinct())}
    added = 0
    for (kind, key), value in DEFAULT_RULES.items():
        if (kind, key) in existing:
            continue
        db.session.add(PointRule(kind=kind, key=key, value=value,
                                 effective_from=effective_from, note="default"))
        added += 1
    db.session.flush()
    return added


__all__ = [
    "DEFAULT_RULES", "KEY_LABELS", "KIND_LABELS", "RuleRow", "all_keys", "change_future_rule", "get_rule",
    "install_default_rules", "keys_for", "list_rules", "rule_history", "rules_in_force",
    "set_rule", "thresholds_on",
]
