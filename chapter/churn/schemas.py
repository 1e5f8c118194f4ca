"""marshmallow schemas of the churn API (one per direction)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.churn.service import LOYALTIES, VALUES

_MONTH = {"description": "YYYY-MM; default this month (figures as of its last day or today)",
          "example": "2026-05"}


class ChurnQueryArgsSchema(Schema):
    month = fields.String(load_default=None, metadata=_MONTH)


class ChurnOwnersQueryArgsSchema(ChurnQueryArgsSchema):
    loyalty = fields.String(load_default=None, validate=validate.OneOf(LOYALTIES),
                            metadata={"description": "A loyal, B swinging, C lost"})
    value = fields.String(load_default=None, validate=validate.OneOf(VALUES),
                          metadata={"description": "D diamond, G gold, S silver"})


class ChurnTrendQueryArgsSchema(ChurnQueryArgsSchema):
    months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=36))


class HqChurnQueryArgsSchema(Schema):
    month = fields.String(load_default=None, metadata={
        "description": "YYYY-MM; default the month just ended. An ended month is read from "
                       "the month-end snapshots; the current month is live, one region only",
        "example": "2026-05"})
    region_id = fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "per chapter of this region; without it, per region (and the nation)"})


class ChurnSettingsSchema(Schema):
    d_share_pct = fields.Integer(metadata={"description": "top share of owners by spend (D), %"})
    g_share_pct = fields.Integer(metadata={"description": "next share (G), %"})
    lost_months = fields.Integer(metadata={"description": "months without a visit: lost (C)"})
    service_interval_months = fields.Integer(
        metadata={"description": "maintenance interval: a visit within it is on schedule (A)"})


class ChurnSettingsUpdateSchema(Schema):
    """Any subset of the settings; null restores the default."""

    d_share_pct = fields.Integer(allow_none=True)
    g_share_pct = fields.Integer(allow_none=True)
    lost_months = fields.Integer(allow_none=True)
    service_interval_months = fields.Integer(allow_none=True)


class ChurnCellSchema(Schema):
    loyalty = fields.String()
    value = fields.String()
    owners = fields.Integer()
    spend_fen = fields.Integer(attribute="spend", metadata={"description": "24-month spend, fen"})
    action = fields.Function(lambda c: str(c.action))


class ChurnMatrixSchema(Schema):
    key = fields.Integer(allow_none=True, metadata={"description": "chapter or region id"})
    code = fields.String()
    name = fields.String()
    as_of = fields.Date()
    total = fields.Integer()
    cells = fields.Function(lambda m: ChurnCellSchema(many=True).dump(m.as_list()))
    settings = fields.Function(lambda m: ChurnSettingsSchema().dump(m.settings))


class HqChurnMatricesSchema(Schema):
    as_of = fields.Date()
    group = fields.String(metadata={"description": "chapter or region"})
    source = fields.String(metadata={"description": "snapshot or live"})
    chapters = fields.Integer(metadata={"description": "chapters with figures"})
    rows = fields.List(fields.Nested(ChurnMatrixSchema))
    total = fields.Nested(ChurnMatrixSchema, allow_none=True)


class ChurnOwnerSchema(Schema):
    owner_id = fields.Integer()
    name = fields.String()
    mobile = fields.String(allow_none=True)
    kind = fields.String()
    member_id = fields.Integer(allow_none=True)
    member_number = fields.String(allow_none=True)
    last_visit = fields.Date()
    visits = fields.Integer(metadata={"description": "visits in the last 24 months"})
    spend_fen = fields.Integer(attribute="spend", metadata={"description": "24-month spend, fen"})
    value = fields.String()
    loyalty = fields.String()
    r = fields.Integer()
    f = fields.Integer()
    m = fields.Integer()
    elsewhere = fields.Boolean(metadata={"description": "also serviced at another dealer"})
    open_complaint = fields.Boolean()


class ChurnTrendPointSchema(Schema):
    month = fields.Function(lambda p: p.month.strftime("%Y-%m"))
    as_of = fields.Date()
    owners = fields.Integer()
    lost = fields.Integer()
    lost_share = fields.Float(metadata={"description": "percent, one decimal"})


