"""Forms for login, the account page and user management."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from clubplatform.auth.models import ROLES
from clubplatform.forms import choices

ROLE_LABELS = {
    "hq_admin": _l("HQ administrator"),
    "hq_analyst": _l("HQ analyst (read-only)"),
    "chapter_manager": _l("Chapter manager"),
    "chapter_staff": _l("Chapter staff"),
    "member": _l("Member"),
    "partner": _l("Partner merchant"),
}


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    locale = SelectField(_l("Language"), choices=choices([("", _l("Follow the browser")),
                                                         ("zh_Hans_CN", "中文"), ("en", "English")]))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=64)])
    days = IntegerField(_l("Valid for (days)"), default=90,
                        validators=[DataRequired(), NumberRange(min=1, max=366)])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    chapter_id = SelectField(_l("Chapter"), coerce=int, choices=[], validate_choice=False)
    password = PasswordField(_l("Initial password"),
                             validators=[DataRequired(), Length(min=10)])


class UserEditForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices((r, ROLE_LABELS[r]) for r in ROLES))
    chapter_id = SelectField(_l("Chapter"), coerce=int, choices=[], validate_choice=False)


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10)])
