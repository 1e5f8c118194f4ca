"""marshmallow schemas of the points rules API (HQ)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hq.points.models import RULE_KINDS


class PointRuleSchema(Schema):
    """An HQ rule value and the business dates it applies."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(metadata={"enum": list(RULE_KINDS)})
    key = fields.String(metadata={"description": "visit type or tier; empty for unkeyed kinds"})
    value = fields.Integer()
    effective_from = fields.Date()
    effective_to = fields.Date(allow_none=True,
                               metadata={"description": "exclusive; null while it lasts"})
    note = fields.String(allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class PointRuleCreateSchema(Schema):
    """A new value of a rule from a future business date on."""

    kind = fields.String(required=True, validate=validate.OneOf(RULE_KINDS))
    key = fields.String(load_default="", validate=validate.Length(max=24),
                        metadata={"description": "visit type or tier; empty for unkeyed kinds"})
    value = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    effective_from = fields.Date(required=True, metadata={
        "description": "first business date it applies (tomorrow at the earliest)"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class PointRuleQueryArgsSchema(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(RULE_KINDS))
    key = fields.String(load_default=None)
    on = fields.Date(load_default=None, metadata={
        "description": "only the rules in force on this business date (default: all, with history)"})
