"""marshmallow schemas of the recruitment API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.recruitment.models import SOURCES, STATUSES
from hq.members.models import CHANNELS


class ApplicationSchema(Schema):
    id = fields.Integer(dump_only=True)
    owner_id = fields.Integer()
    owner_name = fields.Function(lambda a: a.owner.name if a.owner else None)
    source = fields.String(metadata={"enum": list(SOURCES)})
    event_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    applied_on = fields.Date()
    decided_on = fields.Date(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why it was rejected"})
    note = fields.String(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    member_id = fields.Integer(allow_none=True,
                               metadata={"description": "the member created on approval"})
    created_at = fields.DateTime()


class ApplicationCreateSchema(Schema):
    owner_id = fields.Integer(required=True, metadata={"description": "an owner of the chapter"})
    source = fields.String(required=True, validate=validate.OneOf(SOURCES))
    applied_on = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "business date; today when left out"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    event_id = fields.Integer(load_default=None, allow_none=True,
                              metadata={"description": "the chapter's event it came from "
                                                       "(source event)"})


class ApplicationQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    source = fields.String(load_default=None, validate=validate.OneOf(SOURCES))
    owner_id = fields.Integer(load_default=None)


class ApplicationApproveSchema(Schema):
    consents = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CHANNELS)), values=fields.Boolean(),
        load_default=dict,
        metadata={"description": "initial marketing consent per channel (sms, email, phone, "
                                 "portal)", "example": {"sms": True, "email": False}})


class ApplicationRejectSchema(Schema):
    # not required here: the service names the field when it is missing (after the
    # application was found, so that another chapter's id still answers 404)
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=255),
                           metadata={"description": "why it is rejected (required)"})


class ApplicationCountsSchema(Schema):
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_source = fields.Dict(keys=fields.String(), values=fields.Integer())
    total = fields.Integer()


class ApplicationCountsArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES),
                           metadata={"description": "count sources within this status"})
