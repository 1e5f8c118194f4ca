"""The member portal: sign-up, the member's own profile, consent, transfers and referrals.

A portal user has the role ``member`` and no chapter of their own: their requests
run in the chapter of their member row (or, while they are an applicant, of their
owner record; :mod:`chapter.portal.scope`). On top of that scope every read here is
narrowed to the user's own member or owner row, so a member never sees anyone
else's data, and answers about other people (a mobile already in use, a membership
elsewhere) never say whose or where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.owners import service as owners
from chapter.owners.models import Owner
from chapter.recruitment import service as recruitment
from chapter.recruitment.models import PENDING, Application
from chapter.referrals import service as referrals
from chapter.referrals.models import Lead
from clubplatform import crypto, dates
from clubplatform.audit import service as audit
from clubplatform.auth import service as auth
from clubplatform.auth.models import MEMBER, User
from clubplatform.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, field_error
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region
from clubplatform.tenancy import current_chapter_id
from clubplatform.validators import InvalidValue, validate_id_number, validate_mobile
from hq.members import service as members
from hq.members.models import CHANNELS, Member, MemberConsent, MemberIdentity, Transfer

#: profile fields a member may correct themselves (name and ID number: the chapter)
PROFILE_FIELDS = ("mobile", "email", "address", "postal_code", "occupation", "hobbies")
#: of those, the ones kept only on the owner record (the chapter's CRM card)
OWNER_ONLY_FIELDS = ("address", "postal_code", "occupation")


# --- chapters one can join ---------------------------------------------------------

def open_chapters(*, exclude: int | None = None, today: date | None = None) -> list[tuple]:
    """Open chapters with their region and city, ordered by region, city and name.

    Returns ``(chapter, region, city)`` tuples (organisation data, not tenant data).
    """
    today = today or dates.today()
    stmt = (sa.select(Chapter, Region, Dealer.city)
            .join(Dealer, Chapter.dealer_id == Dealer.id)
            .join(Region, Dealer.region_id == Region.id)
            .where(Chapter.founded_on <= today,
                   sa.or_(Chapter.closed_on.is_(None), Chapter.closed_on > today))
            .order_by(Region.code, Dealer.city, Chapter.name))
    if exclude is not None:
        stmt = stmt.where(Chapter.id != exclude)
    return [tuple(row) for row in db.session.execute(stmt).all()]


def _open_chapter(chapter_id, field: str = "chapter_id") -> Chapter:
    today = dates.today()
    chapter = db.session.get(Chapter, chapter_id) if chapter_id else None
    if chapter is None or not chapter.is_open_on(today):
        raise field_error(field, _l("Choose an open chapter."))
    return chapter


# --- sign-up -----------------------------------------------------------------------

def check_portal_password(password: str) -> None:
    """At least 10 characters, with letters and digits."""
    auth.check_password_strength(password)
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        raise field_error("password", _l("Use letters and digits."))


def sign_up(*, chapter_id: int, name: str, mobile: str, password: str,
            id_number: str | None = None, ip: str | None = None) -> User:
    """An owner who is not yet a member signs up in the portal and applies online.

    Runs in the chosen chapter's scope (the edge opens it). Creates the owner — or
    links the chapter's owner with this mobile — a ``member``-role account whose
    username is the mobile, and an application with source ``online``. Refused with
    :class:`~hq.members.service.AlreadyMember` (naming no chapter) when the person
    is a member anywhere on the platform.
    """
    errors: dict[str, list] = {}
    chapter = None
    try:
        chapter = _open_chapter(chapter_id)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    name = (name or "").strip()[:128]
    if not name:
        errors["name"] = [_l("Enter your name.")]
    clean_mobile = None
    try:
        clean_mobile = validate_mobile(mobile)
    except InvalidValue as exc:
        errors["mobile"] = [exc.message]
    clean_id = None
    if (id_number or "").strip():
        try:
            clean_id = validate_id_number(id_number)
        except InvalidValue as exc:
            errors["id_number"] = [exc.message]
    try:
        check_portal_password(password)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    if current_chapter_id() != chapter.id:
        raise RuntimeError("sign_up runs in the chosen chapter's scope")

    id_digest = crypto.blind_index(clean_id) if clean_id else None
    if members.find_member_by_identity(mobile=clean_mobile, id_number_digest=id_digest):
        message = members.already_member_error().message
        raise members.AlreadyMember(message, {"mobile": [message]})
    if auth.find_user(clean_mobile) is not None:
        raise field_error("mobile", _l("An account with this mobile number already exists: "
                                       "log in instead."), Conflict)

    owner = db.session.execute(
        sa.select(Owner).where(Owner.mobile == clean_mobile)).scalar_one_or_none()
    if owner is not None and owner.user_id is not None:
        raise field_error("mobile", _l("An account with this mobile number already exists: "
                                       "log in instead."), Conflict)
    if id_digest is not None:
        other = db.session.execute(sa.select(Owner.id).where(
            Owner.id_number_digest == id_digest,
            Owner.id != (owner.id if owner is not None else -1)).limit(1)).first()
        mismatch = (owner is not None and owner.id_number_digest is not None
                    and owner.id_number_digest != id_digest)
        if other or mismatch:
            raise field_error("id_number", _l("This ID number does not match the chapter's "
                                              "records; please contact the chapter."), Conflict)

    try:
        with db.session.begin_nested():
            user = auth.create_user(username=clean_mobile, display_name=name, password=password,
                                    role=MEMBER, ip=ip)
    except sa.exc.IntegrityError as exc:  # the same mobile signed up at the same moment
        raise field_error("mobile", _l("An account with this mobile number already exists: "
                                       "log in instead."), Conflict) from exc
    if owner is None:
        try:
            with db.session.begin_nested():
                owner = owners.create_owner(chapter.id, {"name": name, "mobile": clean_mobile,
                                                         "id_number": clean_id})
        except sa.exc.IntegrityError as exc:
            raise field_error("mobile", _l("An account with this mobile number already exists: "
                                           "log in instead."), Conflict) from exc
    elif clean_id and owner.id_number_digest is None:
        owners.update_owner(owner, {"id_number": clean_id})
    owner.user_id = user.id
    db.session.flush()
    pending = db.session.execute(sa.select(Application).where(
        Application.owner_id == owner.id, Application.status == PENDING)).scalar_one_or_none()
    if pending is None:
        recruitment.submit_application(owner, source="online", actor=None, ip=ip)
    return user


def _link_portal_account(member: Member, **_kwargs) -> None:
    """When an applicant with a portal account is approved, the account becomes the member's."""
    if member.user_id is not None or member.owner_id is None:
        return
    user_id = db.session.execute(
        sa.select(Owner.user_id).where(Owner.id == member.owner_id)).scalar_one_or_none()
    if user_id is not None:
        member.user_id = user_id
        db.session.flush()


