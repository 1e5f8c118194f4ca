"""JSON API: the caller's own account and tokens; user management for HQ."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask.views import MethodView
from flask_login import current_user

from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth import schemas, service
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES, User
from clubplatform.extensions import db
from clubplatform.security import client_ip

blp = Blueprint("api_auth", __name__, url_prefix="/auth",
                description="The caller's account and API tokens; users (HQ).")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, schemas.UserSchema)
    def get(self):
        """The calling user."""
        return current_user


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, schemas.TokenSchema(many=True))
    def get(self):
        """The caller's API tokens."""
        return service.user_tokens(current_user)

    @blp.arguments(schemas.TokenCreateSchema)
    @blp.response(201, schemas.NewTokenSchema)
    def post(self, data):
        """Create an API token; the token is returned once."""
        token, plain = service.create_token(current_user, data["name"], days=data["days"],
                                            ip=client_ip())
        db.session.commit()
        token.token = plain
        return token


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(204)
    def delete(self, token_id):
        """Revoke one of the caller's tokens."""
        token = service.get_user_token(current_user, token_id)
        service.revoke_token(token, actor=current_user, ip=client_ip())
        db.session.commit()


def _hq(admin: bool = False) -> None:
    allowed = (HQ_ADMIN,) if admin else HQ_ROLES
    if current_user.role not in allowed:
        abort(403)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(schemas.UserQueryArgsSchema, location="query")
    @blp.response(200, schemas.UserSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List users (HQ)."""
        _hq()
        stmt = sa.select(User).order_by(User.id)
        if args["q"]:
            like = f"%{args['q']}%"
            stmt = stmt.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
        if args["role"]:
            stmt = stmt.where(User.role == args["role"])
        if args["chapter_id"]:
            stmt = stmt.where(User.chapter_id == args["chapter_id"])
        return stmt

    @blp.arguments(schemas.UserCreateSchema)
    @blp.response(201, schemas.UserSchema)
    def post(self, data):
        """Create a user (HQ admin)."""
        _hq(admin=True)
        user = service.create_user(**data, actor=current_user, ip=client_ip())
        db.session.commit()
        return user


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @blp.response(200, schemas.UserSchema)
    def get(self, user_id):
        """Get a user (HQ)."""
        _hq()
        return db.get_or_404(User, user_id)

    @blp.arguments(schemas.UserUpdateSchema)
    @blp.response(200, schemas.UserSchema)
    def patch(self, data, user_id):
        """Change a user's profile, role or access (HQ admin)."""
        _hq(admin=True)
        user = db.get_or_404(User, user_id)
        active = data.pop("is_active", None)
        if "role" in data and "chapter_id" not in data:
            data["chapter_id"] = user.chapter_id
        service.update_user(user, actor=current_user, ip=client_ip(), **data)
        if active is not None:
            service.set_active(user, active, actor=current_user, ip=client_ip())
        db.session.commit()
        return user
