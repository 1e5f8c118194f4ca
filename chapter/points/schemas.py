"""marshmallow schemas of the points API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from clubplatform.validators import VISIT_TYPES
from hq.points.earning import DEALER_REASONS, NOTE_MAX, POINTS_MAX
from hq.points.models import ENTRY_KINDS, ENTRY_REASONS


class PointsSummarySchema(Schema):
    member_id = fields.Integer()
    balance = fields.Integer()
    tier = fields.String(metadata={"description": "silver, gold, platinum or diamond"})
    next_expiry_on = fields.Date(allow_none=True,
                                 metadata={"description": "points expire at the end of this day"})
    next_expiry_points = fields.Integer(allow_none=True)


class PointEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": " | ".join(ENTRY_KINDS)})
    reason = fields.String(metadata={"description": " | ".join(ENTRY_REASONS)})
    points = fields.Integer(metadata={"description": "signed"})
    funder = fields.String(allow_none=True, metadata={"description": "hq or chapter (earned)"})
    venue = fields.String(allow_none=True, metadata={"description": "dealer or partner (spent)"})
    partner_id = fields.Integer(allow_none=True)
    chapter_id = fields.Integer(metadata={"description": "where it happened"})
    business_date = fields.Date()
    expires_on = fields.Date(allow_none=True)
    source_ref = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PostedEntrySchema(Schema):
    entry = fields.Nested(PointEntrySchema)
    created = fields.Boolean(metadata={"description": "false: the key was already used, "
                                                      "nothing was written"})
    balance = fields.Integer()


_KEY = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=100),
                     metadata={"description": "the same key again writes nothing (default: "
                                              "a new one per request)"})


class PointsAwardSchema(Schema):
    points = fields.Integer(required=True, validate=validate.Range(min=1, max=POINTS_MAX))
    note = fields.String(required=True, validate=validate.Length(min=1, max=NOTE_MAX),
                         metadata={"description": "the reason (required)"})
    idempotency_key = _KEY


class PointsAdjustSchema(Schema):
    points = fields.Integer(required=True,
                            validate=validate.Range(min=-POINTS_MAX, max=POINTS_MAX),
                            metadata={"description": "signed; not zero"})
    note = fields.String(required=True, validate=validate.Length(min=1, max=NOTE_MAX))
    idempotency_key = _KEY


class PointsRedeemSchema(Schema):
    points = fields.Integer(required=True, validate=validate.Range(min=1, max=POINTS_MAX))
    reason = fields.String(required=True, validate=validate.OneOf(DEALER_REASONS))
    note = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=NOTE_MAX))
    idempotency_key = _KEY


class PortalPointsSchema(PointsSummarySchema):
    recent = fields.List(fields.Nested(PointEntrySchema),
                         metadata={"description": "the latest 20 entries"})


class CampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    points_per_yuan = fields.Integer()
    visit_types = fields.List(fields.String(), metadata={"description": "empty: all"})
    starts_on = fields.Date()
    ends_on = fields.Date()
    active = fields.Boolean()
    created_at = fields.DateTime()


class CampaignCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    points_per_yuan = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))
    visit_types = fields.List(fields.String(validate=validate.OneOf(VISIT_TYPES)),
                              load_default=list)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CampaignUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=128))
    points_per_yuan = fields.Integer(validate=validate.Range(min=1, max=1000))
    visit_types = fields.List(fields.String(validate=validate.OneOf(VISIT_TYPES)))
    starts_on = fields.Date()
    ends_on = fields.Date()
    active = fields.Boolean()


class CampaignQueryArgsSchema(Schema):
    active = fields.Boolean(load_default=None, allow_none=True)
