"""Who is asking: sessions, API tokens, roles, the tenant scope of a request, headers."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, abort, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clubplatform.auth import service as auth_service
from clubplatform.auth.models import CHAPTER_ROLES, HQ_ROLES
from clubplatform.extensions import db, login_manager
from clubplatform.tenancy import reset_scope, set_request_scope

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load(session_id: str):
        # a request that names its credentials (an API token) is judged by them alone,
        # whatever session cookie the client also sends
        if request.headers.get("Authorization", "").startswith("Bearer "):
            return None
        return auth_service.load_session_user(session_id)

    @login_manager.request_loader
    def _load_from_token(req):
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        g._loading_user = True  # the locale selector must not ask for current_user now
        try:
            check = auth_service.authenticate_token(header[7:].strip())
        finally:
            g._loading_user = False
        g.token_error = check.error
        if check.user is not None:
            g.via_token = True
            if check.touched:  # at most once a minute per token: reads stay reads
                db.session.commit()  # last_used_at; nothing else is pending this early
        return check.user

    @app.before_request
    def _open_scope() -> None:
        # The tenant of the request comes from the logged-in user, nowhere else.
        scope = None
        if current_user.is_authenticated:
            if current_user.role in CHAPTER_ROLES:
                scope = current_user.chapter_id
            else:
                resolver = app.extensions.get("scope_resolvers", {}).get(current_user.role)
                scope = resolver(current_user) if resolver else None
        g._scope_token = set_request_scope(scope)

    @app.teardown_request
    def _close_scope(exc=None) -> None:
        token = g.pop("_scope_token", None)
        if token is not None:
            reset_scope(token)

    @app.after_request
    def _headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=()")
        if not app.debug and app.config.get("SESSION_COOKIE_SECURE"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user.is_authenticated:
            resp.headers.setdefault("Cache-Control", "private, no-store")
        return resp


def register_scope_resolver(app: Flask, role: str, resolver) -> None:
    """Let a wing say which chapter a user of ``role`` works in (e.g. a member's chapter).

    ``resolver(user) -> chapter_id | None`` runs once per request, before the scope
    opens, so it must do its own (unscoped) lookup.
    """
    app.extensions.setdefault("scope_resolvers", {})[role] = resolver


def roles_required(*roles: str) -> Callable:
    """Allow only logged-in users with one of ``roles`` (403 for others)."""

    def deco(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the isolation sweep
        return wrapped

    return deco


def hq_write_required(view: Callable) -> Callable:
    return roles_required("hq_admin")(view)


def hq_read_required(view: Callable) -> Callable:
    return roles_required(*HQ_ROLES)(view)


def client_ip() -> str | None:
    return request.remote_addr
