"""The outbox's rules: queue once, claim before sending, retry with backoff, read in the portal.

Services only flush; the edge (job, view) commits. The dispatcher job
(:mod:`clubplatform.messaging.jobs`) is the one edge that commits between the claim
and the send, which is what makes a message go out at most once per claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from clubplatform.dates import SHANGHAI
from clubplatform.db import insert, utcnow
from clubplatform.errors import NotFound, field_error
from clubplatform.extensions import db
from clubplatform.messaging.models import (
    CHANNELS,
    CLAIMED,
    FAILED,
    PORTAL,
    QUEUED,
    SENT,
    SKIPPED,
    STATUSES,
    OutboxMessage,
)
from clubplatform.tenancy import ScopeViolation, current_chapter_id

#: defaults, overridable in the app config
DEFAULT_QUIET_HOURS = "21-9"          # no SMS/e-mail from 21:00 to 09:00 Asia/Shanghai
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_BACKOFF = (60, 300, 1800, 7200)  # seconds after the 1st, 2nd, 3rd, 4th+ failure
DEFAULT_CLAIM_TIMEOUT = 600            # a claim older than this is a crash: claim again


class SendError(Exception):
    """A channel could not send; ``permanent`` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def dedupe_key(kind: str, member_id: int | None, due_on: date | str) -> str:
    """The outbox key "one per member, kind and due date": ``birthday:m12:2026-05-01``."""
    due = due_on.isoformat() if isinstance(due_on, date) else str(due_on)
    return f"{kind}:m{member_id if member_id is not None else '-'}:{due}"


def normalise_language(language: str | None) -> str:
    """``zh``/``zh_CN``/``zh_Hans_CN`` → ``zh_Hans_CN``; ``en*`` → ``en``."""
    return "en" if (language or "").lower().startswith("en") else "zh_Hans_CN"


def _config(name: str, default):
    return current_app.config.get(name, default)


def quiet_hours() -> tuple[int, int]:
    """(start hour, end hour) of the quiet hours, Asia/Shanghai; (0, 0) = none."""
    raw = _config("MESSAGING_QUIET_HOURS", DEFAULT_QUIET_HOURS) or "0-0"
    start, _, end = str(raw).partition("-")
    return int(start), int(end or 0)


def outside_quiet_hours(at: datetime, channel: str) -> datetime:
    """The first instant at or after ``at`` outside the quiet hours (portal: always ``at``)."""
    if channel == PORTAL:
        return at
    start, end = quiet_hours()
    if start == end:
        return at
    local = at.astimezone(SHANGHAI)
    h = local.hour
    quiet = (h >= start or h < end) if start > end else (start <= h < end)
    if not quiet:
        return at
    day = local.date() if h < end else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end), SHANGHAI).astimezone(at.tzinfo)


