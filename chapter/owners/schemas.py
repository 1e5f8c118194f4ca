"""marshmallow schemas of the owners API (one per direction).

Input schemas check only shapes (types, lengths); the service checks the rules
(mobile, ID checksum, VIN check digit, dates, duplicates) and names each bad field.
Owner output never carries the ID number, sealed or clear: only its masked form.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from chapter.owners.models import OWNER_KINDS, VISIT_TYPES
from clubplatform.money import format_fen
from clubplatform.validators import GENDERS


class OwnerSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(metadata={"enum": list(OWNER_KINDS)})
    name = fields.String(metadata={"example": "王芳"})
    gender = fields.String(allow_none=True, metadata={"enum": list(GENDERS)})
    mobile = fields.String(allow_none=True, metadata={"example": "13800138000"})
    id_number_masked = fields.String(allow_none=True,
                                     metadata={"example": "3101**********1234"})
    birthday = fields.Date(allow_none=True)
    occupation = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    work_address = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    hobbies = fields.List(fields.String())
    advisor_id = fields.Integer(allow_none=True)
    is_vip = fields.Boolean()
    customer_since = fields.Date(allow_none=True)
    anonymised_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class OwnerCreateSchema(Schema):
    kind = fields.String(load_default="individual", validate=validate.OneOf(OWNER_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    mobile = fields.String(allow_none=True, validate=validate.Length(max=32),
                           metadata={"example": "13800138000"})
    id_number = fields.String(allow_none=True, validate=validate.Length(max=32),
                              metadata={"description": "18-character national ID number; "
                                                       "stored sealed, shown masked"})
    birthday = fields.Date(allow_none=True)
    occupation = fields.String(allow_none=True, validate=validate.Length(max=64))
    address = fields.String(allow_none=True, validate=validate.Length(max=255))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=16))
    work_address = fields.String(allow_none=True, validate=validate.Length(max=255))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    hobbies = fields.List(fields.String(validate=validate.Length(max=32)), allow_none=True,
                          validate=validate.Length(max=20))
    advisor_id = fields.Integer(allow_none=True,
                                metadata={"description": "a manager or staff user of the chapter"})
    is_vip = fields.Boolean(load_default=False)


class OwnerUpdateSchema(Schema):
    kind = fields.String(validate=validate.OneOf(OWNER_KINDS))
    name = fields.String(validate=validate.Length(min=1, max=128))
    gender = fields.String(allow_none=True, validate=validate.OneOf(GENDERS))
    mobile = fields.String(allow_none=True, validate=validate.Length(max=32))
    id_number = fields.String(allow_none=True, validate=validate.Length(max=32),
                              metadata={"description": "a new ID number; null removes it"})
    birthday = fields.Date(allow_none=True)
    occupation = fields.String(allow_none=True, validate=validate.Length(max=64))
    address = fields.String(allow_none=True, validate=validate.Length(max=255))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=16))
    work_address = fields.String(allow_none=True, validate=validate.Length(max=255))
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    hobbies = fields.List(fields.String(validate=validate.Length(max=32)), allow_none=True,
                          validate=validate.Length(max=20))
    advisor_id = fields.Integer(allow_none=True)
    is_vip = fields.Boolean()


class OwnerQueryArgsSchema(Schema):
    q = fields.String(load_default=None, metadata={
        "description": "name (beginning), mobile, plate, VIN or member number"})
    advisor_id = fields.Integer(load_default=None,
                                metadata={"description": "0: owners without an advisor"})
    kind = fields.String(load_default=None, validate=validate.OneOf(OWNER_KINDS))
    vip = fields.Boolean(load_default=None)


class OwnerRevealSchema(Schema):
    id = fields.Integer()
    id_number = fields.String(metadata={"description": "the full number; this reveal is "
                                                       "written to the audit log"})


class OwnerReassignSchema(Schema):
    from_user_id = fields.Integer(required=True, metadata={"description": "the leaving advisor"})
    to_user_id = fields.Integer(required=True, allow_none=True,
                                metadata={"description": "the new advisor (null: none)"})
    owner_ids = fields.List(fields.Integer(), load_default=None, allow_none=True,
                            metadata={"description": "only these owners (default: all)"})


class OwnerReassignResultSchema(Schema):
    moved = fields.Integer()


class VehicleSchema(Schema):
    id = fields.Integer(dump_only=True)
    owner_id = fields.Integer()
    vin = fields.String(metadata={"example": "LVSHCAMB1CE054249"})
    plate = fields.String(allow_none=True, metadata={"example": "京A12345"})
    model = fields.String(allow_none=True)
    colour = fields.String(allow_none=True)
    purchase_date = fields.Date(allow_none=True)
    delivery_date = fields.Date(allow_none=True)
    selling_dealer_id = fields.Integer(allow_none=True)
    insurance_expiry = fields.Date(allow_none=True)
    next_inspection_on = fields.Date(allow_none=True)
    mileage_km = fields.Integer(allow_none=True)


class VehicleCreateSchema(Schema):
    vin = fields.String(required=True, validate=validate.Length(max=32))
    plate = fields.String(allow_none=True, validate=validate.Length(max=32))
    model = fields.String(allow_none=True, validate=validate.Length(max=64))
    colour = fields.String(allow_none=True, validate=validate.Length(max=32))
    purchase_date = fields.Date(allow_none=True)
    delivery_date = fields.Date(allow_none=True, metadata={"description": "交车日"})
    selling_dealer_id = fields.Integer(allow_none=True)
    insurance_expiry = fields.Date(allow_none=True)
    next_inspection_on = fields.Date(allow_none=True)
    mileage_km = fields.Integer(allow_none=True)


class VehicleUpdateSchema(Schema):
    vin = fields.String(validate=validate.Length(max=32))
    plate = fields.String(allow_none=True, validate=validate.Length(max=32))
    model = fields.String(allow_none=True, validate=validate.Length(max=64))
    colour = fields.String(allow_none=True, validate=validate.Length(max=32))
    purchase_date = fields.Date(allow_none=True)
    delivery_date = fields.Date(allow_none=True)
    selling_dealer_id = fields.Integer(allow_none=True)
    insurance_expiry = fields.Date(allow_none=True)
    next_inspection_on = fields.Date(allow_none=True)
    mileage_km = fields.Integer(allow_none=True)


class VisitSchema(Schema):
    id = fields.Integer(dump_only=True)
    order_no = fields.String()
    vehicle_id = fields.Integer()
    owner_id = fields.Integer()
    visit_date = fields.Date()
    visit_type = fields.String(metadata={"enum": list(VISIT_TYPES)})
    amount_fen = fields.Integer(metadata={"description": "amount in fen (CNY/100)"})
    amount = fields.Function(lambda v: format_fen(v.amount_fen).replace(",", ""),
                             metadata={"description": "amount in yuan", "example": "680.00"})
    mileage_km = fields.Integer(allow_none=True)


class VisitCreateSchema(Schema):
    order_no = fields.String(required=True, validate=validate.Length(min=1, max=32),
                             metadata={"description": "the dealer system's work-order number"})
    visit_date = fields.Date(required=True)
    visit_type = fields.String(required=True, validate=validate.OneOf(VISIT_TYPES))
    amount = fields.Decimal(allow_none=True, allow_nan=False,
                            metadata={"description": "amount in yuan, e.g. 680.00"})
    amount_fen = fields.Integer(allow_none=True, metadata={"description": "or the amount in fen"})
    mileage_km = fields.Integer(allow_none=True)
