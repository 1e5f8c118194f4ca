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


_schema_head: list[str] = []


def _migration_heads() -> set[str]:
    """The head revision(s) of the Alembic scripts, read once per process."""
    if not _schema_head:
        from alembic.script import ScriptDirectory

        ext = current_app.extensions["migrate"]  # flask_migrate's _MigrateConfig
        config = ext.migrate.get_config(ext.directory)
        _schema_head.extend(ScriptDirectory.from_config(config).get_heads())
    return set(_schema_head)


@bp.route("/readyz")
def readyz():
    """Ready for traffic: the database answers at the schema's head, Redis answers.

    A load balancer takes an app server out of rotation while this says 503 (e.g. during a
    deploy before ``flask db upgrade`` ran). The read replica is reported, never required:
    reports fall back to nothing else, so a replica outage shows there, not here.
    """
    checks = {}
    ready = True
    try:
        current = set(db.session.execute(
            sa.text("SELECT version_num FROM alembic_version")).scalars())
        heads = _migration_heads()
        checks["schema"] = "ok" if current == heads else (
            f"at {','.join(sorted(current)) or 'nothing'}, head is {','.join(sorted(heads))}")
        ready = ready and current == heads
    except Exception as exc:
        db.session.rollback()
        checks["schema"] = f"error: {type(exc).__name__}"
        ready = False
    from clubplatform.jobs import redis_connection

    conn = redis_connection(current_app)
    if conn is not None:
        try:
            conn.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            ready = False
    replica = db.engines.get("replica")
    if replica is not None:
        try:
            with replica.connect() as c:
                lag = c.execute(sa.text(
                    "SELECT COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()),"
                    " 0)")).scalar()
            checks["replica"] = f"ok, last replay {float(lag):.1f} s ago"
        except Exception as exc:
            checks["replica"] = f"error: {type(exc).__name__}"
    return jsonify(status="ready" if ready else "not ready", checks=checks), (
        200 if ready else 503)


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


def _field_with_nul() -> str | None:
    """The name of the first query/form/JSON field whose value holds a NUL, else None."""
    for source in (request.args, request.form):
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                return name.replace("\x00", "")
    if request.is_json:
        stack = [("body", request.get_json(silent=True))]
        while stack:
            name, value = stack.pop()
            if isinstance(value, str) and "\x00" in value:
                return name
            if isinstance(value, dict):
                stack.extend((str(k).replace("\x00", ""), v) for k, v in value.items())
                if any("\x00" in str(k) for k in value):
                    return name
            elif isinstance(value, list):
                stack.extend((name, v) for v in value)
    return None


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date"] = _fmt_date
    app.jinja_env.filters["datetime"] = _fmt_datetime
    app.jinja_env.globals["home_endpoint_for"] = home_endpoint_for
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions

    @app.before_request
    def _refuse_nul_characters():
        """A NUL character in a query, form field or JSON value: 400 naming the field.

        PostgreSQL cannot store it in a text column; refused here, once, for every route.
        """
        field = _field_with_nul()
        if field is None:
            return None
        message = _l("This value contains a NUL character, which cannot be stored.")
        if request.path.startswith("/api/"):
            from clubplatform.api import error_body

            return error_body(400, message, {field: [message]}), 400
        return render_template("errors.html", status=400, title=ERROR_TITLES[400],
                               message=message), 400

    @app.errorhandler(sa.exc.OperationalError)
    def _database_unavailable(error):
        """The database is unreachable (restart, failover): 503 and a retry hint, not 500."""
        db.session.rollback()
        from flask import g

        from clubplatform.extensions import login_manager

        g._login_user = login_manager.anonymous_user()  # loading the user needs the database
        current_app.logger.warning("database unavailable: %s", type(error.orig).__name__)
        if request.path.startswith("/api/"):
            from clubplatform.api import error_body

            body = error_body(503, _l("The service is briefly unavailable; try again."),
                              code="unavailable")
            return body, 503, {"Retry-After": "5"}
        return render_template("errors.html", status=503, title=ERROR_TITLES[500],
                               message=""), 503, {"Retry-After": "5"}

    @app.errorhandler(500)
    def _server_error(error):
        if request.path.startswith("/api/"):
            from clubplatform.api import error_body

            return error_body(500, _l("Something went wrong on our side.")), 500
        return render_template("errors.html", status=500, title=ERROR_TITLES[500], message=""), 500
