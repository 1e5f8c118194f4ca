"""marshmallow schemas of the chapter's members API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.recruitment.models import SOURCES
from hq.members.models import CHANNELS, MEMBER_STATUSES, TIERS


class ChapterMemberSchema(Schema):
    id = fields.Integer(dump_only=True)
    member_number = fields.String(metadata={"example": "M00001234"})
    owner_id = fields.Integer(allow_none=True)
    name = fields.String()
    gender = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True, metadata={"example": "3101**********1234"})
    birthday = fields.Date(allow_none=True)
    email = fields.String(allow_none=True)
    joined_on = fields.Date()
    source = fields.String(metadata={"enum": list(SOURCES)})
    status = fields.String(metadata={"enum": list(MEMBER_STATUSES)})
    status_since = fields.Date()
    tier = fields.String(metadata={"enum": list(TIERS)})
    points_balance = fields.Integer()
    consents = fields.Method("get_consents", metadata={
        "description": "current consent to marketing messages per channel"})

    def get_consents(self, member) -> dict:
        return {c: bool(getattr(member, f"consent_{c}")) for c in CHANNELS}


class ChapterStatusPeriodSchema(Schema):
    status = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True, metadata={"description": "exclusive; null while it lasts"})
    reason = fields.String()
    end_reason = fields.String(allow_none=True)


class ChapterStatusChangeEntrySchema(Schema):
    at = fields.DateTime()
    on = fields.Date(allow_none=True, metadata={"description": "business date of the change"})
    old = fields.String()
    new = fields.String()
    reason = fields.String()
    by = fields.String()


class ChapterConsentRecordSchema(Schema):
    channel = fields.String()
    granted = fields.Boolean()
    source = fields.String()
    created_at = fields.DateTime()


class ChapterMemberApplicationSchema(Schema):
    id = fields.Integer()
    source = fields.String()
    applied_on = fields.Date()
    decided_on = fields.Date(allow_none=True)


class ChapterMemberDetailSchema(Schema):
    member = fields.Nested(ChapterMemberSchema)
    status_periods = fields.List(fields.Nested(ChapterStatusPeriodSchema))
    status_changes = fields.List(fields.Nested(ChapterStatusChangeEntrySchema))
    consent_history = fields.List(fields.Nested(ChapterConsentRecordSchema))
    application = fields.Nested(ChapterMemberApplicationSchema, allow_none=True)


class ChapterMemberQueryArgsSchema(Schema):
    q = fields.String(load_default=None,
                      metadata={"description": "member number, mobile (or its last digits) or "
                                               "the start of the name"})
    status = fields.String(load_default=None, validate=validate.OneOf(MEMBER_STATUSES))
    tier = fields.String(load_default=None, validate=validate.OneOf(TIERS))
    source = fields.String(load_default=None, validate=validate.OneOf(SOURCES))
    joined_month = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                                 metadata={"example": "2026-05"})


class ChapterMemberStatusChangeSchema(Schema):
    # not required here: the service names a missing field once the member was found
    # (another chapter's member still answers 404)
    status = fields.String(load_default=None, allow_none=True,
                           validate=validate.OneOf(MEMBER_STATUSES),
                           metadata={"description": "the new status: suspended, active "
                                                    "(reactivate) or left"})
    on = fields.Date(load_default=None, allow_none=True,
                     metadata={"description": "business date of the change; today when left out"})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255),
                           metadata={"description": "required when the member leaves"})
