"""Forms of the chapter's points pages."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from chapter.owners.service import VISIT_TYPE_LABELS
from chapter.points.service import DEALER_REASON_LABELS
from clubplatform.forms import choices
from clubplatform.validators import VISIT_TYPES
from hq.points.earning import NOTE_MAX, POINTS_MAX


class _Once(FlaskForm):
    """A form whose submission writes once: its token is the entry's idempotency key."""

    token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.token.data:
            self.token.data = uuid.uuid4().hex


class AwardForm(_Once):
    points = IntegerField(_l("Points"), validators=[InputRequired(),
                                                    NumberRange(min=1, max=POINTS_MAX)])
    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=NOTE_MAX)])


class AdjustForm(_Once):
    points = IntegerField(_l("Points (negative to take away)"),
                          validators=[InputRequired(), NumberRange(min=-POINTS_MAX,
                                                                   max=POINTS_MAX)])
    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=NOTE_MAX)])


class RedeemForm(_Once):
    points = IntegerField(_l("Points"), validators=[InputRequired(),
                                                    NumberRange(min=1, max=POINTS_MAX)])
    reason = SelectField(_l("Paid for"), validate_choice=False)
    note = StringField(_l("Work order or note"), validators=[Optional(), Length(max=NOTE_MAX)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason.choices = choices(list(DEALER_REASON_LABELS.items()))


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    points_per_yuan = IntegerField(_l("Bonus points per yuan"),
                                   validators=[InputRequired(), NumberRange(min=1, max=1000)])
    visit_types = SelectMultipleField(_l("Visit types"), validate_choice=False,
                                      description=_l("None chosen: every visit type."))
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit_types.choices = choices([(t, VISIT_TYPE_LABELS[t]) for t in VISIT_TYPES])
