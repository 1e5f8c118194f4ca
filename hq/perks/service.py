"""Partner perks (会员礼遇): partners, their users, perks, and the vouchers members take.

- HQ registers partners and their ``partner`` users, and publishes perks
  (draft → published → withdrawn).
- A member takes a perk (:func:`take_perk`): every check and every write happens in one
  savepoint, so a refusal leaves nothing behind. The stock is taken by one conditional
  ``UPDATE`` (``taken < stock``); the per-member limit is counted after locking the
  member row (``SELECT … FOR UPDATE`` on PostgreSQL), so parallel takes of one member
  serialise; the points are a ``redeem`` entry through :func:`hq.points.ledger.post`
  (venue ``partner``), keyed by the voucher code.
- A partner user checks a code and marks it used (:func:`use_voucher`), once: a
  conditional ``UPDATE … WHERE status = 'issued'``. Another partner's voucher answers
  exactly like an unknown code.

Services only flush; the edge commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from clubplatform import dates
from clubplatform.auth import service as auth
from clubplatform.auth.models import PARTNER, User
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, ValidationFailed, field_error
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.members import service as members_service
from hq.members.models import ACTIVE, TIERS, Member
from hq.perks import codes
from hq.points import ledger
from hq.points.models import REDEEM, Partner, PartnerUser, Perk, Voucher

DRAFT, PUBLISHED, WITHDRAWN = "draft", "published", "withdrawn"
ISSUED, USED = "issued", "used"

PERK_STATUS_LABELS = {DRAFT: _l("Draft"), PUBLISHED: _l("Published"),
                      WITHDRAWN: _l("Withdrawn")}
VOUCHER_STATUS_LABELS = {ISSUED: _l("Ready to use"), USED: _l("Used"),
                         "cancelled": _l("Cancelled")}


# --- errors: each names its reason --------------------------------------------------

class PerkRefused(Conflict):
    """The member may not take the perk now; nothing was written."""

    code = "perk_refused"


class NotEnoughPoints(PerkRefused):
    code = "insufficient_points"


class OutOfStock(PerkRefused):
    code = "out_of_stock"


class TierNotAllowed(PerkRefused):
    code = "tier_not_allowed"


class LimitReached(PerkRefused):
    code = "limit_reached"


class PerkNotValidNow(PerkRefused):
    code = "perk_not_valid_now"


class MemberNotActive(PerkRefused):
    code = "member_not_active"


class VoucherUsed(Conflict):
    code = "voucher_used"


class VoucherExpired(Conflict):
    code = "voucher_expired"


def _refusal(cls, message) -> PerkRefused:
    return cls(message, {"perk": [message]})


MESSAGES = {
    MemberNotActive: _l("Only active members can take perks."),
    TierNotAllowed: _l("This perk is not offered to your tier."),
    PerkNotValidNow: _l("This perk cannot be taken today (outside its validity dates)."),
    LimitReached: _l("You have already taken this perk as often as allowed."),
    OutOfStock: _l("This perk is out of stock."),
    NotEnoughPoints: _l("You do not have enough points for this perk."),
}


def _refuse(cls) -> PerkRefused:
    return _refusal(cls, MESSAGES[cls])


def unknown_voucher() -> NotFound:
    return NotFound(_l("Unknown voucher code."), {"code": [_l("Unknown voucher code.")]})


# --- partners ---------------------------------------------------------------------------

PARTNER_FIELDS = ("code", "name", "category", "contact", "active")


def partner_query(*, active: bool | None = None) -> sa.Select:
    stmt = sa.select(Partner).order_by(Partner.code)
    if active is not None:
        stmt = stmt.where(Partner.active.is_(active))
    return stmt


def get_partner(partner_id: int) -> Partner:
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(_l("Unknown partner."))
    return partner


def _clean_partner(data: dict, partner: Partner | None) -> dict:
    values = {k: data[k] for k in PARTNER_FIELDS if k in data}
    for key in ("code", "name", "category", "contact"):
        if key in values and isinstance(values[key], str):
            values[key] = values[key].strip() or None
    if "code" in values:
        code = (values["code"] or "").upper()
        if not code or not all(c.isalnum() or c in "-_" for c in code):
            raise field_error("code", _l("Use letters, digits, dashes or underscores."))
        taken = db.session.execute(sa.select(Partner.id).where(Partner.code == code)).scalar()
        if taken is not None and (partner is None or taken != partner.id):
            raise field_error("code", _l("Another partner has this code."), Conflict)
        values["code"] = code
    if partner is None or "name" in values:
        if not values.get("name"):
            raise field_error("name", _l("Enter the partner's name."))
    if partner is None and not values.get("code"):
        raise field_error("code", _l("Enter a code."))
    return values


def create_partner(data: dict) -> Partner:
    """Register a partner (code, name, category, contact, active)."""
    values = _clean_partner(data, None)
    values.setdefault("active", True)
    partner = Partner(**values)
    db.session.add(partner)
    db.session.flush()
    return partner


def update_partner(partner: Partner, data: dict) -> Partner:
    """Change a partner's details or switch it off (its perks can no longer be taken)."""
    for key, value in _clean_partner(data, partner).items():
        setattr(partner, key, value)
    db.session.flush()
    return partner


