"""marshmallow schemas of the partner perks API (HQ, member portal, partner)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from hq.members.models import TIERS
from hq.perks import codes
from hq.points.models import PERK_STATUSES


class PartnerSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"example": "WASH"})
    name = fields.String()
    category = fields.String(allow_none=True, metadata={"example": "car_wash"})
    contact = fields.String(allow_none=True)
    active = fields.Boolean()


class PartnerCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    category = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=64))
    contact = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=128))
    active = fields.Boolean(load_default=True)


class PartnerUpdateSchema(Schema):
    code = fields.String(validate=validate.Length(min=1, max=32))
    name = fields.String(validate=validate.Length(min=1, max=128))
    category = fields.String(allow_none=True, validate=validate.Length(max=64))
    contact = fields.String(allow_none=True, validate=validate.Length(max=128))
    active = fields.Boolean()


class PartnerUserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String()
    display_name = fields.String()
    is_active_user = fields.Boolean(data_key="active")


class PartnerUserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    password = fields.String(required=True, load_only=True)
    email = fields.Email(load_default=None, allow_none=True)


class PerkSchema(Schema):
    """A perk as HQ sees it, with the vouchers taken so far."""

    id = fields.Integer(dump_only=True)
    partner_id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    tiers = fields.List(fields.String(validate=validate.OneOf(TIERS)))
    points_cost = fields.Integer()
    valid_from = fields.Date()
    valid_to = fields.Date()
    stock = fields.Integer(allow_none=True, metadata={"description": "null: unlimited"})
    taken = fields.Integer(dump_only=True)
    per_member_limit = fields.Integer(allow_none=True, metadata={"description": "null: no limit"})
    status = fields.String(dump_only=True, metadata={"enum": list(PERK_STATUSES)})


class PerkCreateSchema(Schema):
    partner_id = fields.Integer(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=128))
    description = fields.String(load_default=None, allow_none=True)
    tiers = fields.List(fields.String(validate=validate.OneOf(TIERS)), required=True)
    points_cost = fields.Integer(required=True, validate=validate.Range(min=0))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    stock = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0))
    per_member_limit = fields.Integer(load_default=None, allow_none=True,
                                      validate=validate.Range(min=1))


class PerkUpdateSchema(Schema):
    partner_id = fields.Integer()
    title = fields.String(validate=validate.Length(min=1, max=128))
    description = fields.String(allow_none=True)
    tiers = fields.List(fields.String(validate=validate.OneOf(TIERS)))
    points_cost = fields.Integer(validate=validate.Range(min=0))
    valid_from = fields.Date()
    valid_to = fields.Date()
    stock = fields.Integer(allow_none=True, validate=validate.Range(min=0))
    per_member_limit = fields.Integer(allow_none=True, validate=validate.Range(min=1))


class PerkQueryArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(PERK_STATUSES))
    partner_id = fields.Integer(load_default=None)


class OfferedPerkSchema(Schema):
    """A perk offered to the member, and whether they may take it now (and why not)."""

    id = fields.Function(lambda o: o.perk.id)
    title = fields.Function(lambda o: o.perk.title)
    description = fields.Function(lambda o: o.perk.description)
    partner_name = fields.Function(lambda o: o.partner.name)
    points_cost = fields.Function(lambda o: o.perk.points_cost)
    valid_from = fields.Function(lambda o: o.perk.valid_from.isoformat())
    valid_to = fields.Function(lambda o: o.perk.valid_to.isoformat())
    left = fields.Function(lambda o: o.left, metadata={"description": "null: unlimited"})
    taken_by_me = fields.Function(lambda o: o.taken_by_member)
    per_member_limit = fields.Function(lambda o: o.perk.per_member_limit)
    can_take = fields.Function(lambda o: o.can_take)
    reason_code = fields.Function(lambda o: o.reason_code, metadata={
        "description": "why not: member_not_active, tier_not_allowed, perk_not_valid_now, "
                       "limit_reached, out_of_stock, insufficient_points"})
    reason = fields.Function(lambda o: o.reason)


class TakeSchema(Schema):
    client_token = fields.String(load_default=None, allow_none=True,
                                 validate=validate.Length(max=64), metadata={
                                     "description": "the same token again takes nothing twice"})


class MemberVoucherSchema(Schema):
    """A voucher the member holds: the code to show (also as a QR code)."""

    code = fields.Function(lambda v: v.code)
    display_code = fields.Function(lambda v: v.display_code,
                                   metadata={"example": "ABCD-EFGH-JKLM-NPQR"})
    perk_id = fields.Function(lambda v: v.perk.id)
    perk_title = fields.Function(lambda v: v.perk.title)
    partner_name = fields.Function(lambda v: v.partner.name)
    status = fields.Function(lambda v: v.state, metadata={
        "description": "issued, used, cancelled or expired"})
    valid_to = fields.Function(lambda v: v.voucher.valid_to.isoformat())
    taken_at = fields.Function(lambda v: v.voucher.created_at.isoformat()
                               if v.voucher.created_at else None)
    used_at = fields.Function(lambda v: v.voucher.used_at.isoformat()
                              if v.voucher.used_at else None)


class PartnerVoucherSchema(Schema):
    """A voucher as its partner sees it: nothing personal beyond a masked name."""

    code = fields.Function(lambda v: v.code)
    display_code = fields.Function(lambda v: codes.display(v.code))
    perk_title = fields.Function(lambda v: v.perk.title)
    status = fields.Function(lambda v: v.state, metadata={
        "description": "issued, used, cancelled or expired"})
    valid_to = fields.Function(lambda v: v.voucher.valid_to.isoformat())
    used_at = fields.Function(lambda v: v.voucher.used_at.isoformat()
                              if v.voucher.used_at else None)
    holder = fields.Function(lambda v: v.holder, metadata={"example": "陈**"})
