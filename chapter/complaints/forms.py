"""Forms of the complaint pages (chapter, portal, HQ hotline)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from chapter.complaints.models import CAUSES, CHANNELS, SEVERITIES
from clubplatform.forms import choices

CHANNEL_LABELS = {"phone": _l("Phone"), "in_person": _l("In person"), "online": _l("Online"),
                  "hq_hotline": _l("HQ hotline")}
CAUSE_LABELS = {
    "product_quality": _l("Product quality"), "repair_quality": _l("Repair quality"),
    "staff_mistake": _l("Staff mistake"), "service_attitude": _l("Service attitude"),
    "beyond_policy": _l("Demand beyond policy"),
}
SEVERITY_LABELS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
STATUS_LABELS = {"open": _l("Being handled"), "closed": _l("Closed")}
GOODWILL_LABELS = {"none": _l("No goodwill"), "points": _l("Goodwill points"),
                   "voucher": _l("Service voucher")}
KIND_LABELS = {
    "received": _l("Received"), "acknowledged": _l("Acknowledged"), "contact": _l("Contact"),
    "promise": _l("Call-back promised"), "assigned": _l("Handed over"),
    "escalated": _l("Escalated"), "closed": _l("Closed"), "reopened": _l("Reopened"),
}
RAISED_BY_LABELS = {"staff": _l("Chapter staff"), "member": _l("Member portal"),
                    "hq": _l("HQ hotline")}
CALLBACK_FORMAT = "%Y-%m-%dT%H:%M"


def _choices(labels, keys, blank=None):
    pairs = [(k, labels[k]) for k in keys]
    return choices(([("", blank)] if blank is not None else []) + pairs)


class ComplaintForm(FlaskForm):
    channel = SelectField(_l("Channel"), validate_choice=False)
    cause = SelectField(_l("Cause"), validate_choice=False)
    severity = SelectField(_l("Severity"), validate_choice=False)
    vehicle_id = SelectField(_l("Car concerned"), validate_choice=False)
    visit_id = SelectField(_l("Service visit concerned"), validate_choice=False)
    description = TextAreaField(_l("What the owner says"),
                                validators=[DataRequired(), Length(max=4000)])
    assignee_id = SelectField(_l("Owned by"), validate_choice=False)
    callback_due_at = DateTimeLocalField(_l("Promised call-back"), format=CALLBACK_FORMAT,
                                         validators=[Optional()])
    note = TextAreaField(_l("First contact note"), validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, vehicles=(), visits=(), staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = _choices(CHANNEL_LABELS, [c for c in CHANNELS if c != "hq_hotline"])
        self.cause.choices = _choices(CAUSE_LABELS, CAUSES, _l("Choose…"))
        self.severity.choices = _choices(SEVERITY_LABELS, SEVERITIES)
        if not self.severity.data:
            self.severity.data = "medium"
        self.vehicle_id.choices = choices([("", _l("None"))] + [
            (str(v.id), f"{v.plate or ''} {v.model or ''} · {v.vin}".strip()) for v in vehicles])
        self.visit_id.choices = choices([("", _l("None"))] + [
            (str(v.id), f"{v.visit_date:%Y-%m-%d} · {v.order_no}") for v in visits])
        self.assignee_id.choices = choices([(str(k), n) for k, n in (staff or {}).items()])


class AcknowledgeForm(FlaskForm):
    assignee_id = SelectField(_l("Owned by"), validate_choice=False)
    callback_due_at = DateTimeLocalField(_l("Promised call-back"), format=CALLBACK_FORMAT,
                                         validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = choices([(str(k), n) for k, n in (staff or {}).items()])


class ContactForm(FlaskForm):
    note = TextAreaField(_l("What was said"), validators=[DataRequired(), Length(max=1000)])
    callback_due_at = DateTimeLocalField(_l("Next promised call-back"), format=CALLBACK_FORMAT,
                                         validators=[Optional()])
    visible_to_owner = BooleanField(_l("The owner may see this in the portal"), default=True)


class UpdateForm(FlaskForm):
    assignee_id = SelectField(_l("Owned by"), validate_choice=False)
    severity = SelectField(_l("Severity"), validate_choice=False)
    callback_due_at = DateTimeLocalField(_l("New promised call-back"), format=CALLBACK_FORMAT,
                                         validators=[Optional()])

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = choices([(str(k), n) for k, n in (staff or {}).items()])
        self.severity.choices = _choices(SEVERITY_LABELS, SEVERITIES)


class CloseForm(FlaskForm):
    resolution = TextAreaField(_l("Resolution"), validators=[Optional(), Length(max=4000)])
    goodwill_kind = SelectField(_l("Goodwill"), validate_choice=False)
    goodwill_points = IntegerField(_l("Goodwill points"), validators=[Optional()])
    goodwill_reason = StringField(_l("Reason for the goodwill"),
                                  validators=[Optional(), Length(max=255)])
    voucher_note = StringField(_l("Service voucher"), validators=[Optional(), Length(max=255)],
                               description=_l("e.g. a free wash and check"))
    satisfaction = SelectField(_l("Owner's satisfaction"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.goodwill_kind.choices = _choices(GOODWILL_LABELS, ("none", "points", "voucher"))
        self.satisfaction.choices = choices(
            [("", _l("Not given"))] + [(str(n), str(n)) for n in range(5, 0, -1)])


class ReopenForm(FlaskForm):
    reason = StringField(_l("Why is it reopened?"), validators=[DataRequired(), Length(max=1000)])


class LimitsForm(FlaskForm):
    open_limit_days = IntegerField(_l("Escalate a complaint open longer than (days)"),
                                   validators=[DataRequired(), NumberRange(min=1, max=365)])
    goodwill_limit_points = IntegerField(_l("Most goodwill points per complaint"),
                                         validators=[Optional(), NumberRange(min=0, max=100_000)])


class PortalComplaintForm(FlaskForm):
    cause = SelectField(_l("What is it about?"), validate_choice=False)
    vehicle_id = SelectField(_l("Car"), validate_choice=False)
    visit_id = SelectField(_l("Service visit"), validate_choice=False)
    description = TextAreaField(_l("Tell us what happened"),
                                validators=[DataRequired(), Length(max=4000)])

    def __init__(self, *args, vehicles=(), visits=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cause.choices = _choices(CAUSE_LABELS, CAUSES, _l("Choose…"))
        self.vehicle_id.choices = choices([("", _l("None"))] + [
            (str(v.id), f"{v.plate or ''} {v.model or ''}".strip() or v.vin) for v in vehicles])
        self.visit_id.choices = choices([("", _l("None"))] + [
            (str(v.id), f"{v.visit_date:%Y-%m-%d} · {v.order_no}") for v in visits])


class HotlineForm(FlaskForm):
    member_number = StringField(_l("Caller's member number"),
                                validators=[Optional(), Length(max=16)])
    mobile = StringField(_l("Or the caller's mobile"), validators=[Optional(), Length(max=20)])
    cause = SelectField(_l("Cause"), validate_choice=False)
    severity = SelectField(_l("Severity"), validate_choice=False)
    description = TextAreaField(_l("What the caller says"),
                                validators=[DataRequired(), Length(max=4000)])
    note = TextAreaField(_l("Note for the chapter"), validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cause.choices = _choices(CAUSE_LABELS, CAUSES, _l("Choose…"))
        self.severity.choices = _choices(SEVERITY_LABELS, SEVERITIES)
        if not self.severity.data:
            self.severity.data = "medium"