members.member_joined.connect(_link_portal_account)


# --- who is asking -----------------------------------------------------------------

def portal_member(user) -> Member | None:
    """The user's member row (in their chapter's scope), or None for an applicant."""
    if current_chapter_id() is None:
        return None
    return db.session.execute(
        sa.select(Member).where(Member.user_id == user.id)).scalar_one_or_none()


def portal_owner(user, member: Member | None = None) -> Owner | None:
    """The user's owner record in their current chapter (the CRM card), if any."""
    if current_chapter_id() is None:
        return None
    if member is not None and member.owner_id is not None:
        owner = db.session.execute(
            sa.select(Owner).where(Owner.id == member.owner_id)).scalar_one_or_none()
        if owner is not None:
            return owner
    return db.session.execute(
        sa.select(Owner).where(Owner.user_id == user.id).order_by(Owner.id.desc()).limit(1)
    ).scalar_one_or_none()


def require_member(user) -> Member:
    """The user's member row; an applicant (or anyone else) is refused."""
    member = portal_member(user)
    if member is None:
        raise PermissionDenied(_l("This is open to members once their application is approved."))
    return member


@dataclass
class PortalHome:
    """What the portal's home page shows."""

    member: Member | None
    owner: Owner | None
    application: Application | None
    chapter: Chapter | None


