"""marshmallow schemas of the organisation API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class RegionSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=2, max=8),
                         metadata={"example": "BJ"})
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=64),
                            metadata={"example": "北京"})
    name_en = fields.String(load_default="", validate=validate.Length(max=64),
                            metadata={"example": "Beijing"})


class DealerSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"example": "BJ-001"})
    name = fields.String()
    region_id = fields.Integer()
    region_code = fields.Function(lambda d: d.region.code)
    city = fields.String()
    full_after_sales_since = fields.Date(allow_none=True)
    full_after_sales_until = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    chapter_id = fields.Function(lambda d: d.chapter.id if d.chapter else None)


class DealerCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=16))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    region_id = fields.Integer(required=True)
    city = fields.String(load_default="", validate=validate.Length(max=64))
    full_after_sales_since = fields.Date(load_default=None, allow_none=True)
    full_after_sales_until = fields.Date(load_default=None, allow_none=True)
    closed_on = fields.Date(load_default=None, allow_none=True)


class DealerUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    region_id = fields.Integer()
    city = fields.String(validate=validate.Length(max=64))
    full_after_sales_since = fields.Date(allow_none=True)
    full_after_sales_until = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class DealerQueryArgsSchema(Schema):
    q = fields.String(load_default=None, metadata={"description": "code, name or city contains"})
    region_id = fields.Integer(load_default=None)
    has_chapter = fields.Boolean(load_default=None)


class ChapterSchema(Schema):
    id = fields.Integer(dump_only=True)
    dealer_id = fields.Integer()
    dealer_code = fields.Function(lambda c: c.dealer.code)
    region_code = fields.Function(lambda c: c.dealer.region.code)
    name = fields.String()
    founded_on = fields.Date()
    closed_on = fields.Date(allow_none=True)


class ChapterCreateSchema(Schema):
    dealer_id = fields.Integer(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    founded_on = fields.Date(required=True)


class ChapterUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    closed_on = fields.Date(metadata={"description": "close the chapter from this date"})


class ChapterQueryArgsSchema(Schema):
    q = fields.String(load_default=None)
    region_id = fields.Integer(load_default=None)
    active = fields.Boolean(load_default=None)
