"""Membership applications: an owner applies, the chapter approves or rejects."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.owners.models import Owner
from clubplatform.db import CreatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped

SOURCES = ("showroom", "service_visit", "event", "referral", "online", "import")
PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
STATUSES = (PENDING, APPROVED, REJECTED, WITHDRAWN)


class Application(TenantScoped, CreatedAtMixin, db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        sa.ForeignKeyConstraint(["chapter_id", "owner_id"], ["owners.chapter_id", "owners.id"],
                                name="fk_applications_owner"),
        # one open application per owner
        sa.Index("uq_applications_chapter_owner_pending", "chapter_id", "owner_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"),
                 postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_applications_chapter_status", "chapter_id", "status", "applied_on"),
        sa.Index("ix_applications_chapter_decided", "chapter_id", "decided_on"),
        sa.CheckConstraint(sql_in("source", SOURCES), name="source_known"),
        sa.CheckConstraint(sql_in("status", STATUSES), name="status_known"),
        sa.CheckConstraint("status = 'pending' OR decided_on IS NOT NULL", name="decided_has_date"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: the applying owner (same chapter)
    owner_id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    #: where the application came from: one of :data:`SOURCES`
    source: Mapped[str] = mapped_column(sa.String(16))
    #: the event it came from, when ``source`` is ``event``
    event_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: pending → approved | rejected | withdrawn
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    #: business date of the application (Asia/Shanghai); pending from this date
    applied_on: Mapped[date] = mapped_column(sa.Date)
    #: business date of the decision; pending until the day before
    decided_on: Mapped[date | None] = mapped_column(sa.Date)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: staff user who decided
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: reason given for a rejection
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    #: staff user who registered it; None when the owner applied in the portal
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: the member created on approval
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    #: notes from the application form
    note: Mapped[str | None] = mapped_column(sa.String(500))

    owner: Mapped[Owner] = relationship(
        primaryjoin="and_(Owner.chapter_id == foreign(Application.chapter_id), "
                    "Owner.id == foreign(Application.owner_id))",
    )
