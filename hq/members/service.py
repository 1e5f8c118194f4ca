"""The central member database: joining, statuses, the one-member-per-person rule.

Chapter code calls these functions inside its tenant scope; HQ code inside
``unscoped(reason)``. Membership facts per chapter live in status periods, so
"members of chapter X on date D" is one query over ``member_status_periods``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from blinker import signal
from flask_babel import lazy_gettext as _l

from clubplatform import crypto, dates
from clubplatform.audit import service as audit
from clubplatform.auth.models import CHAPTER_MANAGER, HQ_ADMIN, MEMBER, ApiToken, User
from clubplatform.db import utcnow
from clubplatform.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    field_error,
)
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region
from clubplatform.tabular import to_csv, to_xlsx
from clubplatform.tenancy import unscoped
from clubplatform.validators import InvalidValue, validate_id_number, validate_mobile
from hq.members.models import (
    ACTIVE,
    CHANNELS,
    LEFT,
    MEMBER_STATUSES,
    SUSPENDED,
    TIERS,
    TRANSFER_STATUSES,
    Member,
    MemberConsent,
    MemberIdentity,
    MemberStatusPeriod,
    Transfer,
)

#: sent after a member joined (kwargs: member, application_id); points award the join bonus
member_joined = signal("member-joined")


class AlreadyMember(Conflict):
    """The person is already a member of the club; says nothing about where."""

    code = "already_member"


def identity_digests(*, mobile: str | None, id_number_digest: str | None) -> list[tuple[str, str]]:
    """The (kind, digest) pairs that identify a person platform-wide."""
    pairs = []
    if mobile:
        pairs.append(("mobile", crypto.blind_index(f"mobile:{mobile}")))
    if id_number_digest:
        pairs.append(("id_number", id_number_digest))
    return pairs


def find_member_by_identity(*, mobile: str | None, id_number_digest: str | None) -> int | None:
    """The member id holding any of these identities, across all chapters (no data)."""
    pairs = identity_digests(mobile=mobile, id_number_digest=id_number_digest)
    if not pairs:
        return None
    cond = sa.or_(*[sa.and_(MemberIdentity.kind == k, MemberIdentity.digest == d)
                    for k, d in pairs])
    return db.session.execute(
        sa.select(MemberIdentity.member_id).where(cond).limit(1)).scalar_one_or_none()


def already_member_error() -> AlreadyMember:
    msg = _l("This person is already a member of the club. If they moved to this chapter, "
             "ask them to request a transfer.")
    return AlreadyMember(msg, {"owner_id": [msg]})


def create_member(
    *,
    chapter_id: int,
    owner,
    joined_on: date,
    source: str,
    actor=None,
    ip: str | None = None,
    consents: dict[str, bool] | None = None,
) -> Member:
    """Make the owner a member: the member row, its identities, its first status period.

    The identities' primary key keeps the rule "a person is a member at most once" in
    the database: of two approvals racing for the same person, the second fails here
    with :class:`AlreadyMember` and writes nothing (its savepoint is rolled back).
    """
    pairs = identity_digests(mobile=owner.mobile, id_number_digest=owner.id_number_digest)
    if not pairs:
        raise field_error("owner_id", _l("A member needs a mobile number or an ID number."))
    member = Member(
        chapter_id=chapter_id,
        member_number=f"T{owner.id}-{utcnow().timestamp():.6f}"[:16],
        owner_id=owner.id,
        name=owner.name,
        gender=owner.gender,
        mobile=owner.mobile,
        id_number_enc=owner.id_number_enc,
        id_number_digest=owner.id_number_digest,
        id_number_masked=owner.id_number_masked,
        birthday=owner.birthday,
        email=owner.email,
        hobbies=list(owner.hobbies or []),
        joined_on=joined_on,
        source=source,
        status=ACTIVE,
        status_since=joined_on,
        tier="silver",
        points_balance=0,
    )
    try:
        with db.session.begin_nested():
            db.session.add(member)
            db.session.flush()
            db.session.add_all([MemberIdentity(kind=k, digest=d, member_id=member.id)
                                for k, d in pairs])
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise already_member_error() from exc
    member.member_number = f"M{member.id:08d}"
    db.session.add(MemberStatusPeriod(chapter_id=chapter_id, member_id=member.id, status=ACTIVE,
                                      valid_from=joined_on, reason="joined"))
    for channel, granted in (consents or {}).items():
        set_consent(member, channel, granted, source="application", actor=actor)
    db.session.flush()
    audit.record("member_joined", actor=actor, ip=ip, chapter_id=chapter_id,
                 target_type="member", target_id=member.id,
                 details={"member_number": member.member_number, "source": source})
    return member


def get_member(member_id: int) -> Member:
    """A member of the scope's chapter (HQ: any, inside ``unscoped``)."""
    member = db.session.execute(
        sa.select(Member).where(Member.id == member_id)).scalar_one_or_none()
    if member is None:
        raise NotFound(_l("No such member."))
    return member


# --- statuses ----------------------------------------------------------------------

def _open_period(member: Member) -> MemberStatusPeriod | None:
    return db.session.execute(
        sa.select(MemberStatusPeriod).where(
            MemberStatusPeriod.member_id == member.id,
            MemberStatusPeriod.chapter_id == member.chapter_id,
            MemberStatusPeriod.valid_to.is_(None))
    ).scalar_one_or_none()


