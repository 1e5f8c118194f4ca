"""The audit log: who did what, when, to what."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import UTCDateTime, utcnow
from clubplatform.extensions import db


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_at", "at"),
        sa.Index("ix_audit_log_action_at", "action", "at"),
        sa.Index("ix_audit_log_chapter_at", "chapter_id", "at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    #: when it happened (UTC)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: the user who acted; None for anonymous attempts and system jobs
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: the actor's username at the time (kept if the user is renamed)
    actor_name: Mapped[str] = mapped_column(sa.String(64), default="")
    #: what happened, e.g. ``login``, ``login_failed``, ``role_changed``, ``export``
    action: Mapped[str] = mapped_column(sa.String(48))
    #: the chapter the action concerns, if any
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))
    #: kind of object acted on, e.g. ``user``, ``chapter``
    target_type: Mapped[str | None] = mapped_column(sa.String(32))
    #: id of the object acted on
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    #: client address
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    #: further facts (old/new role, file name, row count …)
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