def partner_users(partner: Partner) -> list[User]:
    return list(db.session.execute(
        sa.select(User).join(PartnerUser, PartnerUser.user_id == User.id)
        .where(PartnerUser.partner_id == partner.id).order_by(User.username)).scalars())


def add_partner_user(partner: Partner, *, username: str, display_name: str, password: str,
                     email: str | None = None, actor: User | None = None,
                     ip: str | None = None) -> User:
    """Create a ``partner`` login that works for ``partner``."""
    user = auth.create_user(username=username, display_name=display_name, password=password,
                            role=PARTNER, email=email, actor=actor, ip=ip)
    db.session.add(PartnerUser(user_id=user.id, partner_id=partner.id))
    db.session.flush()
    return user


def link_partner_user(partner: Partner, user: User) -> None:
    """Let an existing ``partner`` login work for ``partner`` (demo data, admin fixes)."""
    if user.role != PARTNER:
        raise field_error("username", _l("Only a partner login can work for a partner."))
    link = db.session.get(PartnerUser, user.id)
    if link is None:
        db.session.add(PartnerUser(user_id=user.id, partner_id=partner.id))
    else:
        link.partner_id = partner.id
    db.session.flush()


def partner_of_user(user) -> Partner | None:
    """The partner a ``partner`` user works for (None if not linked)."""
    if getattr(user, "role", None) != PARTNER:
        return None
    return db.session.execute(
        sa.select(Partner).join(PartnerUser, PartnerUser.partner_id == Partner.id)
        .where(PartnerUser.user_id == user.id)).scalar_one_or_none()


# --- perks ------------------------------------------------------------------------------

PERK_FIELDS = ("partner_id", "title", "description", "tiers", "points_cost", "valid_from",
               "valid_to", "stock", "per_member_limit")


def perk_query(*, status: str | None = None, partner_id: int | None = None) -> sa.Select:
    stmt = sa.select(Perk).order_by(Perk.valid_from.desc(), Perk.id.desc())
    if status:
        stmt = stmt.where(Perk.status == status)
    if partner_id:
        stmt = stmt.where(Perk.partner_id == partner_id)
    return stmt


def get_perk(perk_id: int) -> Perk:
    perk = db.session.get(Perk, perk_id)
    if perk is None:
        raise NotFound(_l("Unknown perk."))
    return perk


def _clean_perk(data: dict, perk: Perk | None) -> dict:
    values = {k: data[k] for k in PERK_FIELDS if k in data}
    errors: dict[str, list] = {}
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
    if "description" in values:
        values["description"] = (values["description"] or "").strip() or None
    merged = {k: getattr(perk, k) for k in PERK_FIELDS} if perk is not None else {}
    merged.update(values)
    if not merged.get("title"):
        errors.setdefault("title", []).append(_l("Enter a title."))
    partner_id = merged.get("partner_id")
    if not partner_id or db.session.get(Partner, partner_id) is None:
        errors.setdefault("partner_id", []).append(_l("Choose a partner."))
    tiers = list(merged.get("tiers") or [])
    if not tiers or any(t not in TIERS for t in tiers):
        errors.setdefault("tiers", []).append(_l("Choose at least one tier."))
    if "tiers" in values:
        values["tiers"] = [t for t in TIERS if t in tiers]
    cost = merged.get("points_cost")
    if cost is None or cost < 0:
        errors.setdefault("points_cost", []).append(_l("The points cost cannot be negative."))
    start, end = merged.get("valid_from"), merged.get("valid_to")
    if start is None:
        errors.setdefault("valid_from", []).append(_l("Enter the first day."))
    if end is None:
        errors.setdefault("valid_to", []).append(_l("Enter the last day."))
    elif start is not None and end < start:
        errors.setdefault("valid_to", []).append(_l("The last day is before the first day."))
    stock = merged.get("stock")
    taken = perk.taken if perk is not None else 0
    if stock is not None and stock < max(taken, 0):
        errors.setdefault("stock", []).append(
            _l("The stock cannot be below the %(n)s vouchers already taken.", n=taken)
            if taken else _l("The stock cannot be negative."))
    limit = merged.get("per_member_limit")
    if limit is not None and limit <= 0:
        errors.setdefault("per_member_limit", []).append(
            _l("The limit per member must be at least 1 (empty: no limit)."))
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors)
    return values


