"""Referrals and leads (推荐购车): a member refers a friend, the chapter follows the lead."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped

#: purchase horizon: H within 7 days, A within 15, B within 30, C later
GRADES = ("H", "A", "B", "C")
GRADE_DAYS = {"H": 7, "A": 15, "B": 30, "C": 90}
OPEN, LOST, PURCHASED = "open", "lost", "purchased"
LEAD_STATUSES = (OPEN, LOST, PURCHASED)


class Lead(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    __tablename__ = "leads"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_leads_chapter_id_id"),
        sa.UniqueConstraint("chapter_id", "purchased_vin", name="uq_leads_chapter_id_vin"),
        sa.Index("ix_leads_chapter_status_follow", "chapter_id", "status", "next_follow_up_on"),
        sa.Index("ix_leads_chapter_purchased", "chapter_id", "purchased_on"),
        sa.Index("ix_leads_referrer", "referrer_member_id"),
        sa.CheckConstraint(sql_in("grade", GRADES), name="grade_known"),
        sa.CheckConstraint(sql_in("status", LEAD_STATUSES), name="status_known"),
        sa.CheckConstraint("status <> 'purchased' OR (purchased_vin IS NOT NULL "
                           "AND purchased_on IS NOT NULL)", name="purchase_has_vin"),
        sa.CheckConstraint("status <> 'lost' OR lost_reason IS NOT NULL", name="lost_has_reason"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: the referring member (None for a lead without a referrer)
    referrer_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    friend_name: Mapped[str] = mapped_column(sa.String(128))
    friend_mobile: Mapped[str] = mapped_column(sa.String(11))
    #: model of interest
    model: Mapped[str | None] = mapped_column(sa.String(64))
    #: H/A/B/C purchase horizon
    grade: Mapped[str] = mapped_column(sa.String(1), default="C")
    #: next follow-up date
    next_follow_up_on: Mapped[date | None] = mapped_column(sa.Date)
    #: open → lost | purchased
    status: Mapped[str] = mapped_column(sa.String(16), default=OPEN)
    lost_reason: Mapped[str | None] = mapped_column(sa.String(255))
    #: VIN of the car bought: makes it a referral purchase
    purchased_vin: Mapped[str | None] = mapped_column(sa.String(17))
    #: business date of the purchase
    purchased_on: Mapped[date | None] = mapped_column(sa.Date)
    #: staff user following the lead
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: when the referral reward was handed to the points programme (idempotent hook)
    reward_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LeadNote(TenantScoped, CreatedAtMixin, db.Model):
    """A follow-up contact on a lead's timeline."""

    __tablename__ = "lead_notes"
    __table_args__ = (
        sa.ForeignKeyConstraint(["chapter_id", "lead_id"], ["leads.chapter_id", "leads.id"],
                                name="fk_lead_notes_lead"),
        sa.Index("ix_lead_notes_chapter_lead", "chapter_id", "lead_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    lead_id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.String(1000))
    #: grade after this contact
    grade: Mapped[str | None] = mapped_column(sa.String(1))
