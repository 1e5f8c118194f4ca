"""Organisation: regions, dealers and their club chapters (the tenants)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clubplatform.db import CreatedAtMixin
from clubplatform.extensions import db


class Region(CreatedAtMixin, db.Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short code, e.g. ``BJ`` (北京)
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    #: name in Chinese, e.g. 北京
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    #: name in English, e.g. Beijing
    name_en: Mapped[str] = mapped_column(sa.String(64))

    dealers: Mapped[list[Dealer]] = relationship(back_populates="region")

    def display_name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


class Dealer(CreatedAtMixin, db.Model):
    __tablename__ = "dealers"
    __table_args__ = (
        sa.CheckConstraint(
            "full_after_sales_until IS NULL OR (full_after_sales_since IS NOT NULL "
            "AND full_after_sales_until >= full_after_sales_since)",
            name="after_sales_period",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the brand's dealer code, unique nationwide
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: trading name
    name: Mapped[str] = mapped_column(sa.String(128))
    #: region (大区) the dealer reports to
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    #: city, e.g. 北京市
    city: Mapped[str] = mapped_column(sa.String(64), default="")
    #: date the dealer gained full after-sales function (具备完整售后功能); None if it has not
    full_after_sales_since: Mapped[date | None] = mapped_column(sa.Date)
    #: last day with full after-sales function, if it was lost
    full_after_sales_until: Mapped[date | None] = mapped_column(sa.Date)
    #: the dealer stopped trading on this date
    closed_on: Mapped[date | None] = mapped_column(sa.Date)

    region: Mapped[Region] = relationship(back_populates="dealers")
    chapter: Mapped[Chapter | None] = relationship(back_populates="dealer", uselist=False)

    @property
    def active(self) -> bool:
        return self.closed_on is None

    def has_full_after_sales(self, on: date) -> bool:
        """Whether the dealer had full after-sales function on the given date."""
        return (
            self.full_after_sales_since is not None
            and self.full_after_sales_since <= on
            and (self.full_after_sales_until is None or on <= self.full_after_sales_until)
        )


class Chapter(CreatedAtMixin, db.Model):
    """A dealer's club chapter (分会): the tenant boundary.

    At most one per dealer (unique ``dealer_id``), founded only at a dealer with full
    after-sales function on the founding date (service rule, and a database trigger
    created by the migration).
    """

    __tablename__ = "chapters"
    __table_args__ = (
        sa.CheckConstraint(
            "closed_on IS NULL OR closed_on >= founded_on", name="closed_after_founded"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the dealer whose club this is (one chapter per dealer)
    dealer_id: Mapped[int] = mapped_column(sa.ForeignKey("dealers.id"), unique=True)
    #: display name, e.g. 北京望京车友会
    name: Mapped[str] = mapped_column(sa.String(128))
    #: founding date (Asia/Shanghai business date)
    founded_on: Mapped[date] = mapped_column(sa.Date)
    #: closing date; the chapter does not count from this date on
    closed_on: Mapped[date | None] = mapped_column(sa.Date)

    dealer: Mapped[Dealer] = relationship(back_populates="chapter")

    @property
    def active(self) -> bool:
        return self.closed_on is None

    def is_open_on(self, on: date) -> bool:
        return self.founded_on <= on and (self.closed_on is None or on < self.closed_on)
