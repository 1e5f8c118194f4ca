"""Forms of the chapter's lead pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from chapter.referrals.models import GRADES, LEAD_STATUSES
from clubplatform.forms import choices

GRADE_LABELS = {
    "H": _l("H — buys within 7 days"),
    "A": _l("A — within 15 days"),
    "B": _l("B — within 30 days"),
    "C": _l("C — later"),
}
STATUS_LABELS = {"open": _l("Following up"), "lost": _l("Lost"), "purchased": _l("Purchased")}


def grade_choices(blank=None):
    pairs = [(g, GRADE_LABELS[g]) for g in GRADES]
    return choices(([("", blank)] if blank is not None else []) + pairs)


class LeadForm(FlaskForm):
    friend_name = StringField(_l("Friend's name"), validators=[DataRequired(), Length(max=128)])
    friend_mobile = StringField(_l("Friend's mobile"), validators=[DataRequired(), Length(max=20)])
    model = StringField(_l("Model of interest"), validators=[Optional(), Length(max=64)])
    referrer_member_number = StringField(
        _l("Referring member's number"), validators=[Optional(), Length(max=16)],
        description=_l("Leave empty for a walk-in."))
    grade = SelectField(_l("Grade"), validate_choice=False)
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])
    note = TextAreaField(_l("First contact note"), validators=[Optional(), Length(max=1000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.grade.choices = grade_choices()
        if not self.grade.data:
            self.grade.data = "C"


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Follow-up note"), validators=[DataRequired(), Length(max=1000)])
    grade = SelectField(_l("Grade after this contact"), validate_choice=False)
    next_follow_up_on = DateField(_l("Next follow-up"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.grade.choices = grade_choices(_l("Unchanged"))


class LostForm(FlaskForm):
    reason = StringField(_l("Why was the lead lost?"), validators=[DataRequired(), Length(max=255)])


class PurchaseForm(FlaskForm):
    vin = StringField(_l("VIN of the car bought"), validators=[DataRequired(), Length(max=24)])
    purchased_on = DateField(_l("Purchase date"), validators=[DataRequired()])


def status_choices():
    return choices([("", _l("All"))] + [(s, STATUS_LABELS[s]) for s in LEAD_STATUSES])
