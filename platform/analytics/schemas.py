"""Marshmallow schemas of the analytics API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from clubplatform.analytics.models import LEVELS
from clubplatform.analytics.service import EXPORT_FORMATS, RANK_BY

MONTH = validate.Regexp(r"^\d{4}-\d{1,2}$", error="Enter a month as YYYY-MM.")


class FigureRowSchema(Schema):
    month_end = fields.Date()
    level = fields.String(metadata={"example": "region"})
    scope_id = fields.Integer(metadata={"description": "chapter or region id; 0 for the nation"})
    region_id = fields.Integer(allow_none=True)
    code = fields.String(metadata={"description": "dealer code (chapter) or region code"})
    name = fields.String()
    chapters = fields.Integer()
    dealers_full_after_sales = fields.Integer()
    join_rate_bp = fields.Integer(allow_none=True, metadata={
        "description": "chapters / dealers with full after-sales, basis points (1/100 %)"})
    members = fields.Integer()
    pending_applications = fields.Integer()
    new_members = fields.Integer()
    owners = fields.Integer(metadata={"description": "individual owners who were customers"})
    recruitment_rate_bp = fields.Integer(allow_none=True, metadata={
        "description": "(members + pending applications) / owners, basis points"})
    referral_purchases = fields.Integer()
    referral_purchases_ytd = fields.Integer()


class FiguresSchema(Schema):
    month_end = fields.Date()
    source = fields.String(metadata={"description": "snapshot or live (computed from history)"})
    revision = fields.Integer(allow_none=True)
    rows = fields.List(fields.Nested(FigureRowSchema))


class FiguresQueryArgsSchema(Schema):
    month = fields.String(load_default=None, validate=MONTH,
                          metadata={"description": "YYYY-MM; default the last complete month"})
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    region_id = fields.Integer(load_default=None)
    rank_by = fields.String(load_default="recruitment_rate_bp", validate=validate.OneOf(RANK_BY))
    live = fields.Boolean(load_default=False, metadata={
        "description": "compute from history instead of reading the snapshot"})


class TrendQueryArgsSchema(Schema):
    from_ = fields.String(data_key="from", required=True, validate=MONTH)
    to = fields.String(required=True, validate=MONTH)
    level = fields.String(load_default="nation", validate=validate.OneOf(LEVELS))
    scope_id = fields.Integer(load_default=0)


class ExportQueryArgsSchema(FiguresQueryArgsSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(EXPORT_FORMATS))


class ResnapshotSchema(Schema):
    month = fields.String(required=True, validate=MONTH, metadata={"example": "2026-05"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class SnapshotMonthSchema(Schema):
    month_end = fields.Date()
    source = fields.String()
    revision = fields.Integer()
    taken_at = fields.DateTime()