def create_perk(data: dict) -> Perk:
    """A new perk, as a draft."""
    values = _clean_perk(data, None)
    perk = Perk(status=DRAFT, taken=0, **values)
    db.session.add(perk)
    db.session.flush()
    return perk


def update_perk(perk: Perk, data: dict) -> Perk:
    """Change a perk (also while published: e.g. more stock, a later end)."""
    for key, value in _clean_perk(data, perk).items():
        setattr(perk, key, value)
    db.session.flush()
    return perk


def publish_perk(perk: Perk) -> Perk:
    """Draft → published: members can see and take it."""
    if perk.status != DRAFT:
        raise Conflict(_l("Only a draft can be published."))
    partner = db.session.get(Partner, perk.partner_id)
    if partner is None or not partner.active:
        raise Conflict(_l("The partner is not active."))
    perk.status = PUBLISHED
    db.session.flush()
    return perk


def withdraw_perk(perk: Perk) -> Perk:
    """Published → withdrawn: no more vouchers; those issued stay usable until they expire."""
    if perk.status != PUBLISHED:
        raise Conflict(_l("Only a published perk can be withdrawn."))
    perk.status = WITHDRAWN
    db.session.flush()
    return perk


# --- members: what they may take --------------------------------------------------------

def member_of_user(user) -> Member | None:
    """The portal user's member row, in the request's (their chapter's) scope."""
    return db.session.execute(
        sa.select(Member).where(Member.user_id == user.id)).scalar_one_or_none()


def require_member_of_user(user) -> Member:
    member = member_of_user(user)
    if member is None:
        from clubplatform.errors import PermissionDenied

        raise PermissionDenied(_l("This is open to members once their application is approved."))
    return member


def _offered(today: date) -> sa.Select:
    return (sa.select(Perk).join(Partner, Partner.id == Perk.partner_id)
            .where(Perk.status == PUBLISHED, Partner.active.is_(True), Perk.valid_to >= today))


def _taken_counts(member_id: int, perk_ids: list[int] | None = None) -> dict[int, int]:
    stmt = (sa.select(Voucher.perk_id, sa.func.count())
            .where(Voucher.member_id == member_id, Voucher.status != "cancelled")
            .group_by(Voucher.perk_id))
    if perk_ids is not None:
        stmt = stmt.where(Voucher.perk_id.in_(perk_ids))
    return dict(db.session.execute(stmt).all())


def why_not(member: Member, perk: Perk, *, taken_by_member: int, balance: int,
            today: date) -> PerkRefused | None:
    """The first reason the member may not take the perk today, or None."""
    if member.status != ACTIVE:
        return _refuse(MemberNotActive)
    if member.tier not in (perk.tiers or []):
        return _refuse(TierNotAllowed)
    if not (perk.valid_from <= today <= perk.valid_to):
        return _refuse(PerkNotValidNow)
    if perk.per_member_limit is not None and taken_by_member >= perk.per_member_limit:
        return _refuse(LimitReached)
    if perk.stock is not None and perk.taken >= perk.stock:
        return _refuse(OutOfStock)
    if balance < perk.points_cost:
        return _refuse(NotEnoughPoints)
    return None


@dataclass(frozen=True)
class OfferedPerk:
    perk: Perk
    partner: Partner
    #: vouchers the member already holds of it
    taken_by_member: int
    #: why the member may not take it now (None: they may)
    refusal: PerkRefused | None

    @property
    def can_take(self) -> bool:
        return self.refusal is None

    @property
    def reason(self) -> str | None:
        return None if self.refusal is None else str(self.refusal.message)

    @property
    def reason_code(self) -> str | None:
        return None if self.refusal is None else self.refusal.code

    @property
    def left(self) -> int | None:
        return None if self.perk.stock is None else max(self.perk.stock - self.perk.taken, 0)