def home(user) -> PortalHome:
    """The member's card, or the applicant's latest application."""
    member = portal_member(user)
    owner = portal_owner(user, member)
    application = None
    if member is None and owner is not None:
        application = db.session.execute(
            sa.select(Application).where(Application.owner_id == owner.id)
            .order_by(Application.applied_on.desc(), Application.id.desc()).limit(1)
        ).scalar_one_or_none()
    cid = current_chapter_id()
    chapter = db.session.get(Chapter, cid) if cid is not None else None
    return PortalHome(member, owner, application, chapter)


# --- profile -----------------------------------------------------------------------

@dataclass
class Profile:
    """The personal data a member sees (the ID number only masked)."""

    name: str
    mobile: str | None
    id_number_masked: str | None
    gender: str | None
    birthday: date | None
    email: str | None
    address: str | None
    postal_code: str | None
    occupation: str | None
    hobbies: list
    has_owner_record: bool


def profile(user) -> Profile:
    """The user's personal data, from their member row and their owner record."""
    member = portal_member(user)
    owner = portal_owner(user, member)
    if member is None and owner is None:
        raise NotFound(_l("No profile yet."))
    main = member if member is not None else owner
    return Profile(
        name=main.name, mobile=main.mobile, id_number_masked=main.id_number_masked,
        gender=main.gender, birthday=main.birthday,
        email=main.email if main.email else (owner.email if owner else None),
        address=owner.address if owner else None,
        postal_code=owner.postal_code if owner else None,
        occupation=owner.occupation if owner else None,
        hobbies=list(main.hobbies or (owner.hobbies if owner else []) or []),
        has_owner_record=owner is not None,
    )


def _mobile_taken():
    return field_error("mobile", _l("This mobile number cannot be used for your account. "
                                    "If it is yours, please contact your chapter."), Conflict)


def update_profile(user, data: dict, *, ip: str | None = None) -> Profile:
    """Correct one's own e-mail, address, postal code, occupation, hobbies or mobile.

    Only the fields given change. A new mobile replaces the member's mobile
    identity in the same transaction (and becomes the login name); a mobile that
    another member, owner or account already uses is refused without saying whose.
    """
    member = portal_member(user)
    owner = portal_owner(user, member)
    if member is None and owner is None:
        raise NotFound(_l("No profile yet."))
    if (member is not None and member.anonymised_at) or (owner is not None and owner.anonymised_at):
        raise ValidationFailed(_l("Your personal data was removed on request."))
    data = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    if owner is None:
        data = {k: v for k, v in data.items() if k not in OWNER_ONLY_FIELDS}
    owner_data = {k: v for k, v in data.items() if k != "mobile"}
    values = owners.clean_owner(owner_data, chapter_id=current_chapter_id(), owner=owner,
                                partial=True)
    changed = sorted(values)
    if "mobile" in data:
        if _change_mobile(user, member, owner, data["mobile"]):
            changed.append("mobile")
    for key, value in values.items():
        if owner is not None:
            setattr(owner, key, value)
        if member is not None and key in ("email", "hobbies"):
            setattr(member, key, value)
    db.session.flush()
    if changed:
        audit.record("profile_updated", actor=user, ip=ip, chapter_id=current_chapter_id(),
                     target_type="member" if member is not None else "owner",
                     target_id=member.id if member is not None else owner.id,
                     details={"fields": changed})
    return profile(user)


def _change_mobile(user, member: Member | None, owner: Owner | None, value) -> bool:
    try:
        mobile = validate_mobile(value)
    except InvalidValue as exc:
        raise field_error("mobile", exc.message) from exc
    current = member.mobile if member is not None else owner.mobile
    if mobile == current:
        return False
    holder = members.find_member_by_identity(mobile=mobile, id_number_digest=None)
    if holder is not None and (member is None or holder != member.id):
        raise _mobile_taken()
    if owner is not None:
        other_owner = db.session.execute(sa.select(Owner.id).where(
            Owner.mobile == mobile, Owner.id != owner.id).limit(1)).first()
        if other_owner:
            raise _mobile_taken()
    other_user = auth.find_user(mobile)
    if other_user is not None and other_user.id != user.id:
        raise _mobile_taken()
    try:
        with db.session.begin_nested():
            if member is not None:
                db.session.execute(sa.delete(MemberIdentity).where(
                    MemberIdentity.member_id == member.id, MemberIdentity.kind == "mobile"))
                for kind, digest in members.identity_digests(mobile=mobile, id_number_digest=None):
                    db.session.add(MemberIdentity(kind=kind, digest=digest, member_id=member.id))
                member.mobile = mobile
            if owner is not None:
                owner.mobile = mobile
            user.username = mobile
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # taken at the same moment by someone else
        raise _mobile_taken() from exc
    return True


