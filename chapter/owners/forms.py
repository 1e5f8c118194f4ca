"""Forms of the owner pages.

They check only what a browser sends (lengths, dates that parse); the service checks
the rules and its field errors are shown next to the fields (show_domain_error).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from chapter.owners.service import GENDER_LABELS, OWNER_KIND_LABELS, VISIT_TYPE_LABELS
from clubplatform.forms import choices


def _int_or_none(value):
    if value in (None, "", "0", 0):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class OwnerForm(FlaskForm):
    kind = SelectField(_l("Kind"), validate_choice=False)
    name = StringField(_l("Name"), validators=[Length(max=128)])
    gender = SelectField(_l("Gender"), validate_choice=False)
    mobile = StringField(_l("Mobile"), validators=[Length(max=32)])
    id_number = StringField(_l("ID number"), validators=[Length(max=32)])
    birthday = DateField(_l("Birthday"), validators=[Optional()])
    occupation = StringField(_l("Occupation"), validators=[Length(max=64)])
    address = StringField(_l("Home address"), validators=[Length(max=255)])
    postal_code = StringField(_l("Postal code"), validators=[Length(max=16)])
    work_address = StringField(_l("Work address"), validators=[Length(max=255)])
    email = StringField(_l("E-mail"), validators=[Length(max=254)])
    hobbies = StringField(_l("Hobbies and interests"), validators=[Length(max=500)])
    advisor_id = SelectField(_l("Advisor"), coerce=_int_or_none, validate_choice=False)
    is_vip = BooleanField(_l("VIP"))

    def __init__(self, *args, advisors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices([(k, str(v)) for k, v in OWNER_KIND_LABELS.items()])
        self.gender.choices = choices([("", "—")] + [(k, str(v)) for k, v in GENDER_LABELS.items()])
        self.advisor_id.choices = choices(
            [(0, _l("No advisor"))]
            + [(a.id, a.name if a.active else _l("%(name)s (deactivated)", name=a.name))
               for a in advisors])

    def values(self, owner=None) -> dict:
        """What the service gets.

        On an edit (``owner``), an empty ID number keeps the one on record, and a new
        ID number replaces the birthday and gender the form still shows from the old one.
        """
        data = {name: getattr(self, name).data for name in (
            "kind", "name", "gender", "mobile", "id_number", "birthday", "occupation",
            "address", "postal_code", "work_address", "email", "hobbies", "advisor_id",
            "is_vip")}
        if owner is not None:
            if not (data["id_number"] or "").strip():
                del data["id_number"]
            else:
                for name in ("birthday", "gender"):
                    if (data[name] or None) == getattr(owner, name):
                        del data[name]
        return data


class VehicleForm(FlaskForm):
    vin = StringField(_l("VIN"), validators=[Length(max=32)])
    plate = StringField(_l("Plate"), validators=[Length(max=32)])
    model = StringField(_l("Model"), validators=[Length(max=64)])
    colour = StringField(_l("Colour"), validators=[Length(max=32)])
    purchase_date = DateField(_l("Purchase date"), validators=[Optional()])
    delivery_date = DateField(_l("Delivery date"), validators=[Optional()])
    insurance_expiry = DateField(_l("Insurance expiry"), validators=[Optional()])
    next_inspection_on = DateField(_l("Next inspection"), validators=[Optional()])
    mileage_km = IntegerField(_l("Mileage (km)"), validators=[Optional()])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "vin", "plate", "model", "colour", "purchase_date", "delivery_date",
            "insurance_expiry", "next_inspection_on", "mileage_km")}


class VisitForm(FlaskForm):
    order_no = StringField(_l("Work-order number"), validators=[Length(max=32)])
    visit_date = DateField(_l("Visit date"), validators=[Optional()])
    visit_type = SelectField(_l("Type"), validate_choice=False)
    amount = StringField(_l("Amount (yuan)"), validators=[Length(max=20)])
    mileage_km = IntegerField(_l("Mileage (km)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.visit_type.choices = choices(
            [("", "—")] + [(k, str(v)) for k, v in VISIT_TYPE_LABELS.items()])

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "order_no", "visit_date", "visit_type", "amount", "mileage_km")}


class ReassignForm(FlaskForm):
    from_user_id = SelectField(_l("Leaving advisor"), coerce=_int_or_none,
                               validate_choice=False, validators=[DataRequired()])
    to_user_id = SelectField(_l("New advisor"), coerce=_int_or_none, validate_choice=False,
                             validators=[DataRequired()])
    scope = RadioField(_l("Owners to move"), default="all", validate_choice=False)
    owner_ids = SelectMultipleField(_l("Owners"), coerce=int, validate_choice=False)

    def __init__(self, *args, advisors=(), **kwargs):
        super().__init__(*args, **kwargs)
        people = [(a.id, ngettext("%(name)s (%(num)d owner)", "%(name)s (%(num)d owners)",
                                  a.owners, name=a.name) if a.active
                   else ngettext("%(name)s (deactivated, %(num)d owner)",
                                 "%(name)s (deactivated, %(num)d owners)", a.owners, name=a.name))
                  for a in advisors]
        self.from_user_id.choices = choices([(0, "—")] + people)
        self.to_user_id.choices = choices(
            [(0, "—")] + [p for p, a in zip(people, advisors, strict=True) if a.active])
        self.scope.choices = choices([("all", _l("All owners of this advisor")),
                                      ("selected", _l("Only the owners ticked below"))])
