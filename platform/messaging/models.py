"""The outbox: one row per message a chapter sends to a member, on one channel."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped

PORTAL, EMAIL, SMS = "portal", "email", "sms"
CHANNELS = (PORTAL, EMAIL, SMS)
QUEUED, CLAIMED, SENT, FAILED, SKIPPED = "queued", "claimed", "sent", "failed", "skipped"
STATUSES = (QUEUED, CLAIMED, SENT, FAILED, SKIPPED)
LANGUAGES = ("zh_Hans_CN", "en")


class OutboxMessage(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A message to send exactly once: claimed in a committed transaction before sending."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "dedupe_key", name="uq_outbox_messages_chapter_id_key"),
        sa.Index("ix_outbox_messages_chapter_status_due", "chapter_id", "status", "not_before"),
        sa.Index("ix_outbox_messages_chapter_member", "chapter_id", "member_id", "channel",
                 "created_at"),
        sa.CheckConstraint(sql_in("channel", CHANNELS), name="channel_known"),
        sa.CheckConstraint(sql_in("status", STATUSES), name="status_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: the member it is for (None for a message to a non-member recipient)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    #: ``portal``, ``email`` or ``sms``
    channel: Mapped[str] = mapped_column(sa.String(16))
    #: what it is, e.g. ``birthday``, ``car_birthday``, ``event_invitation``
    kind: Mapped[str] = mapped_column(sa.String(48))
    #: unique per chapter: "one per member, kind and due date" (see ``dedupe_key()``)
    dedupe_key: Mapped[str] = mapped_column(sa.String(160))
    #: ``zh_Hans_CN`` or ``en``
    language: Mapped[str] = mapped_column(sa.String(16), default="zh_Hans_CN")
    #: e-mail address, mobile number, or the portal user id
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    #: template the text was rendered from (for reference), and its context
    template: Mapped[str | None] = mapped_column(sa.String(160))
    context: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: queued → claimed → sent | failed | skipped (claimed again after a failure or timeout)
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED)
    #: sending attempts started so far
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: earliest send time: quiet hours and retry backoff (None = now)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the current attempt claimed it (a stale claim is retried after a timeout)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the last error, for the manager
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    #: the provider's id of the sent message (SMS gateway, SMTP message id)
    provider_ref: Mapped[str | None] = mapped_column(sa.String(128))
    #: portal notifications: when the member read it
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
