"""marshmallow schemas of the member database API (HQ) and of chapter transfers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hq.members.models import MEMBER_STATUSES, TIERS, TRANSFER_STATUSES
from hq.members.service import CONSENT_SOURCES, EXPORT_FORMATS, REPORT_GROUPS


class MemberSchema(Schema):
    """A member as HQ sees it (the ID number masked)."""

    id = fields.Integer(dump_only=True)
    member_number = fields.String(metadata={"example": "M00001234"})
    chapter_id = fields.Integer()
    owner_id = fields.Integer(allow_none=True)
    name = fields.String()
    gender = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    id_number_masked = fields.String(allow_none=True, metadata={"example": "3101**********1234"})
    birthday = fields.Date(allow_none=True)
    email = fields.String(allow_none=True)
    hobbies = fields.List(fields.String())
    joined_on = fields.Date()
    source = fields.String()
    status = fields.String()
    status_since = fields.Date()
    tier = fields.String()
    points_balance = fields.Integer()
    consent_sms = fields.Boolean()
    consent_email = fields.Boolean()
    consent_phone = fields.Boolean()
    consent_portal = fields.Boolean()
    anonymised_at = fields.DateTime(allow_none=True)


class MemberQueryArgsSchema(Schema):
    q = fields.String(load_default=None, metadata={
        "description": "mobile, ID number, member number (exact) or the start of a name"})
    chapter_id = fields.Integer(load_default=None)
    region_id = fields.Integer(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(MEMBER_STATUSES))
    tier = fields.String(load_default=None, validate=validate.OneOf(TIERS))


class StatusPeriodSchema(Schema):
    chapter_id = fields.Integer()
    chapter_name = fields.String()
    status = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True, metadata={"description": "exclusive; null while it lasts"})
    reason = fields.String()
    end_reason = fields.String(allow_none=True)


class TransferSchema(Schema):
    """A transfer as its viewer may see it (see ``hq.members.service.TransferView``)."""

    id = fields.Function(lambda v: v.transfer.id)
    status = fields.Function(lambda v: v.transfer.status,
                             metadata={"enum": list(TRANSFER_STATUSES)})
    direction = fields.String(allow_none=True, metadata={"description": "in/out for a chapter"})
    member_id = fields.Function(lambda v: v.transfer.member_id if v.disclosed else None)
    member_name = fields.String()
    member_number = fields.String(allow_none=True)
    mobile_masked = fields.String(allow_none=True)
    from_chapter_id = fields.Function(
        lambda v: v.transfer.from_chapter_id if v.disclosed else None)
    from_chapter_name = fields.String(allow_none=True)
    to_chapter_id = fields.Function(lambda v: v.transfer.to_chapter_id)
    to_chapter_name = fields.String()
    reason = fields.Function(lambda v: v.transfer.reason)
    requested_at = fields.Function(lambda v: v.transfer.created_at.isoformat())
    requested_by = fields.String(attribute="requested_by_name")
    requested_by_member = fields.Boolean()
    decided_at = fields.Function(
        lambda v: v.transfer.decided_at.isoformat() if v.transfer.decided_at else None)
    decided_by = fields.String(attribute="decided_by_name")
    effective_on = fields.Function(
        lambda v: v.transfer.effective_on.isoformat() if v.transfer.effective_on else None)
    decision_note = fields.Function(lambda v: v.transfer.decision_note)


class TransferQueryArgsSchema(Schema):
    direction = fields.String(load_default=None, validate=validate.OneOf(("in", "out")))
    status = fields.String(load_default=None, validate=validate.OneOf(TRANSFER_STATUSES))


class TransferCreateSchema(Schema):
    """The member's chapter asks for one of its members to move to another chapter."""

    member_id = fields.Integer(required=True)
    to_chapter_id = fields.Integer(required=True)
    reason = fields.String(load_default=None, validate=validate.Length(max=255))


class TransferByIdentitySchema(Schema):
    """The receiving chapter asks for a person who is a member elsewhere."""

    mobile = fields.String(load_default=None, metadata={"example": "13812345678"})
    id_number = fields.String(load_default=None)
    reason = fields.String(load_default=None, validate=validate.Length(max=255))


class TransferRejectSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=255),
                         metadata={"description": "why (required)"})


class AcceptedSchema(Schema):
    message = fields.String()


class DestinationSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class ConsentSchema(Schema):
    channel = fields.String()
    granted = fields.Boolean()
    source = fields.String()
    recorded_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ConsentUpdateSchema(Schema):
    """Consent per channel; channels left out do not change."""

    sms = fields.Boolean()
    email = fields.Boolean()
    phone = fields.Boolean()
    portal = fields.Boolean()
    source = fields.String(load_default="staff", validate=validate.OneOf(CONSENT_SOURCES))


class MemberHistorySchema(Schema):
    member = fields.Nested(MemberSchema)
    periods = fields.List(fields.Nested(StatusPeriodSchema))
    transfers = fields.List(fields.Nested(TransferSchema))
    consents = fields.List(fields.Nested(ConsentSchema))


class RevealSchema(Schema):
    id_number = fields.String(allow_none=True)


class ReportQueryArgsSchema(Schema):
    month = fields.String(load_default=None, metadata={"description": "YYYY-MM; this month if empty"})
    group = fields.String(load_default="chapter", validate=validate.OneOf(REPORT_GROUPS))
    region_id = fields.Integer(load_default=None)
    chapter_id = fields.Integer(load_default=None)


class ReportExportArgsSchema(ReportQueryArgsSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(EXPORT_FORMATS))
    encoding = fields.String(load_default="utf-8", validate=validate.OneOf(("utf-8", "gbk")))


class StatusRowSchema(Schema):
    key = fields.Integer(allow_none=True, metadata={"description": "chapter or region id"})
    code = fields.String()
    name = fields.String()
    region_code = fields.String()
    members = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_tier = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_source = fields.Dict(keys=fields.String(), values=fields.Integer())
    new = fields.Integer()
    left = fields.Integer()
    transfers_in = fields.Integer()
    transfers_out = fields.Integer()


class StatusReportSchema(Schema):
    month = fields.Function(lambda r: r.month.strftime("%Y-%m"))
    as_of = fields.Date()
    group = fields.String()
    rows = fields.List(fields.Nested(StatusRowSchema))
    total = fields.Nested(StatusRowSchema)

