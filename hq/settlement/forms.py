"""Forms of the settlement pages (CSRF-protected actions)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional


class ActionForm(FlaskForm):
    """A button that moves a statement on (confirm, approve)."""


class DraftForm(FlaskForm):
    month = StringField(_l("Month"), validators=[DataRequired(), Length(max=7)])


class PaymentForm(FlaskForm):
    payment_ref = StringField(_l("Payment reference"), validators=[DataRequired(), Length(max=64)])
    paid_on = DateField(_l("Paid on"), validators=[Optional()])
