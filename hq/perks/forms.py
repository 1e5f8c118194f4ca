"""Forms of the perk pages (HQ, partner)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from clubplatform.forms import choices
from hq.members.models import TIERS
from hq.members.service import TIER_LABELS


class PartnerForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=64)],
                           description=_l("e.g. car wash, fuel, insurance, hotel, travel"))
    contact = StringField(_l("Contact"), validators=[Optional(), Length(max=128)])
    active = BooleanField(_l("Active"), default=True)


class PartnerUserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired()])


class PerkForm(FlaskForm):
    partner_id = SelectField(_l("Partner"), coerce=int, validate_choice=False)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=128)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    tiers = SelectMultipleField(_l("Tiers allowed"), widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput(), validate_choice=False)
    points_cost = IntegerField(_l("Points cost"), default=0,
                               validators=[Optional(), NumberRange(min=0)])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid until (inclusive)"), validators=[DataRequired()])
    stock = IntegerField(_l("Stock"), validators=[Optional(), NumberRange(min=0)],
                         description=_l("Empty: unlimited."))
    per_member_limit = IntegerField(_l("Limit per member"),
                                    validators=[Optional(), NumberRange(min=1)],
                                    description=_l("Empty: no limit."))

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_id.choices = choices([(p.id, f"{p.code} · {p.name}") for p in partners])
        self.tiers.choices = choices([(t, TIER_LABELS[t]) for t in TIERS])

    def values(self) -> dict:
        return {"partner_id": self.partner_id.data, "title": self.title.data,
                "description": self.description.data, "tiers": list(self.tiers.data or []),
                "points_cost": self.points_cost.data if self.points_cost.data is not None else 0,
                "valid_from": self.valid_from.data, "valid_to": self.valid_to.data,
                "stock": self.stock.data, "per_member_limit": self.per_member_limit.data}


class CheckCodeForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    code = StringField(_l("Voucher code"), validators=[DataRequired(), Length(max=40)])
