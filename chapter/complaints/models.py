"""Complaints (投诉处理): an owner's complaint, its timeline, the chapter's limits."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped

BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

CHANNELS = ("phone", "in_person", "online", "hq_hotline")
CAUSES = ("product_quality", "repair_quality", "staff_mistake", "service_attitude",
          "beyond_policy")
SEVERITIES = ("low", "medium", "high")
OPEN, CLOSED = "open", "closed"
STATUSES = (OPEN, CLOSED)
#: who put the complaint in: the chapter's staff, the member in the portal, HQ's hotline
RAISED_BY = ("staff", "member", "hq")
#: why a complaint was escalated to the manager
PROMISE_MISSED, OPEN_TOO_LONG, NOT_ACKNOWLEDGED = "promise_missed", "open_too_long", "not_acknowledged"
ESCALATION_REASONS = (PROMISE_MISSED, OPEN_TOO_LONG, NOT_ACKNOWLEDGED)
GOODWILL_KINDS = ("none", "points", "voucher")
#: entries of a complaint's timeline
CONTACT_KINDS = ("received", "acknowledged", "contact", "promise", "assigned", "escalated",
                 "closed", "reopened")

#: defaults of a chapter without its own settings
DEFAULT_OPEN_LIMIT_DAYS = 7
DEFAULT_GOODWILL_LIMIT_POINTS = 2000


class ComplaintSettings(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A chapter's complaint limits (one row per chapter; defaults when there is none)."""

    __tablename__ = "complaint_settings"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", name="uq_complaint_settings_chapter_id"),
        sa.CheckConstraint("open_limit_days > 0", name="limit_positive"),
        sa.CheckConstraint("goodwill_limit_points >= 0", name="goodwill_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a complaint open longer than this many days is escalated to the manager
    open_limit_days: Mapped[int] = mapped_column(sa.Integer, default=DEFAULT_OPEN_LIMIT_DAYS)
    #: most goodwill points the chapter gives for one complaint
    goodwill_limit_points: Mapped[int] = mapped_column(sa.Integer,
                                                       default=DEFAULT_GOODWILL_LIMIT_POINTS)


class Complaint(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    """An owner's complaint: received, acknowledged, owned by one person, closed."""

    __tablename__ = "complaints"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_complaints_chapter_id_id"),
        sa.ForeignKeyConstraint(["chapter_id", "owner_id"], ["owners.chapter_id", "owners.id"],
                                name="fk_complaints_owner"),
        sa.ForeignKeyConstraint(["chapter_id", "vehicle_id"],
                                ["vehicles.chapter_id", "vehicles.id"],
                                name="fk_complaints_vehicle"),
        sa.ForeignKeyConstraint(["chapter_id", "visit_id"],
                                ["service_visits.chapter_id", "service_visits.id"],
                                name="fk_complaints_visit"),
        sa.Index("ix_complaints_chapter_status_due", "chapter_id", "status", "callback_due_at"),
        sa.Index("ix_complaints_chapter_owner", "chapter_id", "owner_id", "status"),
        sa.Index("ix_complaints_chapter_received", "chapter_id", "received_on"),
        sa.Index("ix_complaints_chapter_assignee", "chapter_id", "assignee_id", "status"),
        sa.CheckConstraint(sql_in("channel", CHANNELS), name="channel_known"),
        sa.CheckConstraint(sql_in("cause", CAUSES), name="cause_known"),
        sa.CheckConstraint(sql_in("severity", SEVERITIES), name="severity_known"),
        sa.CheckConstraint(sql_in("status", STATUSES), name="status_known"),
        sa.CheckConstraint(sql_in("raised_by", RAISED_BY), name="raised_by_known"),
        sa.CheckConstraint(sql_in("goodwill_kind", GOODWILL_KINDS), name="goodwill_known"),
        sa.CheckConstraint("escalation_reason IS NULL OR "
                           + sql_in("escalation_reason", ESCALATION_REASONS),
                           name="escalation_known"),
        sa.CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
                           name="satisfaction_range"),
        sa.CheckConstraint("status <> 'closed' OR (resolution IS NOT NULL AND closed_at IS NOT NULL)",
                           name="closed_has_resolution"),
        sa.CheckConstraint("goodwill_points >= 0", name="goodwill_not_negative"),
        sa.CheckConstraint("reopen_count >= 0", name="reopen_not_negative"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    #: the complaining owner (a member or not)
    owner_id: Mapped[int] = mapped_column(BIGID)
    #: the car concerned, if any (same chapter)
    vehicle_id: Mapped[int | None] = mapped_column(BIGID)
    #: the service visit (work order) concerned, if any (same chapter: the key is
    #: ``(chapter_id, visit_id)``)
    visit_id: Mapped[int | None] = mapped_column(BIGID)
    #: how it came in: one of :data:`CHANNELS`
    channel: Mapped[str] = mapped_column(sa.String(16))
    #: one of :data:`CAUSES`
    cause: Mapped[str] = mapped_column(sa.String(24))
    #: ``low``, ``medium`` or ``high``
    severity: Mapped[str] = mapped_column(sa.String(8), default="medium")
    #: what the owner says
    description: Mapped[str] = mapped_column(sa.Text)
    #: ``staff``, ``member`` (portal) or ``hq`` (hotline)
    raised_by: Mapped[str] = mapped_column(sa.String(8), default="staff")
    #: when it was received (UTC)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: business date (Asia/Shanghai) it was received: the month figures count by it
    received_on: Mapped[date] = mapped_column(sa.Date)
    #: when the chapter acknowledged it (the same business day, or it escalates)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: minutes from receipt to acknowledgement (for HQ's figures, averaged in SQL)
    ack_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    #: the one staff member who owns it
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: the promised call-back time (UTC); cleared when the call-back is made
    callback_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``open`` or ``closed``
    status: Mapped[str] = mapped_column(sa.String(8), default=OPEN)
    #: when it was escalated to the manager (cleared on reopen)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: why: one of :data:`ESCALATION_REASONS`
    escalation_reason: Mapped[str | None] = mapped_column(sa.String(24))
    #: what was done (required to close)
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    #: ``none``, ``points`` or ``voucher``
    goodwill_kind: Mapped[str] = mapped_column(sa.String(8), default="none")
    #: goodwill points given (funded by the chapter, posted to the ledger once)
    goodwill_points: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: why goodwill was given
    goodwill_reason: Mapped[str | None] = mapped_column(sa.String(255))
    #: the service voucher given, e.g. "free wash and check"
    voucher_note: Mapped[str | None] = mapped_column(sa.String(255))
    #: the owner's satisfaction with the handling, 1–5
    satisfaction: Mapped[int | None] = mapped_column(sa.SmallInteger)
    #: when it was (last) closed
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: minutes from receipt to the (last) close
    close_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    #: times it was reopened
    reopen_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


class ComplaintContact(TenantScoped, CreatedAtMixin, db.Model):
    """One entry of a complaint's timeline: a contact with the owner or a change."""

    __tablename__ = "complaint_contacts"
    __table_args__ = (
        sa.ForeignKeyConstraint(["chapter_id", "complaint_id"],
                                ["complaints.chapter_id", "complaints.id"],
                                name="fk_complaint_contacts_complaint"),
        sa.Index("ix_complaint_contacts_chapter_complaint", "chapter_id", "complaint_id"),
        sa.CheckConstraint(sql_in("kind", CONTACT_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(BIGID)
    #: one of :data:`CONTACT_KINDS`
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: what was said or done
    note: Mapped[str | None] = mapped_column(sa.String(1000))
    #: the staff member (or member / HQ user) who logged it; None for the escalation job
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: shown to the owner in the portal
    visible_to_owner: Mapped[bool] = mapped_column(sa.Boolean, default=True)
