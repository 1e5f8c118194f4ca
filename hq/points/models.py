"""Points (积分): HQ's rules, the append-only ledger, tiers, partners, perks and settlement.

- :class:`PointRule` rows are effective-dated: a past entry is explained by the rule that
  applied on its business date (``rule_id``).
- :class:`PointEntry` is the ledger: append-only, one row per earn / redeem / expire /
  adjust, signed integer points and their value in fen fixed when written. It follows
  the member (``member_id``) and keeps the chapter where it happened (``chapter_id``,
  never changed: settlement needs it). Chapter users read it through the member, whose
  row is scoped to its current chapter. ``idempotency_key`` is unique: a retried write
  is a no-op.
- :class:`SettlementLine` settles each entry exactly once (its primary key is the entry).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UpdatedAtMixin, UTCDateTime, sql_in
from clubplatform.extensions import db
from clubplatform.tenancy import TenantScoped
from hq.members.models import TIERS

BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# --- rules ------------------------------------------------------------------------------

#: what a rule sets, and the unit of its integer ``value``
RULE_KINDS = (
    "service_rate",       # key: visit type; points per CNY spent
    "attendance",         # points for attending an event
    "referral",           # points for a referral that ended in a purchase
    "birthday",           # birthday gift, points
    "join",               # join bonus, points
    "tier_multiplier",    # key: tier; percent (100 = ×1.0)
    "tier_threshold",     # key: tier; qualifying points over the last 12 months
    "expiry_months",      # earned points expire at the end of the month this many months on
    "point_value",        # fen that 100 points are worth
)
#: kinds whose ``key`` names something (a visit type or a tier); others have key ``""``
KEYED_RULE_KINDS = ("service_rate", "tier_multiplier", "tier_threshold")

# --- ledger -----------------------------------------------------------------------------

EARN, REDEEM, EXPIRE, ADJUST = "earn", "redeem", "expire", "adjust"
ENTRY_KINDS = (EARN, REDEEM, EXPIRE, ADJUST)
#: why points moved
ENTRY_REASONS = (
    "service", "attendance", "referral", "birthday", "join", "manual", "campaign",  # earn
    "dealer_service", "dealer_parts", "perk",                                       # redeem
    "expiry",                                                                       # expire
    "correction",                                                                   # adjust
)
FUNDERS = ("hq", "chapter")
VENUES = ("dealer", "partner")
#: entries a chapter's monthly statement settles (redeemed at its dealer, chapter-funded)
SETTLES_AT_CHAPTER = ("(kind = 'redeem' AND venue = 'dealer')"
                      " OR (kind IN ('earn', 'adjust') AND funder = 'chapter')")
#: entries a partner's statement settles (points spent on its perks)
SETTLES_AT_PARTNER = "kind = 'redeem' AND venue = 'partner'"


class PointRule(CreatedAtMixin, db.Model):
    """One HQ rule value, effective from a business date until the next one of its kind."""

    __tablename__ = "point_rules"
    __table_args__ = (
        sa.UniqueConstraint("kind", "key", "effective_from", name="uq_point_rules_start"),
        sa.CheckConstraint(sql_in("kind", RULE_KINDS), name="kind_known"),
        sa.CheckConstraint("value >= 0", name="value_not_negative"),
        sa.CheckConstraint("effective_to IS NULL OR effective_to > effective_from",
                           name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: one of :data:`RULE_KINDS`
    kind: Mapped[str] = mapped_column(sa.String(24))
    #: the visit type or tier it applies to, ``""`` for unkeyed kinds
    key: Mapped[str] = mapped_column(sa.String(24), default="")
    #: integer value in the kind's unit (see :data:`RULE_KINDS`)
    value: Mapped[int] = mapped_column(sa.Integer)
    #: first business date the rule applies
    effective_from: Mapped[date] = mapped_column(sa.Date)
    #: first business date it no longer applies (exclusive); None while it lasts
    effective_to: Mapped[date | None] = mapped_column(sa.Date)
    note: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


class PointEntry(CreatedAtMixin, db.Model):
    """One ledger entry. Never updated, never deleted: a correction is a new entry."""

    __tablename__ = "point_entries"
    __table_args__ = (
        sa.Index("ix_point_entries_member", "member_id", "id"),
        sa.Index("ix_point_entries_chapter_date", "chapter_id", "business_date"),
        # what a chapter's settlement reads: dealer redemptions and chapter-funded points
        sa.Index("ix_point_entries_settle", "chapter_id", "business_date", "id",
                 postgresql_where=sa.text(SETTLES_AT_CHAPTER),
                 sqlite_where=sa.text(SETTLES_AT_CHAPTER)),
        sa.Index("ix_point_entries_partner_settle", "partner_id", "business_date", "id",
                 postgresql_where=sa.text(SETTLES_AT_PARTNER),
                 sqlite_where=sa.text(SETTLES_AT_PARTNER)),
        # what a draft reads of the months a watermark covers: the entries posted since
        # (late corrections), by id (hq.settlement.service)
        sa.Index("ix_point_entries_settle_since", "chapter_id", "id",
                 postgresql_where=sa.text(SETTLES_AT_CHAPTER),
                 sqlite_where=sa.text(SETTLES_AT_CHAPTER)),
        sa.Index("ix_point_entries_partner_settle_since", "partner_id", "id",
                 postgresql_where=sa.text(SETTLES_AT_PARTNER),
                 sqlite_where=sa.text(SETTLES_AT_PARTNER)),
        sa.Index("ix_point_entries_expiry", "member_id", "expires_on",
                 postgresql_where=sa.text("expires_on IS NOT NULL"),
                 sqlite_where=sa.text("expires_on IS NOT NULL")),
        sa.CheckConstraint(sql_in("kind", ENTRY_KINDS), name="kind_known"),
        sa.CheckConstraint(sql_in("reason", ENTRY_REASONS), name="reason_known"),
        sa.CheckConstraint("funder IS NULL OR " + sql_in("funder", FUNDERS), name="funder_known"),
        sa.CheckConstraint("venue IS NULL OR " + sql_in("venue", VENUES), name="venue_known"),
        sa.CheckConstraint("points <> 0", name="points_not_zero"),
        sa.CheckConstraint(
            "(kind = 'earn' AND points > 0 AND funder IS NOT NULL AND expires_on IS NOT NULL)"
            " OR (kind = 'redeem' AND points < 0 AND venue IS NOT NULL)"
            " OR (kind = 'expire' AND points < 0)"
            " OR (kind = 'adjust' AND funder IS NOT NULL"
            "     AND (points < 0 OR expires_on IS NOT NULL))",
            name="kind_shape"),
        sa.CheckConstraint("venue <> 'partner' OR partner_id IS NOT NULL", name="partner_named"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    member_id: Mapped[int] = mapped_column(BIGID, sa.ForeignKey("members.id"))
    #: the chapter where the points were earned, redeemed or expired (never changes)
    chapter_id: Mapped[int] = mapped_column(sa.ForeignKey("chapters.id"))
    #: ``earn``, ``redeem``, ``expire`` or ``adjust``
    kind: Mapped[str] = mapped_column(sa.String(8))
    #: one of :data:`ENTRY_REASONS`
    reason: Mapped[str] = mapped_column(sa.String(16))
    #: signed points: positive for earn (and upward adjust), negative otherwise
    points: Mapped[int] = mapped_column(sa.BigInteger)
    #: the points' value in fen at the rule's point value on the business date (signed)
    value_fen: Mapped[int] = mapped_column(sa.BigInteger)
    #: who pays for earned points: ``hq`` or ``chapter``
    funder: Mapped[str | None] = mapped_column(sa.String(8))
    #: where redeemed points were spent: ``dealer`` (the chapter's) or ``partner``
    venue: Mapped[str | None] = mapped_column(sa.String(8))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partners.id"))
    #: the HQ rule that set the amount, when one did
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("point_rules.id"))
    #: business date (Asia/Shanghai) the entry belongs to
    business_date: Mapped[date] = mapped_column(sa.Date)
    #: for points added: the business date they expire at the end of
    expires_on: Mapped[date | None] = mapped_column(sa.Date)
    #: unique per logical write (e.g. ``visit:<chapter>:<id>``): a retry writes nothing
    idempotency_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    #: what it refers to (``visit:12``, ``event:3``, ``voucher:9`` …), for people
    source_ref: Mapped[str | None] = mapped_column(sa.String(64))
    #: the reason a person gave (manual award, adjust, dealer redemption)
    note: Mapped[str | None] = mapped_column(sa.String(255))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


class TierChange(CreatedAtMixin, db.Model):
    """A member's tier from a business date on (history of ``members.tier``)."""

    __tablename__ = "tier_changes"
    __table_args__ = (
        sa.UniqueConstraint("member_id", "effective_on", name="uq_tier_changes_member_day"),
        sa.CheckConstraint(sql_in("tier", TIERS), name="tier_known"),
        sa.CheckConstraint("previous_tier IS NULL OR " + sql_in("previous_tier", TIERS),
                           name="previous_tier_known"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    member_id: Mapped[int] = mapped_column(BIGID, sa.ForeignKey("members.id"))
    tier: Mapped[str] = mapped_column(sa.String(16))
    previous_tier: Mapped[str | None] = mapped_column(sa.String(16))
    effective_on: Mapped[date] = mapped_column(sa.Date)
    #: the qualifying points over the 12 months that decided it
    qualifying_points: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Campaign(TenantScoped, CreatedAtMixin, db.Model):
    """A chapter's own points campaign: bonus points on service spend, funded by the chapter."""

    __tablename__ = "point_campaigns"
    __table_args__ = (
        sa.Index("ix_point_campaigns_chapter_dates", "chapter_id", "starts_on", "ends_on"),
        sa.CheckConstraint("ends_on >= starts_on", name="period_order"),
        sa.CheckConstraint("points_per_yuan > 0", name="points_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    #: bonus points per CNY of service spend at the chapter's dealer
    points_per_yuan: Mapped[int] = mapped_column(sa.Integer)
    #: visit types it applies to (empty: all)
    visit_types: Mapped[list] = mapped_column(sa.JSON, default=list)
    starts_on: Mapped[date] = mapped_column(sa.Date)
    #: last business date included
    ends_on: Mapped[date] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


# --- partners and perks -----------------------------------------------------------------

PERK_STATUSES = ("draft", "published", "withdrawn")
VOUCHER_STATUSES = ("issued", "used", "cancelled")


class Partner(CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A merchant HQ signed (car wash, fuel, insurance, hotel, travel …)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    category: Mapped[str | None] = mapped_column(sa.String(64))
    contact: Mapped[str | None] = mapped_column(sa.String(128))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)


class PartnerUser(db.Model):
    """A ``partner`` role user works for exactly one partner."""

    __tablename__ = "partner_users"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"), index=True)


class Perk(CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A partner perk HQ publishes (会员礼遇)."""

    __tablename__ = "perks"
    __table_args__ = (
        sa.CheckConstraint(sql_in("status", PERK_STATUSES), name="status_known"),
        sa.CheckConstraint("points_cost >= 0", name="cost_not_negative"),
        sa.CheckConstraint("stock IS NULL OR taken <= stock", name="within_stock"),
        sa.CheckConstraint("per_member_limit IS NULL OR per_member_limit > 0",
                           name="limit_positive"),
        sa.CheckConstraint("valid_to >= valid_from", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(128))
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: tiers that may take it
    tiers: Mapped[list] = mapped_column(sa.JSON, default=list)
    points_cost: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: business dates it can be taken and its vouchers used (inclusive)
    valid_from: Mapped[date] = mapped_column(sa.Date)
    valid_to: Mapped[date] = mapped_column(sa.Date)
    #: vouchers that can be issued in all (None: no limit)
    stock: Mapped[int | None] = mapped_column(sa.Integer)
    #: vouchers issued so far (kept with the stock check in one UPDATE)
    taken: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: vouchers one member may take (None: no limit)
    per_member_limit: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")


class Voucher(CreatedAtMixin, db.Model):
    """A perk a member took: an unguessable single-use code the partner marks used."""

    __tablename__ = "vouchers"
    __table_args__ = (
        sa.Index("ix_vouchers_member", "member_id", "perk_id"),
        sa.Index("ix_vouchers_partner", "partner_id", "status"),
        sa.CheckConstraint(sql_in("status", VOUCHER_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BIGID, primary_key=True)
    #: what the member shows (also as a QR code)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    perk_id: Mapped[int] = mapped_column(sa.ForeignKey("perks.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"))
    member_id: Mapped[int] = mapped_column(BIGID, sa.ForeignKey("members.id"))
    #: the redeem entry that paid for it (None for a perk that costs no points)
    entry_id: Mapped[int | None] = mapped_column(BIGID, sa.ForeignKey("point_entries.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="issued")
    #: last business date it can be used
    valid_to: Mapped[date] = mapped_column(sa.Date)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))


# --- settlement -------------------------------------------------------------------------

STATEMENT_STATUSES = ("draft", "confirmed", "approved", "paid")


class ChapterStatement(TenantScoped, CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A month's points money between HQ and a chapter's dealer (积分结算).

    HQ owes the dealer the value of points redeemed at it; the dealer owes HQ the value
    of chapter-funded points it issued; ``net_fen`` = HQ owes − dealer owes.
    """

    __tablename__ = "chapter_statements"
    __table_args__ = (
        sa.UniqueConstraint("chapter_id", "month", name="uq_chapter_statements_month"),
        sa.Index("ix_chapter_statements_month", "month", "status"),
        sa.CheckConstraint(sql_in("status", STATEMENT_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: first day of the month it settles
    month: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    redeemed_points: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: value of points redeemed at the dealer (HQ owes the dealer)
    hq_owes_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    chapter_funded_points: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: value of chapter-funded points issued (the dealer owes HQ)
    dealer_owes_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    net_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: the watermark of the latest draft: every entry that settles here, dated up to the
    #: month's end, with an id up to this is settled (hq.settlement.service)
    entries_through: Mapped[int | None] = mapped_column(sa.BigInteger)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_ref: Mapped[str | None] = mapped_column(sa.String(64))


class PartnerStatement(CreatedAtMixin, UpdatedAtMixin, db.Model):
    """A month's points money HQ owes a partner for the perks it honoured."""

    __tablename__ = "partner_statements"
    __table_args__ = (
        sa.UniqueConstraint("partner_id", "month", name="uq_partner_statements_month"),
        sa.CheckConstraint(sql_in("status", STATEMENT_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id"))
    month: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    redeemed_points: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: value of points spent on the partner's perks (HQ owes the partner)
    hq_owes_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: the watermark of the latest draft: every entry that settles here, dated up to the
    #: month's end, with an id up to this is settled (hq.settlement.service)
    entries_through: Mapped[int | None] = mapped_column(sa.BigInteger)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_ref: Mapped[str | None] = mapped_column(sa.String(64))


class SettlementLine(db.Model):
    """A ledger entry settled in a statement. Its key is the entry: settled exactly once."""

    __tablename__ = "settlement_lines"
    __table_args__ = (
        sa.CheckConstraint("(chapter_statement_id IS NULL) <> (partner_statement_id IS NULL)",
                           name="one_statement"),
    )

    entry_id: Mapped[int] = mapped_column(BIGID, sa.ForeignKey("point_entries.id"),
                                          primary_key=True)
    chapter_statement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("chapter_statements.id", ondelete="CASCADE"), index=True)
    partner_statement_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partner_statements.id", ondelete="CASCADE"), index=True)
