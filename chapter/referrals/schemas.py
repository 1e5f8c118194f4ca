"""marshmallow schemas of the leads API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.referrals.models import GRADES, LEAD_STATUSES


class LeadSchema(Schema):
    id = fields.Integer(dump_only=True)
    friend_name = fields.String()
    friend_mobile = fields.String()
    model = fields.String(allow_none=True)
    grade = fields.String(metadata={"description": "H within 7 days, A 15, B 30, C later"})
    next_follow_up_on = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "open, lost or purchased"})
    lost_reason = fields.String(allow_none=True)
    purchased_vin = fields.String(allow_none=True)
    purchased_on = fields.Date(allow_none=True)
    referrer_member_id = fields.Integer(allow_none=True)
    assigned_to_id = fields.Integer(allow_none=True)
    reward_recorded_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class LeadCreateSchema(Schema):
    friend_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    friend_mobile = fields.String(required=True, validate=validate.Length(min=1, max=20),
                                  metadata={"example": "13800138000"})
    model = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    grade = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GRADES))
    next_follow_up_on = fields.Date(load_default=None, allow_none=True,
                                    metadata={"description": "default: from the grade"})
    referrer_member_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=16),
        metadata={"description": "the referring member; empty for a walk-in"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class LeadUpdateSchema(Schema):
    grade = fields.String(validate=validate.OneOf(GRADES))
    next_follow_up_on = fields.Date(allow_none=True)
    model = fields.String(allow_none=True, validate=validate.Length(max=64))
    assigned_to_id = fields.Integer(allow_none=True)


class LeadQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(LEAD_STATUSES))
    grade = fields.String(load_default=None, validate=validate.OneOf(GRADES))
    q = fields.String(load_default=None, metadata={"description": "name or mobile starts with"})


class LeadNoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    note = fields.String()
    grade = fields.String(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class LeadNoteCreateSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    grade = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(GRADES))
    next_follow_up_on = fields.Date(load_default=None, allow_none=True)


class LeadLostSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class LeadPurchaseSchema(Schema):
    vin = fields.String(required=True, validate=validate.Length(min=1, max=24))
    purchased_on = fields.Date(required=True)


class LeadPurchasesMonthSchema(Schema):
    month = fields.String(attribute="label", metadata={"example": "2026-05"})
    count = fields.Integer()


class LeadPurchasesQueryArgsSchema(Schema):
    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=60))
