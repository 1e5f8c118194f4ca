"""Forms of the analytics pages (HQ admins)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

_MONTH = Regexp(r"^\d{4}-\d{1,2}$", message=_l("Enter a month as YYYY-MM."))


class ResnapshotForm(FlaskForm):
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), _MONTH])
    reason = StringField(_l("Reason (the correction made)"),
                         validators=[DataRequired(), Length(max=255)])


class BackfillForm(FlaskForm):
    first = StringField(_l("From (YYYY-MM)"), validators=[DataRequired(), _MONTH])
    last = StringField(_l("To (YYYY-MM)"), validators=[DataRequired(), _MONTH])
