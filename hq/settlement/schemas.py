"""marshmallow schemas of the settlement and points report API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hq.points.models import STATEMENT_STATUSES
from hq.settlement.reports import GROUPS

MONTH = {"description": "YYYY-MM", "example": "2026-05"}


class ChapterStatementSchema(Schema):
    id = fields.Integer(dump_only=True)
    chapter_id = fields.Integer()
    month = fields.Date(metadata={"description": "first day of the month it settles"})
    status = fields.String(metadata={"description": "draft, confirmed, approved or paid"})
    redeemed_points = fields.Integer()
    hq_owes_fen = fields.Integer(metadata={"description": "value of points redeemed at the "
                                                          "dealer: HQ owes the dealer"})
    chapter_funded_points = fields.Integer()
    dealer_owes_fen = fields.Integer(metadata={"description": "value of chapter-funded points "
                                                              "issued: the dealer owes HQ"})
    net_fen = fields.Integer(metadata={"description": "HQ owes − dealer owes"})
    entry_count = fields.Integer()
    confirmed_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    payment_ref = fields.String(allow_none=True)


class PartnerStatementSchema(Schema):
    id = fields.Integer(dump_only=True)
    partner_id = fields.Integer()
    month = fields.Date()
    status = fields.String()
    redeemed_points = fields.Integer()
    hq_owes_fen = fields.Integer()
    entry_count = fields.Integer()
    confirmed_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    payment_ref = fields.String(allow_none=True)


class StatementQueryArgsSchema(Schema):
    month = fields.String(load_default=None, metadata=MONTH)
    status = fields.String(load_default=None, validate=validate.OneOf(STATEMENT_STATUSES))


class DraftSchema(Schema):
    month = fields.String(required=True, metadata=MONTH)


class DraftResultSchema(Schema):
    month = fields.Date()
    closed = fields.Boolean(metadata={"description": "the month is closed: nothing changed"})
    chapter_statements = fields.Integer()
    partner_statements = fields.Integer()
    lines = fields.Integer()


class PaymentSchema(Schema):
    payment_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))
    paid_on = fields.Date(load_default=None, allow_none=True,
                          metadata={"description": "default: today"})


class PointsReportArgsSchema(Schema):
    month = fields.String(load_default=None, metadata=MONTH)
    group = fields.String(load_default="chapter", validate=validate.OneOf(GROUPS))
    region_id = fields.Integer(load_default=None, allow_none=True)
    chapter_id = fields.Integer(load_default=None, allow_none=True,
                                metadata={"description": "HQ only; a chapter sees its own"})


class PointsRowSchema(Schema):
    key = fields.Integer(allow_none=True)
    code = fields.String()
    name = fields.String()
    issued = fields.Integer()
    redeemed = fields.Integer()
    expired = fields.Integer()
    adjusted = fields.Integer()
    issued_fen = fields.Integer()
    redeemed_fen = fields.Integer()
    expired_fen = fields.Integer()
    outstanding = fields.Integer()
    outstanding_fen = fields.Integer()


class PointsReportSchema(Schema):
    month = fields.Date()
    month_end = fields.Date()
    group = fields.String()
    rows = fields.List(fields.Nested(PointsRowSchema))
    total = fields.Nested(PointsRowSchema)
    by_month = fields.List(fields.Nested(PointsRowSchema))
