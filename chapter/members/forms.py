"""Forms of the member pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class StatusChangeForm(FlaskForm):
    """Suspend, reactivate or end a membership from a date, with a reason."""

    action = SelectField(_l("Change"), validators=[DataRequired()], validate_choice=False)
    on = DateField(_l("From"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=255)])
