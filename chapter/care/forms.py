"""Forms of the care pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from chapter.care.models import CHANNELS, OUTCOMES
from clubplatform.forms import choices

OUTCOME_LABELS = {
    "reached": _l("Reached"),
    "no_answer": _l("No answer"),
    "wrong_number": _l("Wrong number"),
    "appointment_booked": _l("Appointment booked"),
    "complaint_raised": _l("Complaint raised"),
}
CHANNEL_LABELS = {"phone": _l("Phone"), "sms": _l("SMS"), "email": _l("E-mail"),
                  "visit": _l("Visit")}
STATUS_LABELS = {"queued": _l("Queued"), "claimed": _l("Sending"), "sent": _l("Sent"),
                 "failed": _l("Failed"), "skipped": _l("Skipped")}


class OutcomeForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=choices([(o, OUTCOME_LABELS[o]) for o in OUTCOMES]),
                          validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    score = SelectField(_l("Satisfaction with the visit"), validators=[Optional()],
                        choices=choices([("", "—")] + [(str(i), f"{i} ★") for i in range(5, 0, -1)]))
    comment = TextAreaField(_l("Owner's comment"), validators=[Optional(), Length(max=1000)])


class RescheduleForm(FlaskForm):
    scheduled_on = DateField(_l("New date"), validators=[DataRequired()])


class ReassignForm(FlaskForm):
    assignee_id = SelectField(_l("Advisor"), coerce=int, validate_choice=False)


class RuleForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    kind = SelectField(_l("Kind"), validate_choice=False)
    channel = SelectField(_l("Suggested channel"),
                          choices=choices([(c, CHANNEL_LABELS[c]) for c in CHANNELS]))
    days = IntegerField(_l("Days (before expiry / since the last visit / between VIP contacts)"),
                        validators=[Optional(), NumberRange(min=1, max=730)])
    label = StringField(_l("Label"), validators=[Optional(), Length(max=128)])
    active = BooleanField(_l("Active"), default=True)
