"""The central member database: one member row per person on the whole platform.

- :class:`Member` follows the person: its ``chapter_id`` is the chapter they belong
  to now (changed only by an approved, audited transfer).
- :class:`MemberIdentity` keeps "a person is a member at most once" in the database:
  one row per (kind, keyed digest) of mobile and ID number, platform-wide.
- :class:`MemberStatusPeriod` rows are chapter facts that never move: who was a
  member of which chapter from when to when, so that "members of chapter X as of
  date D" is one SQL query and a transfer leaves both chapters' past as it was.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import HomeChapter, TenantScoped
from clubplatform.validators import GENDERS

ACTIVE, SUSPENDED, LEFT = "active", "suspended", "left"
MEMBER_STATUSES = (ACTIVE, SUSPENDED, LEFT)
TIERS = ("silver", "gold", "platinum", "diamond")
CHANNELS = ("sms", "email", "phone", "portal")
TRANSFER_STATUSES = ("requested", "approved", "rejected", "cancelled")
PERIOD_REASONS = ("joined", "suspended", "reactivated", "left", "transfer_in", "transfer_out")


class Member(HomeChapter, CreatedAtMixin, UpdatedAtMixin, db.Model):
    __tablename__ = "members"
    __table_args__ = (
        sa.CheckConstraint(sql_in("status", MEMBER_STATUSES), name="status_known"),
        sa.CheckConstraint(sql_in("tier", TIERS), name="tier_known"),
        sa.CheckConstraint("gender IS NULL OR " + sql_in("gender", GENDERS), name="gender_known"),
        sa.CheckConstraint("points_balance >= 0", name="balance_not_negative"),
        # the chapter's member list, newest first (its page read backwards, no sort), and
        # its status counts and total from the index alone
        sa.Index("ix_members_chapter_joined", "chapter_id", "joined_on", "id"),
        sa.Index("ix_members_chapter_status", "chapter_id", "status"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: member number shown on the card, e.g. ``M00001234``; unique platform-wide
    member_number: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: the owner record in the current chapter
    owner_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: the portal account of the member
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"),
                                                unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    gender: Mapped[str | None] = mapped_column(sa.String(8))
    #: 11-digit mainland mobile
    mobile: Mapped[str | None] = mapped_column(sa.String(11))
    #: national ID number, AES-GCM sealed
    id_number_enc: Mapped[str | None] = mapped_column(sa.Text, info={"encrypted": True})
    #: keyed blind index of the ID number
    id_number_digest: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    #: masked ID number for display
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(18))
    birthday: Mapped[date | None] = mapped_column(sa.Date)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    hobbies: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: language for messages to the member (``zh_Hans_CN`` / ``en``)
    locale: Mapped[str] = mapped_column(sa.String(16), default="zh_Hans_CN")
    #: business date the member joined (approval date)
    joined_on: Mapped[date] = mapped_column(sa.Date)
    #: how they came: the application's source
    source: Mapped[str] = mapped_column(sa.String(16))
    #: ``active``, ``suspended`` or ``left``
    status: Mapped[str] = mapped_column(sa.String(16), default=ACTIVE)
    #: business date of the last status change
    status_since: Mapped[date] = mapped_column(sa.Date)
    #: Silver/Gold/Platinum/Diamond
    tier: Mapped[str] = mapped_column(sa.String(16), default="silver")
    #: points balance (the ledger is the truth; kept here for fast reads)
    points_balance: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: current consent to marketing messages, per channel (history in member_consents)
    consent_sms: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    consent_email: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    consent_phone: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    consent_portal: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: set when personal fields were anonymised on request
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MemberIdentity(CreatedAtMixin, db.Model):
    """Platform-wide uniqueness of a person: a mobile or ID number belongs to one member."""

    __tablename__ = "member_identities"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('mobile', 'id_number')", name="kind_known"),
    )

    #: ``mobile`` or ``id_number``
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: keyed blind index of the normalised value (no personal data in clear)
    digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"),
                                           index=True)


class MemberStatusPeriod(TenantScoped, CreatedAtMixin, db.Model):
    """A period during which a person was a member of a chapter with a status."""

    __tablename__ = "member_status_periods"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "member_id", "valid_from", "status",
                            name="uq_member_status_periods_start"),
        sa.Index("ix_member_status_periods_asof", "chapter_id", "valid_from", "valid_to"),
        sa.Index("ix_member_status_periods_member", "member_id", "valid_from"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_order"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    #: ``active`` or ``suspended`` (both count as members)
    status: Mapped[str] = mapped_column(sa.String(16))
    #: first business date of the period
    valid_from: Mapped[date] = mapped_column(sa.Date)
    #: first business date after the period (exclusive); None while it lasts
    valid_to: Mapped[date | None] = mapped_column(sa.Date)
    #: why the period began
    reason: Mapped[str] = mapped_column(sa.String(16))
    #: why it ended
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))


class MemberConsent(CreatedAtMixin, db.Model):
    """Each change of consent to marketing messages, with time, channel and source."""

    __tablename__ = "member_consents"
    __table_args__ = (
        sa.Index("ix_member_consents_member", "member_id", "created_at"),
        sa.CheckConstraint(sql_in("channel", CHANNELS), name="channel_known"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    #: ``sms``, ``email``, ``phone`` or ``portal``
    channel: Mapped[str] = mapped_column(sa.String(16))
    granted: Mapped[bool] = mapped_column(sa.Boolean)
    #: ``portal``, ``staff``, ``application`` or ``import``
    source: Mapped[str] = mapped_column(sa.String(16))
    #: the user who recorded it (the member in the portal, or staff)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


class Transfer(CreatedAtMixin, db.Model):
    """A member's move to another chapter (转会).

    Visible to both chapters; reads go through the members service, which filters on
    ``from_chapter_id``/``to_chapter_id`` for chapter users.
    """

    __tablename__ = "transfers"
    __table_args__ = (
        sa.Index("ix_transfers_from", "from_chapter_id", "status"),
        sa.Index("ix_transfers_to", "to_chapter_id", "status"),
        sa.Index("uq_transfers_member_open", "member_id", unique=True,
                 sqlite_where=sa.text("status = 'requested'"),
                 postgresql_where=sa.text("status = 'requested'")),
        sa.CheckConstraint(sql_in("status", TRANSFER_STATUSES), name="status_known"),
        sa.CheckConstraint("from_chapter_id <> to_chapter_id", name="different_chapters"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    from_chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"))
    to_chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"))
    #: requested → approved | rejected | cancelled
    status: Mapped[str] = mapped_column(sa.String(16), default="requested")
    #: why the member moves (moved city, changed dealer …)
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: business date from which the member belongs to the new chapter
    effective_on: Mapped[date | None] = mapped_column(sa.Date)
    #: reason given for a rejection
    decision_note: Mapped[str | None] = mapped_column(sa.String(255))