def change_status(member: Member, new_status: str, *, on: date | None = None,
                  reason: str | None = None, actor=None, ip: str | None = None) -> Member:
    """Suspend, reactivate or end a membership from a business date, keeping history.

    The member row is locked first, so two changes at the same moment are applied
    one after the other (the second sees the first's status and dates).
    """
    on = on or dates.today()
    if member.id is not None:
        db.session.execute(
            sa.select(Member).where(Member.id == member.id)
            .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
    allowed = {ACTIVE: (SUSPENDED, LEFT), SUSPENDED: (ACTIVE, LEFT), LEFT: (ACTIVE,)}
    if new_status not in allowed.get(member.status, ()):
        labels = {ACTIVE: _l("active"), SUSPENDED: _l("suspended"), LEFT: _l("left")}
        raise field_error("status", _l("A %(old)s membership cannot become %(new)s.",
                                       old=labels.get(member.status, member.status),
                                       new=labels.get(new_status, new_status or "—")))
    if on < member.status_since:
        raise field_error("on", _l("The date is before the last status change (%(d)s).",
                                   d=member.status_since.isoformat()))
    if on > dates.today():
        raise field_error("on", _l("The date is in the future."))
    if new_status == LEFT and not (reason or "").strip():
        raise field_error("reason", _l("Give the reason for leaving."))
    period = _open_period(member)
    if period is not None:
        if period.valid_from >= on:
            # a change on the period's first day replaces it
            db.session.delete(period)
        else:
            period.valid_to = on
            period.end_reason = {SUSPENDED: "suspended", LEFT: "left",
                                 ACTIVE: "reactivated"}[new_status]
        db.session.flush()
    if new_status in (ACTIVE, SUSPENDED):
        why = {SUSPENDED: "suspended", ACTIVE: "reactivated" if member.status else "joined"}
        db.session.add(MemberStatusPeriod(chapter_id=member.chapter_id, member_id=member.id,
                                          status=new_status, valid_from=on,
                                          reason=why[new_status]))
    old = member.status
    member.status, member.status_since = new_status, on
    db.session.flush()
    audit.record("member_status_changed", actor=actor, ip=ip, chapter_id=member.chapter_id,
                 target_type="member", target_id=member.id,
                 details={"old": old, "new": new_status, "on": on.isoformat(),
                          "reason": reason or ""})
    return member


def members_as_of(chapter_id: int, day: date) -> sa.Select:
    """Ids of the chapter's members on a business date (suspended members count)."""
    return sa.select(MemberStatusPeriod.member_id).where(
        MemberStatusPeriod.chapter_id == chapter_id,
        MemberStatusPeriod.valid_from <= day,
        sa.or_(MemberStatusPeriod.valid_to.is_(None), MemberStatusPeriod.valid_to > day),
    )


# --- consent -----------------------------------------------------------------------

def set_consent(member: Member, channel: str, granted: bool, *, source: str,
                actor=None) -> None:
    """Record consent to marketing messages on one channel (history is kept)."""
    from hq.members.models import CHANNELS

    if channel not in CHANNELS:
        raise field_error("channel", _l("Unknown channel."))
    attr = f"consent_{channel}"
    if getattr(member, attr) == granted and member.id is not None and _has_consent_row(member,
                                                                                        channel):
        return
    setattr(member, attr, granted)
    db.session.add(MemberConsent(member_id=member.id, channel=channel, granted=granted,
                                 source=source, recorded_by_id=getattr(actor, "id", None)))


def _has_consent_row(member: Member, channel: str) -> bool:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(MemberConsent)
        .where(MemberConsent.member_id == member.id, MemberConsent.channel == channel)
    ).scalar_one() > 0


def require_text(value: str | None, field: str, message) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(message, {field: [message]})
    return text


# --- transfers (转会) ----------------------------------------------------------------
#
# A member moves to another chapter: the member (portal) or a chapter asks, the
# receiving chapter's manager decides. The Transfer table is not tenant-scoped: the
# functions below filter it on from/to chapter for chapter users. Owner records are
# the chapter wing's (hq never imports chapter), so the approval and the
# anonymisation ask the wing through the signals below.

REQUESTED, APPROVED, REJECTED, CANCELLED = TRANSFER_STATUSES
TRANSFER_DIRECTIONS = ("in", "out")
#: the name an anonymised member and their owner records keep (the rest is cleared)
ANONYMISED_NAME = "已注销会员"
CONSENT_SOURCES = ("portal", "staff", "application", "import")

#: sent inside a transfer approval (unscoped, kwargs: chapter_id); the chapter wing
#: answers with the id of the member's owner record in that chapter, found by mobile
#: or ID digest or created from the member's personal data
owner_record_for_transfer = signal("member-owner-record-for-transfer")
#: sent inside an anonymisation (unscoped), before the member's fields are cleared; the
#: chapter wing anonymises the person's owner records in every chapter and answers with
#: ``[(chapter_id, owner_id), ...]``
member_anonymising = signal("member-anonymising")
#: sent after an approved transfer (kwargs: transfer); points, tiers … may react
member_transferred = signal("member-transferred")


def _ask_wing(sig, sender, **kwargs) -> list:
    results = sig.send(sender, **kwargs)
    if not results:
        raise RuntimeError(f"nothing answers {sig.name!r}: the chapter wing is not loaded")
    return [value for _receiver, value in results]


def _chapter_open(chapter_id, on: date) -> Chapter | None:
    if not isinstance(chapter_id, int) or isinstance(chapter_id, bool):
        return None
    chapter = db.session.get(Chapter, chapter_id)
    if chapter is None or not chapter.is_open_on(on):
        return None
    return chapter


def transfer_destinations(exclude_chapter_id: int | None = None) -> list[tuple[int, str]]:
    """Open chapters a member can move to: ``(id, "name · city")``, by name."""
    today = dates.today()
    stmt = (sa.select(Chapter.id, Chapter.name, Dealer.city)
            .join(Dealer, Dealer.id == Chapter.dealer_id)
            .where(Chapter.founded_on <= today,
                   sa.or_(Chapter.closed_on.is_(None), Chapter.closed_on > today))
            .order_by(Chapter.name, Chapter.id))
    if exclude_chapter_id is not None:
        stmt = stmt.where(Chapter.id != exclude_chapter_id)
    return [(cid, f"{name} · {city}" if city else name)
            for cid, name, city in db.session.execute(stmt).all()]


