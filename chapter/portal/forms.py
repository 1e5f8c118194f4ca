"""Forms of the member portal (phone-first: few fields, the right keyboards)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

CHANNEL_LABELS = {
    "sms": _l("Text messages (SMS)"),
    "email": _l("E-mail"),
    "phone": _l("Phone calls"),
    "portal": _l("Messages in the member portal"),
}


def chapter_choices(rows, blank) -> list:
    """Chapters grouped by region, labelled with their city: ``(chapter, region, city)`` rows."""
    from flask_babel import get_locale

    english = str(get_locale() or "").startswith("en")
    out = [SelectChoice("", blank)]
    for chapter, region, city in rows:
        group = region.name_en if english else region.name_zh
        out.append(SelectChoice(str(chapter.id), f"{city} · {chapter.name}" if city else chapter.name,
                                optgroup=group))
    return out


class SignupForm(FlaskForm):
    chapter_id = SelectField(_l("Your chapter"), validators=[DataRequired()], validate_choice=False)
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=128)])
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    id_number = StringField(_l("ID number (optional)"), validators=[Optional(), Length(max=24)])


class ProfileForm(FlaskForm):
    mobile = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=20)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=6)])
    occupation = StringField(_l("Occupation"), validators=[Optional(), Length(max=64)])
    hobbies = StringField(_l("Hobbies"), validators=[Optional(), Length(max=500)],
                          description=_l("Separate them with commas, e.g. 自驾游, 摄影"))


class ConsentForm(FlaskForm):
    sms = BooleanField(CHANNEL_LABELS["sms"])
    email = BooleanField(CHANNEL_LABELS["email"])
    phone = BooleanField(CHANNEL_LABELS["phone"])
    portal = BooleanField(CHANNEL_LABELS["portal"])


class TransferForm(FlaskForm):
    to_chapter_id = SelectField(_l("Move to chapter"), validators=[DataRequired()],
                                validate_choice=False)
    reason = TextAreaField(_l("Why do you move?"), validators=[DataRequired(), Length(max=255)])


class ReferralForm(FlaskForm):
    friend_name = StringField(_l("Friend's name"), validators=[DataRequired(), Length(max=128)])
    friend_mobile = StringField(_l("Friend's mobile"), validators=[DataRequired(), Length(max=20)])
    model = StringField(_l("Model they are interested in"), validators=[Optional(), Length(max=64)])
