"""marshmallow schemas of the member portal API (the member's own data only)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class PortalMemberSchema(Schema):
    member_number = fields.String()
    name = fields.String()
    chapter_id = fields.Integer()
    tier = fields.String(metadata={"description": "silver, gold, platinum or diamond"})
    points_balance = fields.Integer()
    joined_on = fields.Date()
    status = fields.String()


class PortalApplicationSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "pending, approved, rejected or withdrawn"})
    applied_on = fields.Date()
    decided_on = fields.Date(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected"})


class PortalChapterSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class PortalMeSchema(Schema):
    username = fields.String()
    is_member = fields.Boolean()
    member = fields.Nested(PortalMemberSchema, allow_none=True)
    application = fields.Nested(PortalApplicationSchema, allow_none=True)
    chapter = fields.Nested(PortalChapterSchema, allow_none=True)


class PortalProfileSchema(Schema):
    name = fields.String()
    mobile = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True, metadata={"example": "3101**********1234"})
    gender = fields.String(allow_none=True)
    birthday = fields.Date(allow_none=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    hobbies = fields.List(fields.String())


class PortalProfileUpdateSchema(Schema):
    mobile = fields.String(validate=validate.Length(min=1, max=20))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    address = fields.String(allow_none=True, validate=validate.Length(max=255))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=6))
    occupation = fields.String(allow_none=True, validate=validate.Length(max=64))
    hobbies = fields.List(fields.String(validate=validate.Length(max=32)), allow_none=True)


class PortalConsentsSchema(Schema):
    sms = fields.Boolean()
    email = fields.Boolean()
    phone = fields.Boolean()
    portal = fields.Boolean()


class PortalConsentChangeSchema(Schema):
    channel = fields.String()
    granted = fields.Boolean()
    source = fields.String()
    created_at = fields.DateTime()


class PortalConsentsWithHistorySchema(Schema):
    current = fields.Nested(PortalConsentsSchema)
    history = fields.List(fields.Nested(PortalConsentChangeSchema))


class PortalReferralSchema(Schema):
    id = fields.Integer(dump_only=True)
    friend_name = fields.String()
    friend_mobile = fields.String()
    model = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "open, lost or purchased"})
    purchased = fields.Function(lambda lead: lead.status == "purchased")
    purchased_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()


class PortalReferralCreateSchema(Schema):
    friend_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    friend_mobile = fields.String(required=True, validate=validate.Length(min=1, max=20),
                                  metadata={"example": "13800138000"})
    model = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class PortalTransferSchema(Schema):
    id = fields.Integer(dump_only=True)
    from_chapter_id = fields.Integer()
    to_chapter_id = fields.Integer()
    status = fields.String(metadata={"description": "requested, approved, rejected or cancelled"})
    reason = fields.String(allow_none=True)
    effective_on = fields.Date(allow_none=True)
    decision_note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class PortalTransferCreateSchema(Schema):
    to_chapter_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))
