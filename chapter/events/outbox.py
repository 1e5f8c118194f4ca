"""Handing event messages to the messaging outbox (:mod:`clubplatform.messaging`).

The outbox sends each message at most once per dedupe key; this module only decides
the channel and the text. Invitations go to consenting members only (marketing);
a waitlist promotion is a service message about the member's own RSVP.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from chapter.events.models import Event, EventInvitation, EventRegistration
from clubplatform import dates
from clubplatform.db import utcnow
from hq.members.models import Member

INVITATION_KIND = "event_invitation"
PROMOTION_KIND = "event_promoted"


def invitation_key(event_id: int, member_id: int) -> str:
    return f"event-invite:{event_id}:{member_id}"


def promotion_key(event_id: int, member_id: int, seq: int) -> str:
    return f"event-promoted:{event_id}:{member_id}:{seq}"


def _locale(member: Member) -> str:
    return "en" if (member.locale or "").lower().startswith("en") else "zh_Hans_CN"


def marketing_channel(member: Member) -> tuple[str, str] | None:
    """The channel and recipient for a marketing message, by the member's consent.

    Portal first (free), then e-mail, then SMS; None when the member consented to none
    of those we can reach.
    """
    if member.consent_portal and member.user_id:
        return "portal", str(member.user_id)
    if member.consent_email and member.email:
        return "email", member.email
    if member.consent_sms and member.mobile:
        return "sms", member.mobile
    return None


def service_channel(member: Member) -> tuple[str, str] | None:
    """Where a message about the member's own registration goes: portal, else SMS, else e-mail."""
    if member.user_id:
        return "portal", str(member.user_id)
    if member.mobile:
        return "sms", member.mobile
    if member.email:
        return "email", member.email
    return None


def _when(event: Event) -> str:
    return dates.local(event.starts_at).strftime("%Y-%m-%d %H:%M")


#: where the member's name goes in a text translated once for many members (a NUL never
#: comes from a form or the API: they refuse it)
_NAME = "\x00name\x00"


def hand_invitations_to_outbox(event: Event) -> int:
    """Queue one invitation message per invited member not handed over yet (dedupe key per
    event and member); returns how many were newly queued and marks their invitations
    ``queued_at``. The text is translated once per language and the messages are written
    a few hundred per statement: an invitation to a whole large chapter stays quick.
    """
    import sqlalchemy as sa

    from clubplatform.extensions import db
    from clubplatform.messaging import service as messaging

    inv = EventInvitation.__table__
    members = db.session.execute(
        sa.select(Member).join(inv, inv.c.member_id == Member.id)
        .where(inv.c.chapter_id == event.chapter_id, inv.c.event_id == event.id,
               inv.c.queued_at.is_(None))).scalars().all()
    texts, messages, handed = {}, [], []
    for member in members:
        route = marketing_channel(member)
        if route is None:
            continue
        channel, recipient = route
        locale = _locale(member)
        if locale not in texts:  # the member's name goes in below, for each member
            with force_locale(locale):
                english = locale == "en"
                texts[locale] = (
                    _("Invitation: %(title)s", title=event.title(english)),
                    _("%(name)s, you are invited to %(title)s on %(when)s at %(place)s. "
                      "RSVP in the member portal.", name=_NAME,
                      title=event.title(english), when=_when(event), place=event.place))
        subject, body = texts[locale]
        messages.append(dict(
            chapter_id=event.chapter_id, channel=channel, kind=INVITATION_KIND,
            dedupe_key=invitation_key(event.id, member.id), recipient=recipient,
            member_id=member.id, language=locale, subject=subject,
            body=body.replace(_NAME, member.name or "")))
        handed.append(member.id)
    queued = messaging.queue_messages(messages)
    now = utcnow()
    for i in range(0, len(handed), 1000):
        db.session.execute(sa.update(inv).where(
            inv.c.chapter_id == event.chapter_id, inv.c.event_id == event.id,
            inv.c.member_id.in_(handed[i:i + 1000])).values(queued_at=now))
    return queued


def notify_promoted(event: Event, registration: EventRegistration) -> bool:
    """Tell a member they moved up from the waitlist (once per promotion)."""
    import sqlalchemy as sa

    from clubplatform.extensions import db
    from clubplatform.messaging import service as messaging

    if registration.member_id is None:
        return False
    member = db.session.execute(sa.select(Member).where(Member.id == registration.member_id)
                                ).scalar_one_or_none()
    route = service_channel(member) if member is not None else None
    if route is None:
        return False
    channel, recipient = route
    locale = _locale(member)
    with force_locale(locale):
        english = locale == "en"
        subject = _("You have a seat: %(title)s", title=event.title(english))
        body = _("%(name)s, a seat became free and you moved up from the waitlist for "
                 "%(title)s on %(when)s at %(place)s.", name=member.name,
                 title=event.title(english), when=_when(event), place=event.place)
    message = messaging.queue_message(
        chapter_id=event.chapter_id, channel=channel, kind=PROMOTION_KIND,
        dedupe_key=promotion_key(event.id, member.id, registration.seq), recipient=recipient,
        member_id=member.id, language=locale, subject=subject, body=body,
        respect_quiet_hours=True)
    return message is not None
