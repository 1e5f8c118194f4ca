"""marshmallow schemas of the events API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.churn.service import LOYALTIES, VALUES
from chapter.events.models import EVENT_TYPES, FREQUENCIES, REGISTRATION_STATUSES
from hq.members.models import TIERS


class _TitledSchema(Schema):
    """What an event and a template both show: id, type, and the title and description
    in both languages."""

    id = fields.Integer(dump_only=True)
    type = fields.String(metadata={"enum": list(EVENT_TYPES)})
    title_zh = fields.String()
    title_en = fields.String(allow_none=True)
    description_zh = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)


class EventSchema(_TitledSchema):
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    place = fields.String()
    capacity = fields.Integer()
    rsvp_deadline = fields.AwareDateTime()
    max_guests = fields.Integer(metadata={"description": "guests a member may bring (0: none)"})
    attendance_points = fields.Integer()
    status = fields.String(metadata={"enum": ["scheduled", "cancelled"]})
    cancel_reason = fields.String(allow_none=True)
    template_id = fields.Integer(allow_none=True)
    series_id = fields.Integer(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


def _event_fields(required: bool) -> dict:
    req = {"required": True} if required else {}
    opt = {} if required else {}
    return {
        "type": fields.String(validate=validate.OneOf(EVENT_TYPES), **req),
        "title_zh": fields.String(validate=validate.Length(min=1, max=128), **req),
        "title_en": fields.String(allow_none=True, validate=validate.Length(max=128), **opt),
        "description_zh": fields.String(allow_none=True, validate=validate.Length(max=5000)),
        "description_en": fields.String(allow_none=True, validate=validate.Length(max=5000)),
        "starts_at": fields.DateTime(metadata={"description": "ISO 8601; without an offset: "
                                                              "Asia/Shanghai"}, **req),
        "ends_at": fields.DateTime(allow_none=True),
        "place": fields.String(validate=validate.Length(min=1, max=255), **req),
        "capacity": fields.Integer(validate=validate.Range(min=1), **req),
        "rsvp_deadline": fields.DateTime(allow_none=True,
                                         metadata={"description": "default: the start"}),
        "max_guests": fields.Integer(validate=validate.Range(min=0, max=10)),
        "attendance_points": fields.Integer(validate=validate.Range(min=0)),
    }


EventCreateSchema = Schema.from_dict({
    **_event_fields(False),
    "template_id": fields.Integer(allow_none=True, metadata={
        "description": "an HQ template: its fields fill what is left out"}),
}, name="EventCreateSchema")

EventUpdateSchema = Schema.from_dict(_event_fields(False), name="EventUpdateSchema")

EventSeriesCreateSchema = Schema.from_dict({
    **_event_fields(False),
    "template_id": fields.Integer(allow_none=True),
    "frequency": fields.String(required=True, validate=validate.OneOf(FREQUENCIES)),
    "occurrences": fields.Integer(required=True, metadata={"description": "1 to 24 events"}),
}, name="EventSeriesCreateSchema")


class EventSeriesSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    frequency = fields.String()
    occurrences = fields.Integer()
    events = fields.List(fields.Nested(EventSchema))


class EventQueryArgsSchema(Schema):
    upcoming = fields.Boolean(load_default=None, allow_none=True,
                              metadata={"description": "true: not ended yet; false: past"})
    status = fields.String(load_default=None, validate=validate.OneOf(("scheduled", "cancelled")))
    type = fields.String(load_default=None, validate=validate.OneOf(EVENT_TYPES))


class EventCancelSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class CalendarArgsSchema(Schema):
    month = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                          metadata={"example": "2026-05"})


class CalendarEventSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    title_zh = fields.String()
    title_en = fields.String(allow_none=True)
    starts_at = fields.AwareDateTime()
    status = fields.String()


class CalendarDaySchema(Schema):
    day = fields.Date()
    in_month = fields.Boolean()
    events = fields.List(fields.Nested(CalendarEventSchema))


class RegistrationSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    member_id = fields.Integer(allow_none=True)
    member_name = fields.String(allow_none=True)
    walk_in = fields.Boolean()
    walk_in_name = fields.String(allow_none=True)
    guests = fields.Integer()
    status = fields.String(metadata={"enum": list(REGISTRATION_STATUSES)})
    seq = fields.Integer(metadata={"description": "arrival order"})
    waitlist_position = fields.Integer(allow_none=True)
    promoted_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    checked_in_at = fields.AwareDateTime(allow_none=True)
    no_show = fields.Boolean()
    points_recorded_at = fields.AwareDateTime(allow_none=True)


class MyRegistrationSchema(RegistrationSchema):
    code = fields.String(metadata={"description": "check-in code (also as a QR code)"})
    display_code = fields.String()
    qr_svg = fields.String(metadata={"description": "the code as an SVG data URI"})


class RegistrationQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(REGISTRATION_STATUSES))
    q = fields.String(load_default=None, metadata={"description": "name, mobile, member "
                                                                  "number or code"})


class RsvpSchema(Schema):
    guests = fields.Integer(load_default=0)


class CheckInCodeSchema(Schema):
    code = fields.String(load_default=None, allow_none=True,
                         metadata={"example": "ABCD-EFGH-JKLM-NPQR"})


class CheckInResultSchema(Schema):
    registration = fields.Nested(RegistrationSchema)
    newly = fields.Boolean(metadata={"description": "false when already checked in"})
    points = fields.Integer(metadata={"description": "points posted now"})


class WalkInSchema(Schema):
    member_number_or_mobile = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    mobile = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    guests = fields.Integer(load_default=0)


class ClosingSchema(Schema):
    event_id = fields.Integer()
    no_shows = fields.Integer()
    points_awarded = fields.Integer()


class FeedbackCreateSchema(Schema):
    rating = fields.Integer(load_default=None, allow_none=True,
                            metadata={"description": "1 to 5"})
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class FeedbackSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    rating = fields.Integer()
    comment = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class SummarySchema(Schema):
    event_id = fields.Integer()
    invited = fields.Integer()
    registered = fields.Integer()
    waitlisted = fields.Integer()
    cancelled = fields.Integer()
    guests = fields.Integer()
    attended = fields.Integer()
    walk_ins = fields.Integer()
    no_shows = fields.Integer()
    attendance_rate = fields.Float(allow_none=True, metadata={"description": "attended ÷ "
                                                                             "registered"})
    feedback_count = fields.Integer()
    average_rating = fields.Float(allow_none=True)
    new_members = fields.Integer(metadata={"description": "applications with source event "
                                                          "naming this event"})
    seats_taken = fields.Integer()
    capacity = fields.Integer()


class AudienceSchema(Schema):
    tiers = fields.List(fields.String(validate=validate.OneOf(TIERS)), load_default=list)
    car_model = fields.String(load_default=None, allow_none=True)
    hobby = fields.String(load_default=None, allow_none=True)
    joined_from = fields.Date(load_default=None, allow_none=True)
    joined_to = fields.Date(load_default=None, allow_none=True)
    last_visit_from = fields.Date(load_default=None, allow_none=True)
    last_visit_to = fields.Date(load_default=None, allow_none=True)
    value_segments = fields.List(
        fields.String(validate=validate.OneOf(VALUES)), load_default=list,
        metadata={"description": "owners' value segment as of today (D diamond, G gold, "
                                 "S silver); members whose owner has no after-sales visit "
                                 "are in none"})
    loyalties = fields.List(
        fields.String(validate=validate.OneOf(LOYALTIES)), load_default=list,
        metadata={"description": "owners' loyalty as of today (A loyal, B swinging, C lost)"})


class AudienceCountSchema(Schema):
    matching = fields.Integer(metadata={"description": "consenting active members selected"})
    new = fields.Integer(metadata={"description": "of them, not invited yet"})


class InvitationResultSchema(Schema):
    matching = fields.Integer()
    invited = fields.Integer(metadata={"description": "newly invited now"})
    queued = fields.Integer(metadata={"description": "messages handed to the outbox"})


class TemplateSchema(_TitledSchema):
    duration_minutes = fields.Integer()
    capacity = fields.Integer()
    max_guests = fields.Integer()
    attendance_points = fields.Integer()
    published = fields.Boolean()


class TemplateWriteSchema(Schema):
    type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    title_zh = fields.String(validate=validate.Length(max=128))
    title_en = fields.String(allow_none=True, validate=validate.Length(max=128))
    description_zh = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    duration_minutes = fields.Integer()
    capacity = fields.Integer()
    max_guests = fields.Integer()
    attendance_points = fields.Integer()
    published = fields.Boolean()


class ReportArgsSchema(Schema):
    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=36))
    region = fields.String(load_default=None, allow_none=True)


class ReportRowSchema(Schema):
    month = fields.String()
    region = fields.String()
    chapter_id = fields.Integer()
    chapter = fields.String()
    events = fields.Integer()
    registered = fields.Integer()
    attended = fields.Integer()
    attendance_rate = fields.Float(allow_none=True)
    average_rating = fields.Float(allow_none=True)
    new_members = fields.Integer()