def perks_for_member(member: Member, today: date | None = None) -> list[OfferedPerk]:
    """Published perks of active partners not yet over, each with why not (if not)."""
    today = today or dates.today()
    rows = db.session.execute(
        _offered(today).add_columns(Partner).order_by(Perk.points_cost, Perk.id)).all()
    counts = _taken_counts(member.id, [p.id for p, _ in rows])
    balance = ledger.balance(member.id)
    return [OfferedPerk(perk, partner, counts.get(perk.id, 0),
                        why_not(member, perk, taken_by_member=counts.get(perk.id, 0),
                                balance=balance, today=today))
            for perk, partner in rows]


# --- taking a perk ----------------------------------------------------------------------

@dataclass(frozen=True)
class Taken:
    voucher: Voucher
    #: False when the same request (client token) had already taken it
    created: bool


def _lock_member(member_id: int) -> None:
    """Serialise one member's takes (row lock on PostgreSQL; SQLite serialises writers)."""
    members = Member.__table__
    db.session.execute(sa.select(members.c.id).where(members.c.id == member_id)
                       .with_for_update())


def _voucher_by_code(code: str) -> Voucher | None:
    return db.session.execute(sa.select(Voucher).where(Voucher.code == code)).scalar_one_or_none()


def _new_unique_code() -> str:
    while True:
        code = codes.new_code()
        if _voucher_by_code(code) is None:
            return code


def take_perk(member: Member, perk_id: int, *, client_token: str | None = None,
              actor: User | None = None, today: date | None = None) -> Taken:
    """The member takes a perk and gets a voucher; refusals raise and write nothing.

    ``client_token`` (e.g. from the form) makes a double submit take once: the same
    token gives the same voucher code, hence the same ledger key ``perk:<code>``.
    """
    today = today or dates.today()
    perk = db.session.get(Perk, perk_id)
    partner = db.session.get(Partner, perk.partner_id) if perk is not None else None
    if perk is None or perk.status != PUBLISHED or partner is None or not partner.active:
        raise NotFound(_l("This perk is not offered."))
    member_id, chapter_id = member.id, member.chapter_id
    token = (client_token or "").strip()[:64]
    code = (codes.code_for_request(current_app.config["SECRET_KEY"], "perk", member_id,
                                   perk.id, token) if token else None)
    with db.session.begin_nested():
        _lock_member(member_id)
        if code is not None:
            existing = _voucher_by_code(code)
            if existing is not None:
                if existing.member_id != member_id:  # an HMAC collision: never share a code
                    raise Conflict(_l("Please try again."))
                return Taken(existing, False)
        db.session.refresh(perk, ["taken", "stock", "status"])
        if perk.status != PUBLISHED:
            raise NotFound(_l("This perk is not offered."))
        refusal = why_not(member, perk,
                          taken_by_member=_taken_counts(member_id, [perk.id]).get(perk.id, 0),
                          balance=ledger.balance(member_id), today=today)
        if refusal is not None:
            raise refusal
        perks = Perk.__table__
        moved = db.session.execute(
            sa.update(perks)
            .where(perks.c.id == perk.id,
                   sa.or_(perks.c.stock.is_(None), perks.c.taken < perks.c.stock))
            .values(taken=perks.c.taken + 1)
        ).rowcount
        if moved != 1:
            raise _refuse(OutOfStock)
        code = code or _new_unique_code()
        entry_id = None
        if perk.points_cost > 0:
            try:
                posted = ledger.post(
                    member_id=member_id, chapter_id=chapter_id, kind=REDEEM, reason="perk",
                    points=-perk.points_cost, venue="partner", partner_id=perk.partner_id,
                    idempotency_key=f"perk:{code}", business_date=today,
                    source_ref=f"perk:{perk.id}", note=perk.title[:255], actor=actor)
            except ledger.InsufficientPoints:
                raise _refuse(NotEnoughPoints) from None
            entry_id = posted.entry.id
        voucher = Voucher(code=code, perk_id=perk.id, partner_id=perk.partner_id,
                          member_id=member_id, entry_id=entry_id, status=ISSUED,
                          valid_to=perk.valid_to)
        db.session.add(voucher)
        db.session.flush()
    db.session.expire(perk, ["taken"])
    return Taken(voucher, True)


def member_vouchers_query(member: Member) -> sa.Select:
    return (sa.select(Voucher).where(Voucher.member_id == member.id)
            .order_by(Voucher.id.desc()))


