"""Forms of HQ's points rule pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from clubplatform.forms import choices
from hq.points.models import RULE_KINDS
from hq.points.rules import KEY_LABELS, KIND_LABELS, all_keys


class RuleForm(FlaskForm):
    kind = SelectField(_l("Rule"), validators=[DataRequired()])
    key = SelectField(_l("Applies to"), validate_choice=False)
    value = IntegerField(_l("New value"), validators=[InputRequired(), NumberRange(min=0)])
    effective_from = DateField(_l("From"), validators=[DataRequired()],
                               description=_l("Tomorrow at the earliest."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k, KIND_LABELS[k]) for k in RULE_KINDS)
        self.key.choices = choices([("", _l("Everything (no key)"))] + [
            (key, KEY_LABELS.get(key, key)) for key in dict.fromkeys(k for _, k in all_keys() if k)])
