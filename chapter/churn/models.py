"""HQ's churn settings (cut-offs), monthly matrix snapshots, and the person indexes.

The settings are platform-wide HQ rows (no chapter): one row per key that HQ has set;
a key without a row takes its default from :data:`chapter.churn.service.DEFAULTS`.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from chapter.owners.models import Owner, ServiceVisit
from clubplatform.db import UTCDateTime, utcnow
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped


class ChurnSetting(db.Model):
    """One churn cut-off HQ has set (e.g. ``lost_months`` = 12)."""

    __tablename__ = "churn_settings"

    #: setting name, one of :data:`chapter.churn.service.DEFAULTS`
    key: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    #: its value (percent or months, an integer)
    value: Mapped[int] = mapped_column(sa.Integer)
    #: when HQ last changed it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: who changed it
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


# "Also serviced at other dealers" looks the same person up among the other chapters'
# owners by mobile or ID-number digest. Without these (non-unique) person indexes that
# lookup is a scan of every owner in the country; they deliberately do not lead with
# chapter_id, because the lookup is across chapters. The owner's chapter and id are in
# the index, so a look-up reads the index alone (no owner row).
# On PostgreSQL their key column compares byte by byte (``COLLATE "C"``, revision
# 0012_person_keys: mobiles and hex digests have no language order), which makes each of
# the many probes cheaper than under the database's default collation; the look-up
# compares with :class:`clubplatform.db.bytewise` so that it reads them. (SQLAlchemy has no per-index
# collation: the revision sets it; PostgreSQL reports such an index as on the column.)
sa.Index("ix_owners_person_mobile", Owner.__table__.c.mobile, Owner.__table__.c.chapter_id,
         Owner.__table__.c.id)
sa.Index("ix_owners_person_id_digest", Owner.__table__.c.id_number_digest,
         Owner.__table__.c.chapter_id, Owner.__table__.c.id)
# The per-owner aggregate of a chapter's visits (last visit, visits and spend) reads this
# index alone: every column it needs is in it, in owner order (a covering index; the
# amount is a key column so that it works the same on SQLite).
sa.Index("ix_service_visits_churn", ServiceVisit.__table__.c.chapter_id,
         ServiceVisit.__table__.c.owner_id, ServiceVisit.__table__.c.visit_date,
         ServiceVisit.__table__.c.amount_fen)


class ChurnSnapshot(TenantScoped, db.Model):
    """One cell of a chapter's matrix at a month end, kept as computed then.

    Written by the monthly job (:mod:`chapter.churn.jobs`) for the month just ended,
    with the cut-offs in effect then; HQ's pages read these instead of ranking two
    million owners live, and a past month keeps its figures when today's data changes.
    """

    __tablename__ = "churn_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "month", "loyalty", "value",
                            name="uq_churn_snapshots_cell"),
        sa.Index("ix_churn_snapshots_month", "chapter_id", "month"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: first day of the month
    month: Mapped[date] = mapped_column(sa.Date)
    #: the date the figures are as of (the month's last day)
    as_of: Mapped[date] = mapped_column(sa.Date)
    #: A, B or C
    loyalty: Mapped[str] = mapped_column(sa.String(1))
    #: D, G or S
    value: Mapped[str] = mapped_column(sa.String(1))
    #: owners in the cell
    owners: Mapped[int] = mapped_column(sa.Integer)
    #: their spend over the value window, fen
    spend_fen: Mapped[int] = mapped_column(sa.BigInteger)
    #: the cut-offs used, e.g. {"d_share_pct": 15, ...}
    settings: Mapped[dict] = mapped_column(sa.JSON)
    #: when the job computed it
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
