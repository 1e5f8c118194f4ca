"""marshmallow schemas of the complaints API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.complaints.models import CAUSES, CHANNELS, GOODWILL_KINDS, SEVERITIES, STATUSES

_CALLBACK = {"description": "promised call-back time, ISO 8601; without an offset it is "
                            "Asia/Shanghai time; not in the past",
             "example": "2026-05-01T15:30:00+08:00"}


class ComplaintSchema(Schema):
    id = fields.Integer(dump_only=True)
    owner_id = fields.Integer()
    vehicle_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    channel = fields.String(metadata={"description": ", ".join(CHANNELS)})
    cause = fields.String(metadata={"description": ", ".join(CAUSES)})
    severity = fields.String()
    description = fields.String()
    raised_by = fields.String(metadata={"description": "staff, member (portal) or hq (hotline)"})
    status = fields.String(metadata={"description": "open or closed"})
    received_at = fields.DateTime()
    received_on = fields.Date()
    acknowledged_at = fields.DateTime(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    callback_due_at = fields.DateTime(allow_none=True)
    escalated_at = fields.DateTime(allow_none=True)
    escalation_reason = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)
    goodwill_kind = fields.String()
    goodwill_points = fields.Integer()
    goodwill_reason = fields.String(allow_none=True)
    voucher_note = fields.String(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    reopen_count = fields.Integer()


class PortalComplaintSchema(Schema):
    """What the owner sees of their complaint."""

    id = fields.Integer(dump_only=True)
    vehicle_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    cause = fields.String()
    description = fields.String()
    status = fields.String()
    received_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    callback_due_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)
    goodwill_kind = fields.String()
    goodwill_points = fields.Integer()
    voucher_note = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class ComplaintCreateSchema(Schema):
    owner_id = fields.Integer(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    cause = fields.String(required=True, validate=validate.OneOf(CAUSES))
    severity = fields.String(load_default="medium", validate=validate.OneOf(SEVERITIES))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    vehicle_id = fields.Integer(load_default=None, allow_none=True)
    visit_id = fields.Integer(load_default=None, allow_none=True,
                              metadata={"description": "a service visit of this chapter's owner"})
    assignee_id = fields.Integer(load_default=None, allow_none=True,
                                 metadata={"description": "default: the caller"})
    callback_due_at = fields.String(required=True, metadata=_CALLBACK)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class PortalComplaintCreateSchema(Schema):
    cause = fields.String(required=True, validate=validate.OneOf(CAUSES))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    vehicle_id = fields.Integer(load_default=None, allow_none=True)
    visit_id = fields.Integer(load_default=None, allow_none=True)


class HotlineComplaintCreateSchema(Schema):
    member_number = fields.String(load_default=None, allow_none=True,
                                  metadata={"description": "the caller's member number"})
    mobile = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "or the caller's mobile"})
    cause = fields.String(required=True, validate=validate.OneOf(CAUSES))
    severity = fields.String(load_default="medium", validate=validate.OneOf(SEVERITIES))
    description = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    vehicle_id = fields.Integer(load_default=None, allow_none=True)
    visit_id = fields.Integer(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ComplaintUpdateSchema(Schema):
    assignee_id = fields.Integer(allow_none=True)
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    callback_due_at = fields.String(allow_none=True, metadata=_CALLBACK)


class ComplaintAcknowledgeSchema(Schema):
    assignee_id = fields.Integer(load_default=None, allow_none=True)
    callback_due_at = fields.String(required=True, metadata=_CALLBACK)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ComplaintCloseSchema(Schema):
    resolution = fields.String(load_default="", metadata={"description": "required"})
    goodwill_kind = fields.String(load_default="none", validate=validate.OneOf(GOODWILL_KINDS))
    goodwill_points = fields.Integer(load_default=0)
    goodwill_reason = fields.String(load_default=None, allow_none=True)
    voucher_note = fields.String(load_default=None, allow_none=True)
    satisfaction = fields.Integer(load_default=None, allow_none=True)


class ComplaintReopenSchema(Schema):
    reason = fields.String(load_default="")


class ComplaintQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    escalated = fields.Boolean(load_default=None)
    assignee_id = fields.Integer(load_default=None)
    owner_id = fields.Integer(load_default=None)
    cause = fields.String(load_default=None, validate=validate.OneOf(CAUSES))


class ComplaintContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String()
    note = fields.String(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    visible_to_owner = fields.Boolean()
    created_at = fields.DateTime()


class ComplaintContactCreateSchema(Schema):
    note = fields.String(load_default="")
    callback_due_at = fields.String(load_default=None, allow_none=True,
                                    metadata={"description": "the next promised call-back, if any"})
    visible_to_owner = fields.Boolean(load_default=True)


class ComplaintLimitsSchema(Schema):
    open_limit_days = fields.Integer()
    goodwill_limit_points = fields.Integer()


class ComplaintLimitsUpdateSchema(Schema):
    open_limit_days = fields.Integer()
    goodwill_limit_points = fields.Integer()


class ComplaintFigureRowSchema(Schema):
    key = fields.String()
    label = fields.String()
    total = fields.Integer()
    open = fields.Integer()
    closed = fields.Integer()
    escalated = fields.Integer()
    reopened = fields.Integer()
    reopen_rate = fields.Float(allow_none=True)
    causes = fields.Dict(keys=fields.String(), values=fields.Integer())
    avg_ack_hours = fields.Float(allow_none=True)
    avg_close_hours = fields.Float(allow_none=True)
    avg_satisfaction = fields.Float(allow_none=True)
    rated = fields.Integer()


class ComplaintFiguresSchema(Schema):
    group = fields.String()
    start = fields.Date()
    end = fields.Date()
    rows = fields.List(fields.Nested(ComplaintFigureRowSchema))
    totals = fields.Nested(ComplaintFigureRowSchema, allow_none=True)


class ComplaintFiguresQueryArgsSchema(Schema):
    group = fields.String(load_default="chapter", validate=validate.OneOf(("chapter", "region", "month")))
    start = fields.Date(load_default=None)
    end = fields.Date(load_default=None)
    region_id = fields.Integer(load_default=None)


class ServiceSatisfactionRowSchema(Schema):
    key = fields.String()
    label = fields.String()
    responses = fields.Integer()
    average = fields.Float(allow_none=True)
    low = fields.Integer(metadata={"description": "scores of 1 or 2"})
