"""marshmallow schemas of the care API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.care import rules as care_rules
from chapter.care.models import CHANNELS, OUTCOMES, TASK_STATUSES


class CareTaskSchema(Schema):
    id = fields.Integer(dump_only=True)
    owner_id = fields.Integer()
    vehicle_id = fields.Integer(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    reason = fields.String(metadata={"description": "reason code, e.g. delivery_month"})
    reason_text = fields.Function(
        lambda t: care_rules.reason_text(t.reason, t.number, t.label),
        metadata={"description": "the reason in the caller's language"})
    number = fields.Integer(allow_none=True)
    due_on = fields.Date()
    scheduled_on = fields.Date()
    age_days = fields.Method("_age", metadata={"description": "days since it was due"})
    channel = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "open, done or cancelled"})
    outcome = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    source_key = fields.String()
    done_on = fields.Date(allow_none=True)

    def _age(self, task):
        from clubplatform import dates

        return (dates.today() - task.due_on).days


class CareTaskQueryArgsSchema(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(TASK_STATUSES))
    assignee_id = fields.Integer(load_default=None)
    until = fields.Date(load_default=None, metadata={"description": "planned on or before"})
    reason = fields.String(load_default=None)


class CareTaskCreateSchema(Schema):
    owner_id = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=48))
    due_on = fields.Date(required=True)
    source_key = fields.String(required=True, validate=validate.Length(min=1, max=128),
                               metadata={"description": "idempotency key of the caller"})
    assignee_id = fields.Integer(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    label = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    channel = fields.String(load_default="phone", validate=validate.OneOf(CHANNELS))


class CareTaskUpdateSchema(Schema):
    scheduled_on = fields.Date()
    assignee_id = fields.Integer()


class CareOutcomeSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    score = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 5),
                           metadata={"description": "satisfaction with the visit (3D/7D)"})
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=1000))
