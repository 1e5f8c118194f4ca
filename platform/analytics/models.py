"""Month-end snapshots of the figures HQ decides on (DOMAIN.md "Figures HQ decides on")."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db

CHAPTER, REGION, NATION = "chapter", "region", "nation"
LEVELS = (CHAPTER, REGION, NATION)
SOURCES = ("job", "backfill", "resnapshot")


class AnalyticsMonth(CreatedAtMixin, db.Model):
    """A month end whose figures have been snapshotted (one row per month end)."""

    __tablename__ = "analytics_months"
    __table_args__ = (
        sa.CheckConstraint(sql_in("source", SOURCES), name="source_known"),
    )

    #: the month's last day (Asia/Shanghai)
    month_end: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    #: ``job`` (monthly), ``backfill`` (from history) or ``resnapshot`` (HQ correction)
    source: Mapped[str] = mapped_column(sa.String(16))
    #: when the figures were (last) computed
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: 1 for the first snapshot, +1 for each audited re-snapshot
    revision: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: the HQ admin who asked for the last re-snapshot
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id",
                                                                  ondelete="SET NULL"))


class AnalyticsSnapshot(db.Model):
    """The figures of one chapter, one region or the nation as of a month end.

    Counts are as of the month end; rates are in basis points (1/100 of a percent),
    rounded half up, None when the denominator is 0.
    """

    __tablename__ = "analytics_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("month_end", "level", "scope_id", name="uq_analytics_snapshots_scope"),
        sa.Index("ix_analytics_snapshots_trend", "level", "scope_id", "month_end"),
        sa.CheckConstraint(sql_in("level", LEVELS), name="level_known"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    month_end: Mapped[date] = mapped_column(
        sa.ForeignKey("analytics_months.month_end", ondelete="CASCADE"))
    #: ``chapter``, ``region`` or ``nation``
    level: Mapped[str] = mapped_column(sa.String(8))
    #: the chapter's or region's id; 0 for the nation
    scope_id: Mapped[int] = mapped_column(sa.Integer)
    #: the region of the chapter (or the region itself); None for the nation
    region_id: Mapped[int | None] = mapped_column(sa.Integer)
    #: chapters open on the date
    chapters: Mapped[int] = mapped_column(sa.Integer)
    #: dealers with full after-sales function on the date
    dealers_full_after_sales: Mapped[int] = mapped_column(sa.Integer)
    #: dealer join rate = chapters / dealers with full after-sales, basis points
    join_rate_bp: Mapped[int | None] = mapped_column(sa.Integer)
    #: members on the date (active or suspended)
    members: Mapped[int] = mapped_column(sa.Integer)
    #: applications made on or before the date and not decided by it
    pending_applications: Mapped[int] = mapped_column(sa.Integer)
    #: members who joined in the month
    new_members: Mapped[int] = mapped_column(sa.Integer)
    #: individual owners who were customers of the chapter's dealer on the date
    owners: Mapped[int] = mapped_column(sa.Integer)
    #: member recruitment rate = (members + pending) / owners, basis points
    recruitment_rate_bp: Mapped[int | None] = mapped_column(sa.Integer)
    #: referrals that ended in a car purchase in the month
    referral_purchases: Mapped[int] = mapped_column(sa.Integer)
    #: the same from 1 January to the month end
    referral_purchases_ytd: Mapped[int] = mapped_column(sa.Integer)