@dataclass(frozen=True)
class VoucherView:
    """A voucher with its perk and partner, for the member or the partner."""

    voucher: Voucher
    perk: Perk
    partner: Partner
    #: ``issued``, ``used``, ``cancelled`` or ``expired`` (issued but past its last day)
    state: str
    #: the holder's name masked (partner side only)
    holder: str | None = None

    @property
    def code(self) -> str:
        return self.voucher.code

    @property
    def display_code(self) -> str:
        return codes.display(self.voucher.code)


def _state(voucher: Voucher, today: date) -> str:
    if voucher.status == ISSUED and voucher.valid_to < today:
        return "expired"
    return voucher.status


def voucher_views(vouchers: list[Voucher], today: date | None = None,
                  holders: dict[int, str] | None = None) -> list[VoucherView]:
    today = today or dates.today()
    perk_ids = {v.perk_id for v in vouchers}
    perks = {p.id: p for p in db.session.execute(
        sa.select(Perk).where(Perk.id.in_(perk_ids))).scalars()} if perk_ids else {}
    partner_ids = {v.partner_id for v in vouchers}
    partners = {p.id: p for p in db.session.execute(
        sa.select(Partner).where(Partner.id.in_(partner_ids))).scalars()} if partner_ids else {}
    return [VoucherView(v, perks[v.perk_id], partners[v.partner_id], _state(v, today),
                        (holders or {}).get(v.member_id)) for v in vouchers]


def qr_svg(code: str) -> str:
    """The voucher code as a QR code, an SVG data URI rendered locally."""
    import segno

    return segno.make(code, error="m").svg_data_uri(scale=4, border=2)


# --- partners: checking and using vouchers ----------------------------------------------

def mask_name(name: str | None) -> str:
    """``陈思远`` → ``陈**`` (the members' masking), ``—`` when there is no name."""
    return members_service.mask_name((name or "").strip()) or "—"


def _holders(member_ids) -> dict[int, str]:
    ids = set(member_ids)
    if not ids:
        return {}
    with unscoped("partner: the masked name of a voucher's holder"):
        rows = db.session.execute(
            sa.select(Member.__table__.c.id, Member.__table__.c.name)
            .where(Member.__table__.c.id.in_(ids))).all()
    return {mid: mask_name(name) for mid, name in rows}


def partner_voucher(partner: Partner, code: str) -> Voucher:
    """The partner's voucher with this code; another partner's answers like an unknown one."""
    code = codes.normalise(code)
    if not codes.looks_valid(code):
        raise unknown_voucher()
    voucher = db.session.execute(
        sa.select(Voucher).where(Voucher.code == code, Voucher.partner_id == partner.id)
    ).scalar_one_or_none()
    if voucher is None:
        raise unknown_voucher()
    return voucher


def check_voucher(partner: Partner, code: str, today: date | None = None) -> VoucherView:
    """What a partner sees for a code: perk, status, validity, the holder's masked name."""
    voucher = partner_voucher(partner, code)
    return voucher_views([voucher], today, _holders([voucher.member_id]))[0]


def use_voucher(partner: Partner, code: str, *, actor: User,
                today: date | None = None) -> VoucherView:
    """Mark the voucher used, exactly once; a used or expired voucher is refused."""
    today = today or dates.today()
    voucher = partner_voucher(partner, code)
    if voucher.status != ISSUED:
        raise VoucherUsed(_l("This voucher has already been used."),
                          {"code": [_l("This voucher has already been used.")]})
    if voucher.valid_to < today:
        raise VoucherExpired(_l("This voucher has expired."),
                             {"code": [_l("This voucher has expired.")]})
    table = Voucher.__table__
    moved = db.session.execute(
        sa.update(table)
        .where(table.c.id == voucher.id, table.c.partner_id == partner.id,
               table.c.status == ISSUED)
        .values(status=USED, used_at=utcnow(), used_by_id=actor.id)
    ).rowcount
    if moved != 1:
        raise VoucherUsed(_l("This voucher has already been used."),
                          {"code": [_l("This voucher has already been used.")]})
    db.session.expire(voucher)
    return voucher_views([voucher], today, _holders([voucher.member_id]))[0]


def partner_used_query(partner: Partner) -> sa.Select:
    return (sa.select(Voucher)
            .where(Voucher.partner_id == partner.id, Voucher.status == USED)
            .order_by(Voucher.used_at.desc(), Voucher.id.desc()))


def partner_vouchers_views(partner: Partner, vouchers: list[Voucher]) -> list[VoucherView]:
    return voucher_views(vouchers, holders=_holders(v.member_id for v in vouchers))