# --- consent -----------------------------------------------------------------------

def consents(member: Member) -> dict[str, bool]:
    """The member's current consent per channel."""
    return {ch: bool(getattr(member, f"consent_{ch}")) for ch in CHANNELS}


def set_consents(member: Member, wanted: dict, *, actor, ip: str | None = None) -> list[str]:
    """Give or withdraw marketing consent per channel; each change is kept in the history.

    Channels not mentioned keep their consent. Returns the channels that changed.
    """
    unknown = [ch for ch in wanted if ch not in CHANNELS]
    if unknown:
        raise field_error(unknown[0], _l("Unknown channel."))
    changed = []
    for channel in CHANNELS:
        if channel not in wanted:
            continue
        granted = bool(wanted[channel])
        if bool(getattr(member, f"consent_{channel}")) != granted:
            members.set_consent(member, channel, granted, source="portal", actor=actor)
            changed.append(channel)
    if changed:
        db.session.flush()
        audit.record("consent_changed", actor=actor, ip=ip, chapter_id=member.chapter_id,
                     target_type="member", target_id=member.id,
                     details={ch: bool(wanted[ch]) for ch in changed})
    return changed


def consent_history(member: Member, limit: int = 100) -> list[MemberConsent]:
    """The member's consent changes, newest first."""
    return list(db.session.execute(
        sa.select(MemberConsent).where(MemberConsent.member_id == member.id)
        .order_by(MemberConsent.created_at.desc(), MemberConsent.id.desc()).limit(limit)
    ).scalars())


# --- transfers ---------------------------------------------------------------------

def request_transfer(member: Member, to_chapter_id, reason: str, *, actor,
                     ip: str | None = None) -> Transfer:
    """Ask to move to another chapter, saying why (the receiving chapter decides)."""
    if not (reason or "").strip():
        raise field_error("reason", _l("Say why you are moving."))
    return members.request_transfer(member, to_chapter_id, reason, actor, ip=ip)


def member_transfers(member: Member) -> list[Transfer]:
    """The member's transfer requests, newest first."""
    return list(db.session.execute(
        sa.select(Transfer).where(Transfer.member_id == member.id)
        .order_by(Transfer.created_at.desc(), Transfer.id.desc())).scalars())


def get_member_transfer(member: Member, transfer_id: int) -> Transfer:
    """One of the member's own transfers; anyone else's is not found."""
    transfer = db.session.execute(sa.select(Transfer).where(
        Transfer.id == transfer_id, Transfer.member_id == member.id)).scalar_one_or_none()
    if transfer is None:
        raise NotFound(_l("No such transfer."))
    return transfer


def chapter_names(ids) -> dict[int, str]:
    """Names of chapters by id (for a member's transfers)."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Chapter.id, Chapter.name).where(Chapter.id.in_(ids))).all())


# --- referrals ---------------------------------------------------------------------

def refer_friend(member: Member, data: dict, *, actor, ip: str | None = None) -> Lead:
    """A member refers a friend: a lead of the member's chapter, the member as referrer."""
    data = {k: data.get(k) for k in ("friend_name", "friend_mobile", "model")}
    return referrals.record_lead(data, referrer=member, actor=actor, ip=ip)


def my_referrals_query(member: Member) -> sa.Select:
    """The member's own referrals, newest first."""
    return referrals.member_referrals_query(member.id)


def my_referral(member: Member, lead_id: int) -> Lead:
    """One of the member's own referrals; anyone else's lead is not found."""
    return referrals.get_member_referral(member.id, lead_id)
