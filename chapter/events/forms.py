"""Forms of the event pages (chapter, portal, HQ templates)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from chapter.churn.service import LOYALTIES, LOYALTY_LABELS, VALUE_LABELS, VALUES
from chapter.events.models import EVENT_TYPES
from chapter.events.service import GUESTS_MAX, SERIES_MAX, TYPE_LABELS
from clubplatform.forms import choices
from hq.members.models import TIERS

TIER_LABELS = {"silver": _l("Silver"), "gold": _l("Gold"), "platinum": _l("Platinum"),
               "diamond": _l("Diamond")}
FREQUENCY_LABELS = {"monthly": _l("Monthly"), "weekly": _l("Weekly")}
DT_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def type_choices():
    return choices([(t, TYPE_LABELS[t]) for t in EVENT_TYPES])


class EventForm(FlaskForm):
    template_id = SelectField(_l("Start from an HQ template"), validate_choice=False)
    type = SelectField(_l("Type"), validate_choice=False)
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=128)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=128)])
    description_zh = TextAreaField(_l("Description (Chinese)"),
                                   validators=[Optional(), Length(max=5000)])
    description_en = TextAreaField(_l("Description (English)"),
                                   validators=[Optional(), Length(max=5000)])
    starts_at = DateTimeLocalField(_l("Starts"), format=DT_FORMAT, validators=[Optional()])
    ends_at = DateTimeLocalField(_l("Ends"), format=DT_FORMAT, validators=[Optional()])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=255)])
    capacity = IntegerField(_l("Seats"), validators=[Optional()])
    rsvp_deadline = DateTimeLocalField(_l("RSVP deadline"), format=DT_FORMAT,
                                       validators=[Optional()],
                                       description=_l("Leave empty: until the start."))
    max_guests = IntegerField(_l("Guests per member"), default=0,
                              validators=[Optional(), NumberRange(min=0, max=GUESTS_MAX)])
    attendance_points = IntegerField(_l("Attendance points"), default=0,
                                     validators=[Optional(), NumberRange(min=0)])
    frequency = SelectField(_l("Repeat"), validate_choice=False)
    occurrences = IntegerField(_l("Number of events"), default=1,
                               validators=[Optional(), NumberRange(min=1, max=SERIES_MAX)])

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = type_choices()
        self.template_id.choices = choices([("", "—")] + [(str(t.id), t.title_zh)
                                                          for t in templates])
        self.frequency.choices = choices([("", _l("Does not repeat"))] + [
            (f, FREQUENCY_LABELS[f]) for f in ("monthly", "weekly")])

    def event_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "type", "title_zh", "title_en", "description_zh", "description_en", "starts_at",
            "ends_at", "place", "capacity", "rsvp_deadline", "max_guests", "attendance_points")}


class CancelEventForm(FlaskForm):
    reason = StringField(_l("Why is it cancelled?"), validators=[DataRequired(), Length(max=255)])


class CheckInForm(FlaskForm):
    code = StringField(_l("Registration code"), validators=[Optional(), Length(max=40)])


class WalkInForm(FlaskForm):
    member_number_or_mobile = StringField(_l("Member number or mobile"),
                                          validators=[Optional(), Length(max=20)])
    name = StringField(_l("Name (not a member)"), validators=[Optional(), Length(max=128)])
    mobile = StringField(_l("Mobile (not a member)"), validators=[Optional(), Length(max=20)])
    guests = IntegerField(_l("Guests"), default=0, validators=[Optional(), NumberRange(min=0)])


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""


class AudienceForm(FlaskForm):
    tiers = SelectMultipleField(_l("Tiers"), validate_choice=False)
    car_model = StringField(_l("Car model"), validators=[Optional(), Length(max=64)])
    hobby = StringField(_l("Hobby"), validators=[Optional(), Length(max=64)])
    joined_from = DateField(_l("Joined from"), validators=[Optional()])
    joined_to = DateField(_l("Joined until"), validators=[Optional()])
    last_visit_from = DateField(_l("Last visit from"), validators=[Optional()])
    last_visit_to = DateField(_l("Last visit until"), validators=[Optional()])
    value_segments = SelectMultipleField(_l("Value segment"), validate_choice=False)
    loyalties = SelectMultipleField(_l("Loyalty"), validate_choice=False)

    class Meta:
        csrf = False  # the count is a GET; sending posts a separate form with the token

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers.choices = choices([(t, TIER_LABELS[t]) for t in TIERS])
        self.value_segments.choices = choices([(v, VALUE_LABELS[v]) for v in VALUES])
        self.loyalties.choices = choices([(a, LOYALTY_LABELS[a]) for a in LOYALTIES])

    def filters(self) -> dict:
        return {name: (getattr(self, name).data.isoformat()
                       if hasattr(getattr(self, name).data, "isoformat")
                       else getattr(self, name).data)
                for name in ("tiers", "car_model", "hobby", "joined_from", "joined_to",
                             "last_visit_from", "last_visit_to", "value_segments", "loyalties")}


class RsvpForm(FlaskForm):
    guests = IntegerField(_l("Guests"), default=0, validators=[Optional()])


class FeedbackForm(FlaskForm):
    rating = SelectField(_l("How was it?"), validate_choice=False)
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rating.choices = choices([("5", "★★★★★"), ("4", "★★★★"), ("3", "★★★"),
                                       ("2", "★★"), ("1", "★")])


class TemplateForm(FlaskForm):
    type = SelectField(_l("Type"), validate_choice=False)
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=128)])
    title_en = StringField(_l("Title (English)"), validators=[Optional(), Length(max=128)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Optional()])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional()])
    duration_minutes = IntegerField(_l("Length (minutes)"), default=120, validators=[Optional()])
    capacity = IntegerField(_l("Seats"), default=30, validators=[Optional()])
    max_guests = IntegerField(_l("Guests per member"), default=0, validators=[Optional()])
    attendance_points = IntegerField(_l("Attendance points"), default=0, validators=[Optional()])
    published = BooleanField(_l("Published to chapters"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = type_choices()

    def template_data(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "type", "title_zh", "title_en", "description_zh", "description_en",
            "duration_minutes", "capacity", "max_guests", "attendance_points", "published")}
