"""A chapter's base customers (基盘客户): owners, their vehicles and service visits."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped
from clubplatform.validators import GENDERS, VISIT_TYPES

OWNER_KINDS = ("individual", "company")


class Owner(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A person or company that owns a car serviced by the chapter's dealer."""

    __tablename__ = "owners"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_owners_chapter_id_id"),
        sa.UniqueConstraint("chapter_id", "mobile", name="uq_owners_chapter_id_mobile"),
        sa.UniqueConstraint("chapter_id", "id_number_digest", name="uq_owners_chapter_id_id_digest"),
        sa.UniqueConstraint("chapter_id", "user_id", name="uq_owners_chapter_id_user_id"),
        sa.Index("ix_owners_chapter_name", "chapter_id", "name"),
        # a name search is a prefix match (LIKE '张%'): on PostgreSQL only a pattern-ops
        # (or "C"-collated) index serves it whatever the database collation is
        sa.Index("ix_owners_chapter_name_prefix", "chapter_id", "name",
                 postgresql_ops={"name": "varchar_pattern_ops"}),
        sa.Index("ix_owners_chapter_advisor", "chapter_id", "advisor_id"),
        sa.CheckConstraint(sql_in("kind", OWNER_KINDS), name="kind_known"),
        sa.CheckConstraint("gender IS NULL OR " + sql_in("gender", GENDERS), name="gender_known"),
    )

    #: the chapter (tenant) of this row; no index of its own: the composite indexes that
    #: lead with it serve every chapter lookup (one less index for the import to keep)
    chapter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chapters.id", ondelete="RESTRICT"), nullable=False)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: ``individual`` or ``company``
    kind: Mapped[str] = mapped_column(sa.String(16), default="individual")
    #: name of the person or company
    name: Mapped[str] = mapped_column(sa.String(128))
    #: ``male`` / ``female`` (individuals)
    gender: Mapped[str | None] = mapped_column(sa.String(8))
    #: 11-digit mainland mobile, normalised; unique within the chapter
    mobile: Mapped[str | None] = mapped_column(sa.String(11))
    #: national ID number, AES-GCM sealed (clubplatform.crypto)
    id_number_enc: Mapped[str | None] = mapped_column(sa.Text, info={"encrypted": True})
    #: keyed blind index of the ID number, for lookup and uniqueness
    id_number_digest: Mapped[str | None] = mapped_column(sa.String(64))
    #: masked ID number for display, e.g. ``3101**********1234``
    id_number_masked: Mapped[str | None] = mapped_column(sa.String(18))
    #: date of birth (from the ID number when given)
    birthday: Mapped[date | None] = mapped_column(sa.Date)
    occupation: Mapped[str | None] = mapped_column(sa.String(64))
    address: Mapped[str | None] = mapped_column(sa.String(255))
    postal_code: Mapped[str | None] = mapped_column(sa.String(6))
    work_address: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: hobbies and interests, e.g. ["自驾游", "摄影"]
    hobbies: Mapped[list] = mapped_column(sa.JSON, default=list)
    #: the care advisor (a staff user of the chapter)
    advisor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: VIP owners are contacted at least monthly
    is_vip: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: first delivery or first service at the dealer: a customer of the dealer from then on
    customer_since: Mapped[date | None] = mapped_column(sa.Date)
    #: set when personal fields were anonymised on request
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: the owner's portal account (an applicant or member logs in with it)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    vehicles: Mapped[list[Vehicle]] = relationship(
        back_populates="owner", order_by="Vehicle.id",
        primaryjoin="and_(Owner.chapter_id == foreign(Vehicle.chapter_id), "
                    "Owner.id == foreign(Vehicle.owner_id))",
    )


#: the person keys of an owner: ``kind`` → the owners column holding it
PERSON_KEYS = {"mobile": "mobile", "id_digest": "id_number_digest"}


class SharedPersonKey(db.Model):
    """A person key (mobile or ID-number digest) held by owners of two chapters or more.

    Platform-wide, not a chapter's row: the churn matrix reads it to know which of a
    chapter's owners may also be serviced at another dealer, and probes the owners of
    other chapters for those keys only (a few hundred of a large chapter's tens of
    thousands). Kept by triggers on ``owners`` (revision 0013), on every insert, delete
    and change of a key; :func:`chapter.owners.person_keys.repair` rebuilds it from the
    owners (nightly, and before the month-end churn snapshots), for a key written into
    two chapters by two transactions at the same moment, which neither trigger sees.
    """

    __tablename__ = "shared_person_keys"
    __table_args__ = (
        sa.CheckConstraint(sql_in("kind", tuple(PERSON_KEYS)), name="kind_known"),
    )

    #: ``mobile`` or ``id_digest``
    kind: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    #: the mobile number or the ID number's blind index, as in ``owners``
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)


