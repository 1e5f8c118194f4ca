"""Forms for regions, dealers and chapters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional


class RegionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=8)])
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=64)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=64)])


class DealerForm(FlaskForm):
    code = StringField(_l("Dealer code"), validators=[DataRequired(), Length(max=16)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    region_id = SelectField(_l("Region"), coerce=int, validate_choice=False)
    city = StringField(_l("City"), validators=[Optional(), Length(max=64)])
    full_after_sales_since = DateField(_l("Full after-sales since"), validators=[Optional()])
    full_after_sales_until = DateField(_l("Full after-sales until"), validators=[Optional()])
    closed_on = DateField(_l("Closed on"), validators=[Optional()])


class ChapterForm(FlaskForm):
    dealer_id = SelectField(_l("Dealer"), coerce=int, validate_choice=False)
    name = StringField(_l("Chapter name"), validators=[DataRequired(), Length(max=128)])
    founded_on = DateField(_l("Founded on"), validators=[DataRequired()])


class ChapterRenameForm(FlaskForm):
    name = StringField(_l("Chapter name"), validators=[DataRequired(), Length(max=128)])


class ChapterCloseForm(FlaskForm):
    closed_on = DateField(_l("Closed on"), validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])
