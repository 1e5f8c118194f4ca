"""Forms of the application pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class ApplicationForm(FlaskForm):
    owner_id = HiddenField(validators=[DataRequired(message=_l("Choose an owner first."))])
    source = SelectField(_l("Source"), validators=[DataRequired()], validate_choice=False)
    event_id = SelectField(_l("Event (when the source is an event)"), validate_choice=False)
    applied_on = DateField(_l("Applied on"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class ApproveForm(FlaskForm):
    """Approval, with the initial consent to marketing messages per channel."""

    consent_sms = BooleanField(_l("SMS"))
    consent_email = BooleanField(_l("E-mail"))
    consent_phone = BooleanField(_l("Phone"))
    consent_portal = BooleanField(_l("Member portal"))

    def consents(self) -> dict[str, bool]:
        """The channels ticked (only consent actually given is recorded)."""
        return {c: True for c in ("sms", "email", "phone", "portal")
                if getattr(self, f"consent_{c}").data}


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[
        DataRequired(message=_l("Give the reason for the rejection.")), Length(max=255)])