class Vehicle(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    __tablename__ = "vehicles"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "id", name="uq_vehicles_chapter_id_id"),
        sa.UniqueConstraint("chapter_id", "vin", name="uq_vehicles_chapter_id_vin"),
        sa.ForeignKeyConstraint(["chapter_id", "owner_id"], ["owners.chapter_id", "owners.id"],
                                name="fk_vehicles_owner"),
        sa.Index("ix_vehicles_chapter_plate", "chapter_id", "plate"),
        sa.Index("ix_vehicles_chapter_owner", "chapter_id", "owner_id"),
        sa.Index("ix_vehicles_chapter_delivery", "chapter_id", "delivery_date"),
    )

    #: the chapter (tenant) of this row; no index of its own: the composite indexes that
    #: lead with it serve every chapter lookup (one less index for the import to keep)
    chapter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chapters.id", ondelete="RESTRICT"), nullable=False)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: the owner (same chapter)
    owner_id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    #: 17-character VIN with a valid ISO 3779 check digit
    vin: Mapped[str] = mapped_column(sa.String(17))
    #: licence plate, e.g. 京A12345
    plate: Mapped[str | None] = mapped_column(sa.String(16))
    model: Mapped[str | None] = mapped_column(sa.String(64))
    colour: Mapped[str | None] = mapped_column(sa.String(32))
    purchase_date: Mapped[date | None] = mapped_column(sa.Date)
    #: delivery date (交车日): the after-delivery care schedule counts from it
    delivery_date: Mapped[date | None] = mapped_column(sa.Date)
    #: the dealer that sold the car, if known
    selling_dealer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dealers.id"))
    insurance_expiry: Mapped[date | None] = mapped_column(sa.Date)
    next_inspection_on: Mapped[date | None] = mapped_column(sa.Date)
    #: odometer at the last visit, km
    mileage_km: Mapped[int | None] = mapped_column(sa.Integer)

    owner: Mapped[Owner] = relationship(
        back_populates="vehicles",
        primaryjoin="and_(Owner.chapter_id == foreign(Vehicle.chapter_id), "
                    "Owner.id == foreign(Vehicle.owner_id))",
    )


class ServiceVisit(TenantScoped, CreatedAtMixin, db.Model):
    """A work order (工单) at the chapter's dealer."""

    __tablename__ = "service_visits"
    __table_args__ = (
        # the target of chapter tables' composite keys (complaints, service feedback)
        sa.UniqueConstraint("chapter_id", "id", name="uq_service_visits_chapter_id_id"),
        sa.UniqueConstraint("chapter_id", "order_no", name="uq_service_visits_chapter_id_order_no"),
        sa.ForeignKeyConstraint(["chapter_id", "vehicle_id"], ["vehicles.chapter_id", "vehicles.id"],
                                name="fk_service_visits_vehicle"),
        sa.ForeignKeyConstraint(["chapter_id", "owner_id"], ["owners.chapter_id", "owners.id"],
                                name="fk_service_visits_owner"),
        sa.Index("ix_service_visits_chapter_date", "chapter_id", "visit_date"),
        sa.Index("ix_service_visits_chapter_owner_date", "chapter_id", "owner_id", "visit_date"),
        sa.CheckConstraint(sql_in("visit_type", VISIT_TYPES), name="type_known"),
        sa.CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    )

    #: the chapter (tenant) of this row; no index of its own: the composite indexes that
    #: lead with it serve every chapter lookup (one less index for the import to keep)
    chapter_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chapters.id", ondelete="RESTRICT"), nullable=False)
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True)
    #: the dealer system's work-order number: the natural key for re-imports
    order_no: Mapped[str] = mapped_column(sa.String(32))
    vehicle_id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    owner_id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    #: business date of the visit
    visit_date: Mapped[date] = mapped_column(sa.Date)
    #: one of :data:`VISIT_TYPES`
    visit_type: Mapped[str] = mapped_column(sa.String(24))
    #: amount paid, in fen (CNY/100)
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: odometer at the visit, km
    mileage_km: Mapped[int | None] = mapped_column(sa.Integer)

    vehicle: Mapped[Vehicle] = relationship(
        primaryjoin="and_(Vehicle.chapter_id == foreign(ServiceVisit.chapter_id), "
                    "Vehicle.id == foreign(ServiceVisit.vehicle_id))",
    )
