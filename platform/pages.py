"""The UI shell: home routing by role, language switch, health, error pages, filters."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from clubplatform import i18n
from clubplatform.errors import DomainError
from clubplatform.extensions import db

bp = Blueprint("main", __name__)

ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Please log in"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Not allowed"),
    409: _l("Conflict"),
    413: _l("File too large"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}


def home_endpoint_for(user) -> str:
    """Where a user lands after logging in."""
    if user.role in ("hq_admin", "hq_analyst"):
        return "hq.home"
    if user.role in ("chapter_manager", "chapter_staff"):
        return "chapter.home"
    if user.role == "member" and "portal.home" in current_app.view_functions:
        return "portal.home"
    landing = current_app.extensions.get("landing_endpoints", {}).get(user.role)
    if landing and landing in current_app.view_functions:
        return landing
    return "auth.account"


@bp.route("/")
def index():
    """Send each user to their console."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(home_endpoint_for(current_user)))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the UI language for this session (and for the logged-in user)."""
    locale = i18n.normalise(code)
    if locale:
        session["lang"] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
            db.session.commit()
    target = request.form.get("next") or request.referrer or url_for("main.index")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    return redirect(target)


@bp.route("/healthz")
def healthz():
    """Report whether the database and Redis answer."""
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash
        checks["database"] = f"error: {type(exc).__name__}"
    from clubplatform.jobs import redis_connection

    conn = redis_connection(current_app)
    if conn is None:
        checks["redis"] = "not configured (jobs run inline)"
    else:
        try:
            conn.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), (200 if healthy else 503)


def render_error(error):
    """An error page (HTML) for an HTTP error or a domain error."""
    if isinstance(error, DomainError):
        status, message = error.status, str(error.message)
    elif isinstance(error, HTTPException):
        status = error.code or 500
        message = ""
    else:
        status, message = 500, ""
    if status == 401:
        from clubplatform.extensions import login_manager

        return login_manager.unauthorized()
    title = ERROR_TITLES.get(status, ERROR_TITLES[500])
    return render_template("errors.html", status=status, title=title, message=message), status


def _fmt_date(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "medium") if isinstance(value, date) else str(value)


def _fmt_datetime(value) -> str:
    # flask-babel shows aware UTC timestamps in BABEL_DEFAULT_TIMEZONE (Asia/Shanghai)
    return format_datetime(value, "short") if value else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date"] = _fmt_date
    app.jinja_env.filters["datetime"] = _fmt_datetime
    app.jinja_env.globals["home_endpoint_for"] = home_endpoint_for
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions

    @app.errorhandler(500)
    def _server_error(error):
        if request.path.startswith("/api/"):
            from clubplatform.api import error_body

            return error_body(500, _l("Something went wrong on our side.")), 500
        return render_template("errors.html", status=500, title=ERROR_TITLES[500], message=""), 500
