"""Chapter events (车友活动): HQ's templates, series, events, invitations, RSVPs, feedback.

An event belongs to one chapter; its registrations, invitations and feedback refer to
it by the composite key ``(chapter_id, event_id)``. HQ's event templates are central
reference rows (no chapter): a chapter copies one into a new event.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped

BIGINT = sa.BigInteger().with_variant(sa.Integer, "sqlite")

#: car-care class 爱车课堂, self-drive trip 自驾游, gala 答谢晚会, test drive 试驾, other
EVENT_TYPES = ("car_care", "self_drive", "gala", "test_drive", "other")
SCHEDULED, CANCELLED = "scheduled", "cancelled"
EVENT_STATUSES = (SCHEDULED, CANCELLED)
REGISTERED, WAITLISTED, WITHDRAWN = "registered", "waitlisted", "cancelled"
REGISTRATION_STATUSES = (REGISTERED, WAITLISTED, WITHDRAWN)
#: how often a series repeats
FREQUENCIES = ("weekly", "monthly")


class EventTemplate(CreatedAtMixin, UpdatedAtMixin, db.Model):
    """An event HQ publishes for chapters to reuse (central, not a chapter's row)."""

    __tablename__ = "event_templates"
    __table_args__ = (
        sa.CheckConstraint(sql_in("type", EVENT_TYPES), name="type_known"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
        sa.CheckConstraint("max_guests >= 0", name="guests_not_negative"),
        sa.CheckConstraint("attendance_points >= 0", name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: one of :data:`EVENT_TYPES`
    type: Mapped[str] = mapped_column(sa.String(16))
    title_zh: Mapped[str] = mapped_column(sa.String(128))
    title_en: Mapped[str | None] = mapped_column(sa.String(128))
    description_zh: Mapped[str | None] = mapped_column(sa.Text)
    description_en: Mapped[str | None] = mapped_column(sa.Text)
    #: suggested length of the event
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, default=120)
    #: suggested seats
    capacity: Mapped[int] = mapped_column(sa.Integer, default=30)
    #: guests a member may bring (0: none)
    max_guests: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: points announced for attending
    attendance_points: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: chapters see only published templates
    published: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class EventSeries(TenantScoped, CreatedAtMixin, db.Model):
    """A recurring series (e.g. the monthly car-care class): its events share it."""

    __tablename__ = "event_series"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_event_series_chapter_id_id"),
        sa.CheckConstraint(sql_in("frequency", FREQUENCIES), name="frequency_known"),
        sa.CheckConstraint("occurrences > 0", name="occurrences_positive"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(128))
    #: one of :data:`FREQUENCIES`
    frequency: Mapped[str] = mapped_column(sa.String(16))
    #: how many events were created
    occurrences: Mapped[int] = mapped_column(sa.Integer)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class Event(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_events_chapter_id_id"),
        sa.ForeignKeyConstraint(["chapter_id", "series_id"],
                                ["event_series.chapter_id", "event_series.id"],
                                name="fk_events_series"),
        sa.Index("ix_events_chapter_starts", "chapter_id", "starts_at"),
        sa.CheckConstraint(sql_in("type", EVENT_TYPES), name="type_known"),
        sa.CheckConstraint(sql_in("status", EVENT_STATUSES), name="status_known"),
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("max_guests >= 0", name="guests_not_negative"),
        sa.CheckConstraint("attendance_points >= 0", name="points_not_negative"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    #: one of :data:`EVENT_TYPES`
    type: Mapped[str] = mapped_column(sa.String(16))
    title_zh: Mapped[str] = mapped_column(sa.String(128))
    title_en: Mapped[str | None] = mapped_column(sa.String(128))
    description_zh: Mapped[str | None] = mapped_column(sa.Text)
    description_en: Mapped[str | None] = mapped_column(sa.Text)
    #: when it starts and ends (UTC)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(sa.String(255))
    #: seats: registered members plus their guests never exceed it
    capacity: Mapped[int] = mapped_column(sa.Integer)
    #: RSVPs (and cancellations by members) close at this instant (UTC)
    rsvp_deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    #: guests a member may bring (0: none)
    max_guests: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: points for attending (0: none); the ledger posts HQ's attendance rule, once
    attendance_points: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: scheduled → cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default=SCHEDULED)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(255))
    #: arrival counter: each RSVP takes the next number under the event's row lock
    rsvp_seq: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: the HQ template it was made from
    template_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event_templates.id", ondelete="SET NULL"))
    series_id: Mapped[int | None] = mapped_column(BIGINT)
    #: the audience filters of the last invitation run
    audience: Mapped[dict | None] = mapped_column(sa.JSON)
    #: when no-shows were marked and attendance points settled (the close job)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    def title(self, english: bool = False) -> str:
        return (self.title_en or self.title_zh) if english else self.title_zh

    def description(self, english: bool = False) -> str | None:
        return (self.description_en or self.description_zh) if english else self.description_zh


class EventRegistration(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A member's RSVP (with guests), a waitlist place, or a walk-in at the door."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_event_registrations_chapter_id_id"),
        sa.ForeignKeyConstraint(["chapter_id", "event_id"], ["events.chapter_id", "events.id"],
                                name="fk_event_registrations_event"),
        sa.UniqueConstraint("chapter_id", "event_id", "member_id",
                            name="uq_event_registrations_member"),
        sa.UniqueConstraint("chapter_id", "code", name="uq_event_registrations_code"),
        sa.Index("ix_event_registrations_queue", "chapter_id", "event_id", "status", "seq"),
        sa.Index("ix_event_registrations_member", "member_id"),
        sa.CheckConstraint(sql_in("status", REGISTRATION_STATUSES), name="status_known"),
        sa.CheckConstraint("guests >= 0", name="guests_not_negative"),
        sa.CheckConstraint("member_id IS NOT NULL OR walk_in_name IS NOT NULL",
                           name="member_or_walk_in"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    event_id: Mapped[int] = mapped_column(BIGINT)
    #: the member (None for a walk-in who is not a member)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    #: a non-member walk-in's name and mobile
    walk_in_name: Mapped[str | None] = mapped_column(sa.String(128))
    walk_in_mobile: Mapped[str | None] = mapped_column(sa.String(11))
    #: added at the door
    walk_in: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    guests: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: registered | waitlisted | cancelled
    status: Mapped[str] = mapped_column(sa.String(16))
    #: arrival order on the event (the waitlist moves up in this order)
    seq: Mapped[int] = mapped_column(sa.Integer)
    #: check-in code (unguessable), also shown as a QR code
    code: Mapped[str] = mapped_column(sa.String(16))
    #: when the member moved up from the waitlist
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: registered but did not come (marked after the event)
    no_show: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: when attendance points were handed to the ledger (its key keeps them once)
    points_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventInvitation(TenantScoped, CreatedAtMixin, db.Model):
    """Who was invited to an event (once per member); the outbox sends the message."""

    __tablename__ = "event_invitations"
    __table_args__ = (
        sa.ForeignKeyConstraint(["chapter_id", "event_id"], ["events.chapter_id", "events.id"],
                                name="fk_event_invitations_event"),
        sa.UniqueConstraint("chapter_id", "event_id", "member_id",
                            name="uq_event_invitations_member"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    event_id: Mapped[int] = mapped_column(BIGINT)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    invited_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: when the message was handed to the messaging outbox (None: not yet)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventFeedback(TenantScoped, CreatedAtMixin, db.Model):
    """An attendee's rating (1–5) and comment, once per event."""

    __tablename__ = "event_feedback"
    __table_args__ = (
        sa.ForeignKeyConstraint(["chapter_id", "event_id"], ["events.chapter_id", "events.id"],
                                name="fk_event_feedback_event"),
        sa.ForeignKeyConstraint(["chapter_id", "registration_id"],
                                ["event_registrations.chapter_id", "event_registrations.id"],
                                name="fk_event_feedback_registration"),
        sa.UniqueConstraint("chapter_id", "registration_id", name="uq_event_feedback_registration"),
        sa.Index("ix_event_feedback_chapter_event", "chapter_id", "event_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(BIGINT, primary_key=True)
    event_id: Mapped[int] = mapped_column(BIGINT)
    registration_id: Mapped[int] = mapped_column(BIGINT)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    #: 1 (poor) to 5 (excellent)
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    comment: Mapped[str | None] = mapped_column(sa.String(1000))
