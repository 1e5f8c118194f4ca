"""marshmallow schemas of the account and user API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from clubplatform.auth.models import ROLES


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    role = fields.String()
    chapter_id = fields.Integer(allow_none=True)
    locale = fields.String(allow_none=True)
    is_active = fields.Boolean(attribute="is_active_user")
    last_login_at = fields.DateTime(allow_none=True)


class UserCreateSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=128))
    email = fields.Email(load_default=None, allow_none=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    chapter_id = fields.Integer(load_default=None, allow_none=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=10))


class UserUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=128))
    email = fields.Email(allow_none=True)
    role = fields.String(validate=validate.OneOf(ROLES))
    chapter_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean()


class UserQueryArgsSchema(Schema):
    q = fields.String(load_default=None)
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    chapter_id = fields.Integer(load_default=None)


class TokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    days = fields.Integer(load_default=90, validate=validate.Range(min=1, max=366))


class NewTokenSchema(TokenSchema):
    token = fields.String(metadata={"description": "the token itself, shown only once"})
