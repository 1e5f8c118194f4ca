"""Organisation: regions, dealers and their club chapters (the tenants)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401  (sa.orm.Session for the flush hook)
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
    #: every period with full after-sales function (kept in step on each flush)
    after_sales_periods: Mapped[list[DealerAfterSalesPeriod]] = relationship(
        back_populates="dealer", order_by="DealerAfterSalesPeriod.valid_from",
        cascade="all, delete-orphan")

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


class DealerAfterSalesPeriod(CreatedAtMixin, db.Model):
    """A period during which a dealer had full after-sales function (history).

    The dealer row keeps the current period (``full_after_sales_since``/``_until``);
    these rows keep every period, so that "dealers with full after-sales as of date D"
    stays what it was when a dealer later loses the function or regains it.
    Written by :func:`clubplatform.org.service.save_dealer`.
    """

    __tablename__ = "dealer_after_sales_periods"
    __table_args__ = (
        sa.UniqueConstraint("dealer_id", "valid_from", name="uq_dealer_after_sales_periods_start"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(sa.ForeignKey("dealers.id"), index=True)
    #: first business date with full after-sales function
    valid_from: Mapped[date] = mapped_column(sa.Date)
    #: first business date without it (exclusive); None while it lasts
    valid_to: Mapped[date | None] = mapped_column(sa.Date)

    dealer: Mapped[Dealer] = relationship(back_populates="after_sales_periods")


def _old_value(dealer: Dealer, attr: str):
    hist = sa.inspect(dealer).attrs[attr].history
    if hist.deleted:
        return hist.deleted[0]
    return hist.unchanged[0] if hist.unchanged else getattr(dealer, attr)


def record_after_sales_history(dealer: Dealer, old_since: date | None,
                               old_until: date | None) -> None:
    """Keep the dealer's :class:`DealerAfterSalesPeriod` rows in step with its dates.

    A start after the end of the old period is a regain: the old period stays and a new
    one begins. Any other change corrects (or ends) the current period; clearing the
    start removes it (the dealer never had the function).
    """
    since, until = dealer.full_after_sales_since, dealer.full_after_sales_until
    valid_to = until + timedelta(days=1) if until else None
    periods = dealer.after_sales_periods
    current = next((p for p in periods if p.valid_from == old_since), None)
    if since is None:
        if current is not None:
            periods.remove(current)
        return
    regained = old_until is not None and old_since is not None and since > old_until
    if current is None or regained:
        if not any(p.valid_from == since for p in periods):
            periods.append(DealerAfterSalesPeriod(valid_from=since, valid_to=valid_to))
        return
    current.valid_from, current.valid_to = since, valid_to


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _after_sales_history(session, flush_context, instances) -> None:
    """Every new dealer or change of its after-sales dates writes the history (any path)."""
    with session.no_autoflush:
        for obj in list(session.new) + list(session.dirty):
            if not isinstance(obj, Dealer):
                continue
            if obj in session.new:
                if obj.full_after_sales_since is not None:
                    record_after_sales_history(obj, None, None)
                continue
            state = sa.inspect(obj)
            if not (state.attrs.full_after_sales_since.history.has_changes()
                    or state.attrs.full_after_sales_until.history.has_changes()):
                continue
            record_after_sales_history(obj, _old_value(obj, "full_after_sales_since"),
                                       _old_value(obj, "full_after_sales_until"))
