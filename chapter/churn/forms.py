"""HQ's churn settings form (the service validates the values and names the field)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField

from chapter.churn.service import DEFAULTS, SETTING_LABELS


class SettingsForm(FlaskForm):
    """One text box per cut-off; blank restores the default."""

    d_share_pct = StringField(SETTING_LABELS["d_share_pct"])
    g_share_pct = StringField(SETTING_LABELS["g_share_pct"])
    lost_months = StringField(SETTING_LABELS["lost_months"])
    service_interval_months = StringField(SETTING_LABELS["service_interval_months"])

    def data_dict(self) -> dict:
        return {k: getattr(self, k).data for k in DEFAULTS}


class SnapshotForm(FlaskForm):
    """Compute a month's snapshots (``YYYY-MM``)."""

    month = StringField()