def render_message(template: str, language: str, context: dict) -> tuple[str, str]:
    """Render ``<template>.<zh|en>.txt``: its first line is the subject, the rest the body."""
    lang = "en" if normalise_language(language) == "en" else "zh"
    text = current_app.jinja_env.get_template(f"{template}.{lang}.txt").render(**context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip()


def _message_row(*, chapter_id: int, channel: str, kind: str, dedupe_key: str,
                 recipient: str, member_id: int | None = None, language: str | None = None,
                 subject: str = "", body: str = "", template: str | None = None,
                 context: dict | None = None, not_before: datetime | None = None,
                 respect_quiet_hours: bool = True, now: datetime | None = None) -> dict:
    """One message's row for the outbox table, checked (see :func:`queue_message`)."""
    scope = current_chapter_id()
    if scope is not None and scope != chapter_id:
        raise ScopeViolation(f"outbox message of chapter {chapter_id} queued in chapter {scope}")
    if channel not in CHANNELS:
        raise field_error("channel", f"unknown channel {channel!r}")
    if not (recipient or "").strip():
        raise field_error("recipient", "a recipient is required")
    if not dedupe_key:
        raise field_error("dedupe_key", "a dedupe key is required")
    language = normalise_language(language)
    context = dict(context or {})
    if template:
        subject, body = render_message(template, language, context)
    if not body:
        raise field_error("body", "a body or a template is required")
    now = now or utcnow()
    due = not_before or now
    if respect_quiet_hours:
        due = outside_quiet_hours(due, channel)
    return dict(chapter_id=chapter_id, member_id=member_id, channel=channel, kind=kind,
                dedupe_key=dedupe_key[:160], language=language, recipient=recipient.strip(),
                subject=(subject or "")[:255], body=body, template=template, context=context,
                status=QUEUED, attempts=0, not_before=due, created_at=now, updated_at=now)


def _insert_new():
    """``INSERT … ON CONFLICT (chapter_id, dedupe_key) DO NOTHING RETURNING id``."""
    table = OutboxMessage.__table__
    return (insert(table).on_conflict_do_nothing(index_elements=["chapter_id", "dedupe_key"])
            .returning(table.c.id))


def queue_message(**message) -> OutboxMessage | None:
    """Queue one message; return it, or ``None`` if its ``dedupe_key`` is already queued.

    Keywords: ``chapter_id, channel, kind, dedupe_key, recipient`` and optionally
    ``member_id, language, subject, body`` (or ``template`` + ``context``),
    ``not_before``, ``respect_quiet_hours`` (default True). The caller decides that the
    member may get it (consent, anonymised members).
    """
    new_id = db.session.execute(_insert_new(), [_message_row(**message)]).scalar_one_or_none()
    if new_id is None:
        return None
    return db.session.get(OutboxMessage, new_id)


def queue_messages(messages) -> int:
    """Queue many messages (each as :func:`queue_message`'s keywords) with one statement,
    sent by the driver as multi-row batches; return how many were new (a dedupe key
    already queued is skipped)."""
    now = utcnow()
    rows = [_message_row(**m, now=now) for m in messages]
    if not rows:
        return 0
    return len(db.session.execute(_insert_new(), rows).all())


# -- the dispatcher's steps (the job commits between them) ---------------------------------

def max_attempts() -> int:
    return int(_config("MESSAGING_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def _claim_timeout() -> timedelta:
    return timedelta(seconds=int(_config("MESSAGING_CLAIM_TIMEOUT", DEFAULT_CLAIM_TIMEOUT)))


def _claimable(now: datetime):
    m = OutboxMessage
    return sa.or_(
        sa.and_(m.status == QUEUED, sa.or_(m.not_before.is_(None), m.not_before <= now)),
        sa.and_(m.status == CLAIMED, m.claimed_at < now - _claim_timeout()),
    )


def due_message_ids(chapter_id: int, *, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Ids of the chapter's messages that may be claimed now, oldest first."""
    now = now or utcnow()
    return list(db.session.execute(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.chapter_id == chapter_id, _claimable(now))
        .order_by(OutboxMessage.id).limit(limit)).scalars())


def chapters_with_due_messages(*, now: datetime | None = None) -> list[int]:
    """Chapters that have messages to send now (call inside ``unscoped``)."""
    now = now or utcnow()
    return list(db.session.execute(
        sa.select(OutboxMessage.chapter_id).where(_claimable(now)).distinct()
        .order_by(OutboxMessage.chapter_id)).scalars())


def claim(message_id: int, *, now: datetime | None = None) -> bool:
    """Claim one message (compare-and-set); the caller commits before sending.

    Two workers claiming the same row: the second UPDATE finds it no longer
    claimable and changes nothing, so exactly one of them sends.
    """
    now = now or utcnow()
    m = OutboxMessage
    result = db.session.execute(
        sa.update(m).where(m.id == message_id, _claimable(now))
        .values(status=CLAIMED, claimed_at=now, attempts=m.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def record_sent(message: OutboxMessage, provider_ref: str | None, *,
                now: datetime | None = None) -> None:
    message.status = SENT
    message.sent_at = now or utcnow()
    message.provider_ref = (provider_ref or "")[:128] or None
    message.last_error = None
    db.session.flush()


def record_failure(message: OutboxMessage, error: str, *, permanent: bool = False,
                   now: datetime | None = None) -> None:
    """Back to the queue after a backoff, or ``failed`` after the last try."""
    now = now or utcnow()
    message.last_error = (error or "error")[:500]
    if permanent or message.attempts >= max_attempts():
        message.status = FAILED
    else:
        backoff = tuple(_config("MESSAGING_BACKOFF", DEFAULT_BACKOFF))
        delay = backoff[min(message.attempts, len(backoff)) - 1] if backoff else 0
        message.status = QUEUED
        message.not_before = outside_quiet_hours(now + timedelta(seconds=delay), message.channel)
    message.claimed_at = None
    db.session.flush()


def skip(message: OutboxMessage, reason: str) -> None:
    message.status = SKIPPED
    message.last_error = reason[:500]
    db.session.flush()


def retry_failed(message: OutboxMessage) -> OutboxMessage:
    """A manager sends a failed message again (a fresh round of attempts)."""
    if message.status != FAILED:
        raise field_error("status", "only a failed message can be sent again")
    message.status = QUEUED
    message.attempts = 0
    message.not_before = None
    db.session.flush()
    return message


# -- reading ---------------------------------------------------------------------------------

def get_message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("no such message")
    return message


def message_query(*, status: str | None = None, kind: str | None = None,
                  member_id: int | None = None):
    """The open chapter's outbox, newest first."""
    q = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in STATUSES:
        q = q.where(OutboxMessage.status == status)
    if kind:
        q = q.where(OutboxMessage.kind == kind)
    if member_id is not None:
        q = q.where(OutboxMessage.member_id == member_id)
    return q


@dataclass
class StatusCount:
    status: str
    count: int


def status_counts() -> dict[str, int]:
    """Messages per status in the open chapter."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    return {status: 0 for status in STATUSES} | {s: n for s, n in rows}


def _portal_of(member_id: int):
    m = OutboxMessage
    return sa.and_(m.member_id == member_id, m.channel == PORTAL, m.status == SENT)


def notifications(member_id: int, *, limit: int = 50) -> list[OutboxMessage]:
    """A member's portal notifications, newest first."""
    return list(db.session.execute(
        sa.select(OutboxMessage).where(_portal_of(member_id))
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(limit)).scalars())


def unread_count(member_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(OutboxMessage)
        .where(_portal_of(member_id), OutboxMessage.read_at.is_(None))).scalar_one()


def mark_read(member_id: int, message_id: int | None = None) -> int:
    """Mark one (or every) portal notification of the member read; returns how many."""
    m = OutboxMessage
    stmt = (sa.update(m).where(_portal_of(member_id), m.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False))
    if message_id is not None:
        stmt = stmt.where(m.id == message_id)
    return db.session.execute(stmt).rowcount