def open_transfer_of(member: Member) -> Transfer | None:
    """The member's transfer request waiting for a decision, if any."""
    return db.session.execute(
        sa.select(Transfer).where(Transfer.member_id == member.id,
                                  Transfer.status == REQUESTED)).scalar_one_or_none()


def request_transfer(member: Member, to_chapter_id: int, reason: str | None, actor, *,
                     ip: str | None = None) -> Transfer:
    """Ask for a member's move to another chapter; the receiving chapter decides.

    Called for the member in the portal, by the member's chapter, or (through
    :func:`request_transfer_by_identity`) by the receiving chapter. One open request
    per member, kept by a partial unique index under concurrency.
    """
    if member.anonymised_at is not None:
        raise field_error("member_id", _l("This member's personal data was removed on request."))
    if member.status == LEFT:
        raise field_error("member_id", _l("Only a current member can transfer."))
    to = _chapter_open(to_chapter_id, dates.today())
    if to is None:
        raise field_error("to_chapter_id", _l("Choose an open chapter."))
    if to.id == member.chapter_id:
        raise field_error("to_chapter_id", _l("The member already belongs to this chapter."))
    busy = _l("This member already has a transfer request waiting for a decision.")
    if open_transfer_of(member) is not None:
        raise Conflict(busy, {"member_id": [busy]})
    transfer = Transfer(member_id=member.id, from_chapter_id=member.chapter_id,
                        to_chapter_id=to.id, status=REQUESTED,
                        reason=(reason or "").strip()[:255] or None,
                        requested_by_id=getattr(actor, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(transfer)
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent request got there first
        raise Conflict(busy, {"member_id": [busy]}) from exc
    for chapter_id in (transfer.from_chapter_id, transfer.to_chapter_id):
        audit.record("transfer_requested", actor=actor, ip=ip, chapter_id=chapter_id,
                     target_type="transfer", target_id=transfer.id,
                     details={"member_id": member.id, "from": transfer.from_chapter_id,
                              "to": transfer.to_chapter_id})
    return transfer


def request_transfer_by_identity(to_chapter_id: int, *, mobile: str | None = None,
                                 id_number: str | None = None, reason: str | None = None,
                                 actor, ip: str | None = None) -> None:
    """A chapter asks for a person who is a member elsewhere, by mobile or ID number.

    Answers the same way (``None``) whether or not such a member exists, so that
    nothing about other chapters is revealed; if one does, a transfer request to this
    chapter is created (its manager then decides). When both are given, both must
    belong to the same member. A person who is already a member of this chapter is
    said so (that is the chapter's own data).
    """
    mobile, id_number = (mobile or "").strip() or None, (id_number or "").strip() or None
    if not mobile and not id_number:
        msg = _l("Enter the person's mobile number or ID number.")
        raise ValidationFailed(msg, {"mobile": [msg]})
    errors: dict[str, list] = {}
    if mobile:
        try:
            mobile = validate_mobile(mobile)
        except InvalidValue as exc:
            errors["mobile"] = [exc.message]
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except InvalidValue as exc:
            errors["id_number"] = [exc.message]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors)
    found = set()
    for kind, digest in identity_digests(
            mobile=mobile, id_number_digest=crypto.blind_index(id_number) if id_number else None):
        found.add(db.session.execute(sa.select(MemberIdentity.member_id).where(
            MemberIdentity.kind == kind, MemberIdentity.digest == digest)).scalar_one_or_none())
    if len(found) != 1 or None in found:
        return None
    with unscoped("transfer request by identity: the person's member row, not shown"):
        member = db.session.execute(
            sa.select(Member).where(Member.id == found.pop())).scalar_one()
        if member.chapter_id == to_chapter_id:
            msg = _l("This person is already a member of your chapter.")
            raise ValidationFailed(msg, {"mobile" if mobile else "id_number": [msg]})
        try:
            with db.session.begin_nested():
                request_transfer(member, to_chapter_id, reason, actor, ip=ip)
        except DomainError:
            # left, anonymised or already asked for: the same answer as "no such member"
            return None
    return None


def transfer_query(*, chapter_id: int | None = None, direction: str | None = None,
                   status: str | None = None, member_id: int | None = None) -> sa.Select:
    """Transfers, newest first; for a chapter only those it sends or receives."""
    stmt = sa.select(Transfer).order_by(Transfer.created_at.desc(), Transfer.id.desc())
    if chapter_id is not None:
        if direction == "in":
            stmt = stmt.where(Transfer.to_chapter_id == chapter_id)
        elif direction == "out":
            stmt = stmt.where(Transfer.from_chapter_id == chapter_id)
        else:
            stmt = stmt.where(sa.or_(Transfer.from_chapter_id == chapter_id,
                                     Transfer.to_chapter_id == chapter_id))
    if status:
        if status not in TRANSFER_STATUSES:
            raise field_error("status", _l("Unknown status."))
        stmt = stmt.where(Transfer.status == status)
    if member_id is not None:
        stmt = stmt.where(Transfer.member_id == member_id)
    return stmt


def get_transfer(transfer_id: int, *, chapter_id: int | None = None) -> Transfer:
    """A transfer; for a chapter (``chapter_id``) only one it sends or receives."""
    stmt = transfer_query(chapter_id=chapter_id).where(Transfer.id == transfer_id)
    transfer = db.session.execute(stmt).scalar_one_or_none()
    if transfer is None:
        raise NotFound(_l("No such transfer."))
    return transfer


def mask_name(name: str | None) -> str:
    """``张三丰`` → ``张**``: enough to recognise the person in front of you."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_mobile(mobile: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if not mobile:
        return None
    return f"{mobile[:3]}****{mobile[-4:]}"


@dataclass
class TransferView:
    """What one viewer may see of a transfer.

    The receiving chapter sees nothing of the other chapter before it approves: no
    sending chapter, a masked name and mobile, no member number. HQ and the sending
    chapter see everything.
    """

    transfer: Transfer
    #: ``in``/``out`` for a chapter viewer, None for HQ
    direction: str | None
    member_name: str
    member_number: str | None
    mobile_masked: str | None
    #: None while hidden from the viewer
    from_chapter_name: str | None
    to_chapter_name: str
    requested_by_name: str
    requested_by_member: bool
    decided_by_name: str
    disclosed: bool


def transfer_views(transfers, *, chapter_id: int | None = None) -> list[TransferView]:
    """Display rows for transfers (one query each for members, chapters and users)."""
    transfers = list(transfers)
    if not transfers:
        return []
    with unscoped("transfer listing: the moving member is in one of the two chapters"):
        member_ids = {t.member_id for t in transfers}
        people = {m.id: m for m in db.session.execute(
            sa.select(Member).where(Member.id.in_(member_ids))).scalars()}
    chapter_ids = {t.from_chapter_id for t in transfers} | {t.to_chapter_id for t in transfers}
    names = dict(db.session.execute(
        sa.select(Chapter.id, Chapter.name).where(Chapter.id.in_(chapter_ids))).all())
    user_ids = {u for t in transfers for u in (t.requested_by_id, t.decided_by_id) if u}
    users = {u.id: u for u in db.session.execute(
        sa.select(User).where(User.id.in_(user_ids))).scalars()} if user_ids else {}
    rows = []
    for t in transfers:
        member = people[t.member_id]
        direction = None
        if chapter_id is not None:
            direction = "out" if t.from_chapter_id == chapter_id else "in"
        disclosed = direction != "in" or t.status == APPROVED
        requester = users.get(t.requested_by_id)
        by_member = requester is not None and requester.role == MEMBER
        if requester is None:
            requested_by = ""
        elif by_member:
            requested_by = str(_l("The member"))
        elif disclosed or requester.chapter_id == chapter_id:
            requested_by = requester.display_name
        else:
            requested_by = str(_l("The member's chapter"))
        decider = users.get(t.decided_by_id)
        name = member.name if member.anonymised_at is None else str(_l("Anonymised member"))
        rows.append(TransferView(
            transfer=t, direction=direction,
            member_name=name if disclosed else mask_name(name),
            member_number=member.member_number if disclosed else None,
            mobile_masked=mask_mobile(member.mobile),
            from_chapter_name=names.get(t.from_chapter_id) if disclosed else None,
            to_chapter_name=names.get(t.to_chapter_id, ""),
            requested_by_name=requested_by, requested_by_member=by_member,
            decided_by_name=decider.display_name if decider else "", disclosed=disclosed))
    return rows


def _may_decide(transfer: Transfer, actor) -> bool:
    role = getattr(actor, "role", None)
    return role == HQ_ADMIN or (role == CHAPTER_MANAGER
                                and actor.chapter_id == transfer.to_chapter_id)


def can_decide_transfer(transfer: Transfer, actor) -> bool:
    """The receiving chapter's manager (or an HQ admin) approves or rejects an open request."""
    return transfer.status == REQUESTED and _may_decide(transfer, actor)


def can_cancel_transfer(transfer: Transfer, actor) -> bool:
    """Whoever asked, the member, the sending chapter's manager or an HQ admin withdraws."""
    return transfer.status == REQUESTED and _may_cancel(transfer, actor)


def _may_cancel(transfer: Transfer, actor) -> bool:
    if actor is None:
        return False
    role = getattr(actor, "role", None)
    if role == HQ_ADMIN or transfer.requested_by_id == actor.id:
        return True
    if role == CHAPTER_MANAGER and actor.chapter_id == transfer.from_chapter_id:
        return True
    if role == MEMBER:
        with unscoped("is the portal user the moving member"):
            return db.session.execute(sa.select(Member.id).where(
                Member.id == transfer.member_id, Member.user_id == actor.id)).first() is not None
    return False


def _locked(transfer: Transfer) -> Transfer:
    locked = db.session.execute(
        sa.select(Transfer).where(Transfer.id == transfer.id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one()
    if locked.status != REQUESTED:
        raise field_error("status", _l("This transfer was already decided."), Conflict)
    return locked


def approve_transfer(transfer: Transfer, actor, *, ip: str | None = None) -> Transfer:
    """The receiving chapter accepts: the member moves from today, as one unit of work.

    The sending chapter's open status period ends today (``transfer_out``) and one
    with the same status opens in the receiving chapter (``transfer_in``); the member
    row's chapter changes, its owner record there is found or created, and both
    chapters' audit logs record it. Points, tier and history are on the member row
    and move with it; status periods are chapter facts that never move, so both
    chapters' figures for past dates stay as they were.
    """
    if not _may_decide(transfer, actor):
        raise PermissionDenied(_l("Only the receiving chapter's manager decides a transfer."))
    with unscoped("transfer approval"):
        transfer = _locked(transfer)
        member = db.session.execute(
            sa.select(Member).where(Member.id == transfer.member_id).with_for_update()
            .execution_options(populate_existing=True)).scalar_one()
        on = dates.today()
        gone = _l("The person is no longer a member of the sending chapter.")
        if (member.chapter_id != transfer.from_chapter_id or member.status == LEFT
                or member.anonymised_at is not None):
            raise field_error("member_id", gone, Conflict)
        if _chapter_open(transfer.to_chapter_id, on) is None:
            raise field_error("to_chapter_id", _l("The receiving chapter is closed."))
        period = _open_period(member)
        if period is None:
            raise field_error("member_id", gone, Conflict)
        status = period.status
        if period.valid_from >= on:
            db.session.delete(period)  # joined today: no day in the old chapter to keep
        else:
            period.valid_to, period.end_reason = on, "transfer_out"
        db.session.flush()
        from_owner_id = member.owner_id
        member.chapter_id = transfer.to_chapter_id
        member.status_since = max(member.status_since, on)
        db.session.add(MemberStatusPeriod(chapter_id=transfer.to_chapter_id,
                                          member_id=member.id, status=status, valid_from=on,
                                          reason="transfer_in"))
        db.session.flush()
        member.owner_id = _ask_wing(owner_record_for_transfer, member,
                                    chapter_id=transfer.to_chapter_id)[0]
        transfer.status = APPROVED
        transfer.effective_on = on
        transfer.decided_at = utcnow()
        transfer.decided_by_id = actor.id
        db.session.flush()
        for chapter_id in (transfer.from_chapter_id, transfer.to_chapter_id):
            audit.record("transfer_approved", actor=actor, ip=ip, chapter_id=chapter_id,
                         target_type="transfer", target_id=transfer.id,
                         details={"member_id": member.id, "from": transfer.from_chapter_id,
                                  "to": transfer.to_chapter_id, "on": on.isoformat(),
                                  "status": status, "from_owner_id": from_owner_id,
                                  "to_owner_id": member.owner_id})
    member_transferred.send(member, transfer=transfer)
    return transfer


def reject_transfer(transfer: Transfer, note: str | None, actor, *,
                    ip: str | None = None) -> Transfer:
    """The receiving chapter declines, with a reason (kept with the transfer)."""
    if not _may_decide(transfer, actor):
        raise PermissionDenied(_l("Only the receiving chapter's manager decides a transfer."))
    note = require_text(note, "note", _l("Give the reason for the rejection."))
    transfer = _locked(transfer)
    transfer.status = REJECTED
    transfer.decision_note = note[:255]
    transfer.decided_at = utcnow()
    transfer.decided_by_id = actor.id
    db.session.flush()
    for chapter_id in (transfer.from_chapter_id, transfer.to_chapter_id):
        audit.record("transfer_rejected", actor=actor, ip=ip, chapter_id=chapter_id,
                     target_type="transfer", target_id=transfer.id,
                     details={"member_id": transfer.member_id, "note": note[:255]})
    return transfer


def cancel_transfer(transfer: Transfer, actor, *, ip: str | None = None) -> Transfer:
    """Withdraw a request before it is decided (the requester, member or sending chapter)."""
    if not _may_cancel(transfer, actor):
        raise PermissionDenied(_l("You may not withdraw this transfer request."))
    transfer = _locked(transfer)
    transfer.status = CANCELLED
    transfer.decided_at = utcnow()
    transfer.decided_by_id = getattr(actor, "id", None)
    db.session.flush()
    for chapter_id in (transfer.from_chapter_id, transfer.to_chapter_id):
        audit.record("transfer_cancelled", actor=actor, ip=ip, chapter_id=chapter_id,
                     target_type="transfer", target_id=transfer.id,
                     details={"member_id": transfer.member_id})
    return transfer


def member_transfers(member_id: int) -> list[Transfer]:
    """A member's transfers, newest first (the portal shows its member's own)."""
    return list(db.session.execute(transfer_query(member_id=member_id)).scalars())


# --- consent -----------------------------------------------------------------------

def update_consents(member: Member, changes: dict[str, bool], *, source: str, actor=None,
                    ip: str | None = None) -> dict[str, bool]:
    """Set consent to marketing messages on some channels; returns what changed.

    Each change is a :class:`MemberConsent` row (time, channel, source, who) and one
    ``consent_changed`` audit entry.
    """
    if member.anonymised_at is not None:
        raise field_error("member_id", _l("This member's personal data was removed on request."))
    if source not in CONSENT_SOURCES:
        raise field_error("source", _l("Unknown source."))
    unknown = [c for c in changes if c not in CHANNELS]
    if unknown:
        raise field_error(unknown[0], _l("Unknown channel."))
    changed = {}
    for channel, granted in changes.items():
        granted = bool(granted)
        if getattr(member, f"consent_{channel}") != granted:
            changed[channel] = granted
        set_consent(member, channel, granted, source=source, actor=actor)
    db.session.flush()
    if changed:
        audit.record("consent_changed", actor=actor, ip=ip, chapter_id=member.chapter_id,
                     target_type="member", target_id=member.id,
                     details={"changes": changed, "source": source})
    return changed


def consent_history(member_id: int, limit: int = 200) -> list[MemberConsent]:
    """Consent changes of a member, newest first."""
    return list(db.session.execute(
        sa.select(MemberConsent).where(MemberConsent.member_id == member_id)
        .order_by(MemberConsent.created_at.desc(), MemberConsent.id.desc()).limit(limit)
    ).scalars())


# --- personal data -----------------------------------------------------------------

def can_reveal_member(actor, member: Member) -> bool:
    role = getattr(actor, "role", None)
    return role == HQ_ADMIN or (role == CHAPTER_MANAGER and actor.chapter_id == member.chapter_id)


def reveal_member_id_number(member: Member, *, actor, ip: str | None = None) -> str | None:
    """The unmasked ID number, for HQ admins (and the member's chapter manager); audited."""
    if not can_reveal_member(actor, member):
        raise PermissionDenied(_l("Your role may not see full ID numbers."))
    audit.record("reveal", actor=actor, ip=ip, chapter_id=member.chapter_id,
                 target_type="member", target_id=member.id, details={"field": "id_number"})
    return crypto.decrypt(member.id_number_enc)


def anonymise_member(member: Member, actor, ip: str | None = None, *,
                     source: str = "staff") -> Member:
    """Remove a member's personal data on request, keeping ledger and statistics whole.

    The membership ends today (past dates keep counting it); open transfer requests
    are withdrawn; the person's owner records in every chapter are anonymised by the
    chapter wing; the member row keeps its number, dates, status history, tier and
    points but loses name, mobile, ID number, birthday, e-mail and hobbies; its
    identities go (the person may join again later as someone new); consents are
    withdrawn and the portal account is closed. Audited.
    """
    if member.anonymised_at is not None:
        raise field_error("member_id", _l("This member was already anonymised."), Conflict)
    if source not in CONSENT_SOURCES:
        raise field_error("source", _l("Unknown source."))
    with unscoped("anonymisation: the person's records in every chapter"):
        today = dates.today()
        for transfer in db.session.execute(
                transfer_query(member_id=member.id, status=REQUESTED)).scalars():
            transfer.status, transfer.decided_at = CANCELLED, utcnow()
            transfer.decided_by_id = getattr(actor, "id", None)
            transfer.decision_note = "anonymised on request"
        if member.status != LEFT:
            change_status(member, LEFT, on=max(today, member.status_since),
                          reason="anonymised on request", actor=actor, ip=ip)
        owners = [pair for result in _ask_wing(member_anonymising, member,
                                               placeholder=ANONYMISED_NAME)
                  for pair in (result or [])]
        db.session.execute(sa.delete(MemberIdentity).where(MemberIdentity.member_id == member.id)
                           .execution_options(synchronize_session=False))
        for channel in CHANNELS:
            if getattr(member, f"consent_{channel}"):
                set_consent(member, channel, False, source=source, actor=actor)
        member.name = ANONYMISED_NAME
        member.gender = None
        member.mobile = None
        member.id_number_enc = member.id_number_digest = member.id_number_masked = None
        member.birthday = None
        member.email = None
        member.hobbies = []
        member.anonymised_at = utcnow()
        user_closed = _close_member_account(member.user_id, actor=actor, ip=ip)
        db.session.flush()
        audit.record("member_anonymised", actor=actor, ip=ip, chapter_id=member.chapter_id,
                     target_type="member", target_id=member.id,
                     details={"member_number": member.member_number,
                              "owners": [list(p) for p in owners],
                              "user_closed": user_closed})
    return member


def _close_member_account(user_id: int | None, *, actor, ip: str | None) -> bool:
    """Deactivate the portal account, end its sessions and tokens, drop its personal data."""
    if user_id is None:
        return False
    user = db.session.get(User, user_id)
    if user is None or user.role != MEMBER:
        return False
    user.is_active_user = False
    user.session_version += 1
    user.username = f"removed-{user.id}"
    user.display_name = ANONYMISED_NAME
    user.email = None
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id,
                                                 ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    audit.record("user_deactivated", actor=actor, ip=ip, target_type="user", target_id=user.id,
                 details={"reason": "member anonymised"})
    return True


# --- HQ: the central member database -------------------------------------------------

_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
_MEMBER_NUMBER = re.compile(r"^M\d{1,12}$")


def member_search_predicate(q: str):
    """Exact mobile, ID number (by its blind index), member number; else a name prefix."""
    text = q.strip()
    upper = text.upper().replace(" ", "")
    if re.fullmatch(r"1\d{10}", upper):
        return Member.mobile == upper
    if _ID_NUMBER.match(upper):
        return Member.id_number_digest == crypto.blind_index(upper)
    if _MEMBER_NUMBER.match(upper):
        return Member.member_number == f"M{int(upper[1:]):08d}"
    return Member.name.startswith(text, autoescape=True)


def member_search_query(q: str | None = None, *, chapter_id: int | None = None,
                        region_id: int | None = None, status: str | None = None,
                        tier: str | None = None) -> sa.Select:
    """Members across chapters (run inside ``unscoped``), by member number."""
    stmt = sa.select(Member).order_by(Member.member_number)
    if q and q.strip():
        stmt = stmt.where(member_search_predicate(q))
    if chapter_id:
        stmt = stmt.where(Member.chapter_id == chapter_id)
    if region_id:
        stmt = stmt.where(Member.chapter_id.in_(
            sa.select(Chapter.id).join(Dealer, Dealer.id == Chapter.dealer_id)
            .where(Dealer.region_id == region_id)))
    if status:
        if status not in MEMBER_STATUSES:
            raise field_error("status", _l("Unknown status."))
        stmt = stmt.where(Member.status == status)
    if tier:
        if tier not in TIERS:
            raise field_error("tier", _l("Unknown tier."))
        stmt = stmt.where(Member.tier == tier)
    return stmt


def chapter_labels(chapter_ids) -> dict[int, tuple[str, str]]:
    """``{chapter_id: (chapter name, region code)}``."""
    ids = {c for c in chapter_ids if c is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Chapter.id, Chapter.name, Region.code)
        .join(Dealer, Dealer.id == Chapter.dealer_id).join(Region, Region.id == Dealer.region_id)
        .where(Chapter.id.in_(ids))).all()
    return {cid: (name, code) for cid, name, code in rows}


@dataclass
class MemberHistory:
    """A member's chapter history for HQ: periods in every chapter, transfers, consents."""

    member: Member
    periods: list[MemberStatusPeriod]
    transfers: list[TransferView]
    consents: list[MemberConsent]
    chapters: dict[int, tuple[str, str]]


def member_history(member: Member) -> MemberHistory:
    """Everything HQ shows about one member (run inside ``unscoped``)."""
    periods = list(db.session.execute(
        sa.select(MemberStatusPeriod).where(MemberStatusPeriod.member_id == member.id)
        .order_by(MemberStatusPeriod.valid_from.desc(), MemberStatusPeriod.id.desc())
    ).scalars())
    transfers = member_transfers(member.id)
    chapter_ids = ({p.chapter_id for p in periods} | {member.chapter_id}
                   | {t.from_chapter_id for t in transfers} | {t.to_chapter_id for t in transfers})
    return MemberHistory(member=member, periods=periods, transfers=transfer_views(transfers),
                         consents=consent_history(member.id),
                         chapters=chapter_labels(chapter_ids))


# --- member status report ------------------------------------------------------------

#: application sources, in the recruitment order (members keep the source they came by)
REPORT_SOURCES = ("showroom", "service_visit", "event", "referral", "online", "import")
REPORT_GROUPS = ("chapter", "region")
EXPORT_FORMATS = ("csv", "xlsx")
STATUS_LABELS = {ACTIVE: _l("Active"), SUSPENDED: _l("Suspended"), LEFT: _l("Left")}
TIER_LABELS = {"silver": _l("Silver"), "gold": _l("Gold"), "platinum": _l("Platinum"),
               "diamond": _l("Diamond")}
PERIOD_REASON_LABELS = {
    "joined": _l("Joined"), "suspended": _l("Suspended"), "reactivated": _l("Reactivated"),
    "left": _l("Left"), "transfer_in": _l("Transferred in"),
    "transfer_out": _l("Transferred out"),
}
SOURCE_LABELS = {"showroom": _l("Showroom"), "service_visit": _l("Service visit"),
                 "event": _l("Event"), "referral": _l("Referral"), "online": _l("Online"),
                 "import": _l("Import"), "other": _l("Other")}
_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(text: str | None) -> date:
    """``YYYY-MM`` → its first day; empty → this month. Future months are refused."""
    today = dates.today()
    if not text or not text.strip():
        return today.replace(day=1)
    m = _MONTH_TEXT.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1900:
        raise field_error("month", _l("Enter a month as YYYY-MM."))
    first = date(int(m.group(1)), int(m.group(2)), 1)
    if first > today:
        raise field_error("month", _l("The month is in the future."))
    return first


@dataclass
class StatusRow:
    """One line of the member status report: a chapter, a region or the total."""

    key: int | None
    code: str
    name: str
    region_code: str
    by_status: dict[str, int]
    by_tier: dict[str, int]
    by_source: dict[str, int]
    new: int = 0
    left: int = 0
    transfers_in: int = 0
    transfers_out: int = 0

    @classmethod
    def empty(cls, key, code="", name="", region_code="") -> StatusRow:
        return cls(key=key, code=code, name=name, region_code=region_code,
                   by_status={s: 0 for s in (ACTIVE, SUSPENDED)},
                   by_tier={t: 0 for t in TIERS},
                   by_source={s: 0 for s in (*REPORT_SOURCES, "other")})

    @property
    def members(self) -> int:
        return sum(self.by_status.values())

    def add(self, other: StatusRow) -> None:
        for mine, theirs in ((self.by_status, other.by_status), (self.by_tier, other.by_tier),
                             (self.by_source, other.by_source)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        self.new += other.new
        self.left += other.left
        self.transfers_in += other.transfers_in
        self.transfers_out += other.transfers_out


@dataclass
class StatusReport:
    """Member status per chapter or region for a month, as of its last day (or today)."""

    month: date
    month_end: date
    as_of: date
    group: str
    rows: list[StatusRow]
    total: StatusRow
    chapter_id: int | None = None
    region_id: int | None = None


def member_status_report(month: date, *, group: str = "chapter", chapter_id: int | None = None,
                         region_id: int | None = None) -> StatusReport:
    """Counts by status, tier and source as of the month's end, and the month's movements.

    Computed in SQL (GROUP BY) over Core tables with explicit chapter predicates, so
    it reads the same in a chapter's scope, for HQ and in jobs: members are those
    with a status period in the chapter on the date (a member who has since moved
    away still counts for the past), new members joined in the chapter in the month,
    left ones ended their membership there, transfers took effect in the month.
    """
    if group not in REPORT_GROUPS:
        raise field_error("group", _l("Group by chapter or region."))
    first = month.replace(day=1)
    last = dates.month_end(first)
    as_of = min(last, dates.today())
    p, m, t = MemberStatusPeriod.__table__, Member.__table__, Transfer.__table__
    c, d = Chapter.__table__, Dealer.__table__

    def keyed(base, chapter_col):
        """The grouping key and the FROM clause, with the chapter/region filter."""
        where = []
        if chapter_id is not None:
            where.append(chapter_col == chapter_id)
        if group == "region" or region_id is not None:
            base = base.join(c, c.c.id == chapter_col).join(d, d.c.id == c.c.dealer_id)
            if region_id is not None:
                where.append(d.c.region_id == region_id)
        key = d.c.region_id if group == "region" else chapter_col
        return key, base, where

    rows: dict[int, StatusRow] = {}

    def row(key) -> StatusRow:
        if key not in rows:
            rows[key] = StatusRow.empty(key)
        return rows[key]

    key, base, where = keyed(p.join(m, m.c.id == p.c.member_id), p.c.chapter_id)
    cube = db.session.execute(
        sa.select(key, p.c.status, m.c.tier, m.c.source, sa.func.count())
        .select_from(base)
        .where(*where, p.c.valid_from <= as_of,
               sa.or_(p.c.valid_to.is_(None), p.c.valid_to > as_of))
        .group_by(key, p.c.status, m.c.tier, m.c.source)).all()
    for k, status, tier, source, n in cube:
        r = row(k)
        r.by_status[status] = r.by_status.get(status, 0) + n
        r.by_tier[tier] = r.by_tier.get(tier, 0) + n
        bucket = source if source in REPORT_SOURCES else "other"
        r.by_source[bucket] += n

    in_month = (first, last)
    key, base, where = keyed(p, p.c.chapter_id)
    for attr, cond in (
            ("new", sa.and_(p.c.reason == "joined", p.c.valid_from.between(*in_month))),
            ("left", sa.and_(p.c.end_reason == "left", p.c.valid_to.between(*in_month)))):
        for k, n in db.session.execute(
                sa.select(key, sa.func.count(sa.distinct(p.c.member_id))).select_from(base)
                .where(*where, cond).group_by(key)).all():
            setattr(row(k), attr, n)
    for attr, col in (("transfers_in", t.c.to_chapter_id), ("transfers_out", t.c.from_chapter_id)):
        key, base, where = keyed(t, col)
        for k, n in db.session.execute(
                sa.select(key, sa.func.count()).select_from(base)
                .where(*where, t.c.status == APPROVED, t.c.effective_on.between(*in_month))
                .group_by(key)).all():
            setattr(row(k), attr, n)

    _label_rows(rows, group=group, as_of=as_of, chapter_id=chapter_id, region_id=region_id)
    ordered = sorted(rows.values(), key=lambda r: (r.region_code, r.code, r.key or 0))
    total = StatusRow.empty(None, name=str(_l("Total")))
    for r in ordered:
        total.add(r)
    return StatusReport(month=first, month_end=last, as_of=as_of, group=group, rows=ordered,
                        total=total, chapter_id=chapter_id, region_id=region_id)


def _label_rows(rows: dict[int, StatusRow], *, group: str, as_of: date,
                chapter_id: int | None, region_id: int | None) -> None:
    """Names and codes for the rows; chapters open on the date or regions get a row too."""
    if group == "region":
        stmt = sa.select(Region.id, Region.code, Region.name_zh, Region.name_en)
        if region_id is not None:
            stmt = stmt.where(Region.id == region_id)
        from flask_babel import get_locale

        english = str(get_locale() or "").startswith("en")
        for rid, code, name_zh, name_en in db.session.execute(stmt).all():
            if rid in rows or chapter_id is None:
                r = rows.setdefault(rid, StatusRow.empty(rid))
                r.code, r.region_code = code, code
                r.name = (name_en or name_zh) if english else name_zh
        return
    stmt = (sa.select(Chapter.id, Chapter.name, Chapter.founded_on, Chapter.closed_on,
                      Dealer.code, Region.code)
            .join(Dealer, Dealer.id == Chapter.dealer_id)
            .join(Region, Region.id == Dealer.region_id))
    if chapter_id is not None:
        stmt = stmt.where(Chapter.id == chapter_id)
    if region_id is not None:
        stmt = stmt.where(Dealer.region_id == region_id)
    for cid, name, founded, closed, dealer_code, region_code in db.session.execute(stmt).all():
        open_then = founded <= as_of and (closed is None or closed > as_of)
        if cid in rows or open_then or chapter_id is not None:
            r = rows.setdefault(cid, StatusRow.empty(cid))
            r.code, r.name, r.region_code = dealer_code, name, region_code


def status_report_table(report: StatusReport) -> tuple[list[str], list[list]]:
    """The report as a table (headers in the user's language), with a total line."""
    first = ([str(_l("Chapter ID")), str(_l("Dealer code")), str(_l("Chapter")),
              str(_l("Region"))] if report.group == "chapter"
             else [str(_l("Region ID")), str(_l("Region")), str(_l("Name"))])
    headers = [str(_l("Month")), str(_l("As of")), *first, str(_l("Members")),
               *[str(STATUS_LABELS[s]) for s in (ACTIVE, SUSPENDED)],
               *[str(TIER_LABELS[t]) for t in TIERS],
               *[str(SOURCE_LABELS[s]) for s in (*REPORT_SOURCES, "other")],
               str(_l("New this month")), str(_l("Left this month")),
               str(_l("Transfers in")), str(_l("Transfers out"))]

    def line(r: StatusRow) -> list:
        ident = ([r.key, r.code, r.name, r.region_code] if report.group == "chapter"
                 else [r.key, r.code, r.name])
        return [report.month.strftime("%Y-%m"), report.as_of.isoformat(), *ident, r.members,
                *[r.by_status.get(s, 0) for s in (ACTIVE, SUSPENDED)],
                *[r.by_tier.get(t, 0) for t in TIERS],
                *[r.by_source.get(s, 0) for s in (*REPORT_SOURCES, "other")],
                r.new, r.left, r.transfers_in, r.transfers_out]

    rows = [line(r) for r in report.rows]
    if len(report.rows) != 1:
        total = line(report.total)
        total[2] = ""
        rows.append(total)
    return headers, rows


@dataclass
class ExportFile:
    content: bytes
    mimetype: str
    filename: str


def export_member_status(report: StatusReport, *, fmt: str, encoding: str | None = None,
                         actor, ip: str | None = None) -> ExportFile:
    """The report as CSV (UTF-8 with BOM, or GBK for older Excel) or XLSX; audited.

    File names carry the chapter (``member-status-c12-2026-05.csv``) or the grouping.
    """
    if fmt not in EXPORT_FORMATS:
        raise field_error("format", _l("Choose CSV or XLSX."))
    encoding = (encoding or "utf-8").lower()
    if encoding not in ("utf-8", "gbk"):
        raise field_error("encoding", _l("Choose UTF-8 or GBK."))
    headers, rows = status_report_table(report)
    month = report.month.strftime("%Y-%m")
    if report.chapter_id is not None:
        stem = f"member-status-c{report.chapter_id}-{month}"
    elif report.region_id is not None:
        stem = f"member-status-{report.group}-r{report.region_id}-{month}"
    else:
        stem = f"member-status-{report.group}-{month}"
    if fmt == "csv":
        # GB18030 is a superset of GBK: the same bytes for every GBK character, none lost
        body = to_csv(headers, rows, encoding="gb18030" if encoding == "gbk" else "utf-8-sig")
        mimetype = "text/csv; charset=" + ("gbk" if encoding == "gbk" else "utf-8")
        filename = f"{stem}{'-gbk' if encoding == 'gbk' else ''}.csv"
    else:
        body = to_xlsx(headers, rows, title=str(_l("Member status")))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        filename = f"{stem}.xlsx"
    audit.record("export", actor=actor, ip=ip, chapter_id=report.chapter_id,
                 target_type="member_status_report",
                 details={"month": month, "group": report.group, "format": fmt,
                          "encoding": encoding if fmt == "csv" else None,
                          "region_id": report.region_id, "rows": len(rows),
                          "file": filename})
    return ExportFile(content=body, mimetype=mimetype, filename=filename)
