"""The JSON API under ``/api/v1``: one error shape, token or session auth, pagination."""

from __future__ import annotations

import marshmallow as ma
from flask import Flask, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from flask_smorest import Page
from werkzeug.exceptions import HTTPException

from clubplatform.errors import DomainError
from clubplatform.extensions import csrf

API_PREFIX = "/api/v1"

_MESSAGES = {
    400: _l("The request is malformed."),
    401: _l("Log in or send a valid API token."),
    403: _l("You do not have permission for this."),
    404: _l("Not found."),
    405: _l("This method is not allowed here."),
    409: _l("This conflicts with existing data."),
    413: _l("The upload is too large."),
    422: _l("Some fields are not valid."),
    429: _l("Too many requests; wait a moment and try again."),
}


def error_body(status: int, message, fields: dict | None = None, code: str | None = None) -> dict:
    return {
        "error": {
            "code": code or _code_for(status),
            "message": str(message),
            "fields": {k: [str(m) for m in v] if isinstance(v, list) else v
                       for k, v in (fields or {}).items()},
        }
    }


def _code_for(status: int) -> str:
    return {
        400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
        405: "method_not_allowed", 409: "conflict", 413: "too_large",
        422: "validation_failed", 429: "rate_limited",
    }.get(status, "error" if status >= 500 else "invalid")


def _flatten(messages) -> dict:
    """webargs puts messages under their location (``json``, ``query``): lift them."""
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "form", "files", "headers", "view_args"}:
        out: dict = {}
        for v in messages.values():
            out.update(v if isinstance(v, dict) else {"_schema": v})
        return out
    return messages if isinstance(messages, dict) else {"_schema": messages}


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), required=True)


class ErrorBodySchema(ma.Schema):
    """The documented error answer: what :func:`error_body` writes (checked by API fuzzing)."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(_Api):
    """flask-smorest Api emitting ``{"error": {"code", "message", "fields"}}``."""

    ERROR_SCHEMA = ErrorBodySchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        if not request.path.startswith(API_PREFIX):
            from clubplatform.pages import render_error

            return render_error(error)
        fields = {}
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            fields = _flatten(data["messages"])
        message = _MESSAGES.get(status, error.description)
        if status == 401 and g.get("token_error"):
            message = g.token_error
        if status == 422 and fields:
            first = next(iter(fields.items()))
            msg = first[1]
            while isinstance(msg, dict):
                msg = next(iter(msg.values()))
            if isinstance(msg, list) and msg:
                message = _l("%(field)s: %(reason)s", field=first[0], reason=msg[0])
        if status in (400, 409) and error.description and not data:
            message = error.description
        resp = error_body(status, message, fields)
        headers = data.get("headers", {})
        return resp, status, headers


class Blueprint(_Blueprint):
    """An API blueprint: requires a logged-in user (session or bearer token)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("url_prefix", None)
        super().__init__(*args, **kwargs)
        self.before_request(_require_auth)


def _require_auth():
    if not current_user.is_authenticated:
        from flask import abort

        abort(401)
    # Browser calls authenticated by the session cookie must carry the CSRF token
    # (header X-CSRFToken); token calls cannot be forged by another site.
    if (request.method not in ("GET", "HEAD", "OPTIONS") and not g.get("via_token")
            and current_app.config.get("WTF_CSRF_ENABLED", True)):
        csrf.protect()


#: beyond this many rows a page is empty without asking the database
MAX_OFFSET = 2**31 - 1


class CursorPage(Page):
    """Pagination over a SQLAlchemy select: counts in SQL, fetches one page."""

    @property
    def item_count(self):
        import sqlalchemy as sa

        from clubplatform.extensions import db

        return db.session.execute(
            sa.select(sa.func.count()).select_from(self.collection.order_by(None).subquery())
        ).scalar_one()

    @property
    def items(self):
        from clubplatform.extensions import db

        first = self.page_params.first_item
        if first > MAX_OFFSET:  # far past the last row: no SQL (a huge OFFSET overflows)
            return []
        return list(
            db.session.execute(
                self.collection.limit(self.page_params.page_size).offset(first)
            ).scalars()
        )


api = Api()


def init_app(app: Flask) -> None:
    api.init_app(app, spec_kwargs={
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
        }},
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    })

    _register_docs(app)

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if request.path.startswith(API_PREFIX):
            return error_body(exc.status, exc.message, exc.field_messages(), exc.code), exc.status
        from clubplatform.pages import render_error

        return render_error(exc)


def _register_docs(app: Flask) -> None:
    """Interactive API docs (Swagger UI) served from the local wheel, no CDN.

    flask-smorest's own Swagger page uses an inline script, which our CSP forbids,
    so the page is ours and its start-up script is a static file.
    """
    import swagger_ui_bundle
    from flask import render_template, send_from_directory
    from flask_login import login_required

    assets = swagger_ui_bundle.swagger_ui_path

    @app.route(f"{API_PREFIX}/docs")
    @login_required
    def api_docs():
        """Interactive API documentation."""
        return render_template("api_docs.html")

    @app.route(f"{API_PREFIX}/docs/assets/<path:filename>")
    def api_docs_assets(filename: str):
        """Swagger UI's files."""
        return send_from_directory(assets, filename, max_age=86400)
