"""Test fixtures: one app per session with a schema built by Alembic, clean tables per test.

- Without ``DATABASE_URL`` the suite runs on a temporary SQLite file; with it (CI), on
  PostgreSQL. The database name must contain ``test``: the suite empties it.
- Without ``REDIS_URL`` jobs run inline; with it (CI), through real RQ on Redis.
- Tests marked ``postgres``/``redis``/``browser`` need those services. Outside CI
  they are skipped when the service is not configured; under CI (``CI=true``) a
  missing service is an error, never a skip.
"""

from __future__ import annotations

import contextvars
import os
import shutil

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from clubplatform.app import create_app
from clubplatform.config import TestConfig
from clubplatform.extensions import db as _db

DATABASE_URL = os.environ.get("DATABASE_URL") or None
REDIS_URL = os.environ.get("REDIS_URL") or None
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

ON_POSTGRES = bool(DATABASE_URL and DATABASE_URL.startswith("postgresql"))
HAS_CHROMIUM = bool(shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))

NEEDS = {
    "postgres": (ON_POSTGRES, "needs PostgreSQL: set DATABASE_URL=postgresql+psycopg://…/…test"),
    "redis": (bool(REDIS_URL), "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/15"),
    "browser": (HAS_CHROMIUM, f"needs Debian chromium at {CHROMIUM}"),
}


def pytest_collection_modifyitems(config, items):
    missing_in_ci = set()
    for item in items:
        for marker, (available, why) in NEEDS.items():
            if marker in item.keywords and not available:
                if IN_CI:
                    missing_in_ci.add(why)
                else:
                    item.add_marker(pytest.mark.skip(reason=why))
    if missing_in_ci:
        raise pytest.UsageError("CI must provide every service: " + "; ".join(sorted(missing_in_ci)))


def _database_url(tmp_path_factory) -> str:
    if DATABASE_URL:
        name = sa.engine.make_url(DATABASE_URL).database or ""
        if "test" not in name:
            raise pytest.UsageError(
                f"refusing to run the suite on database {name!r}: its name must contain 'test'")
        return DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """The app, with the schema built from nothing by the Alembic revisions."""
    url = _database_url(tmp_path_factory)
    application = create_app(TestConfig(database_url=url, redis_url=REDIS_URL))
    with application.app_context():
        if url.startswith("postgresql"):
            with _db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _empty_tables() -> None:
    """Delete the rows a test left, only from tables that have any (cheap on PostgreSQL,
    where TRUNCATE of every table costs far more than the test itself)."""
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as conn:
        probe = sa.union_all(*[
            sa.select(sa.literal(t.name).label("name"))
            .where(sa.exists(sa.select(sa.literal(1)).select_from(t)))
            for t in tables
        ])
        dirty = set(conn.execute(probe).scalars())
        for t in tables:
            if t.name in dirty:
                conn.execute(t.delete())


@pytest.fixture(autouse=True)
def _clean(request):
    """Every test starts with empty tables, a fresh session and an empty Redis db."""
    if "app" not in request.fixturenames and not any(
        f in request.fixturenames for f in ("client", "db")
    ):
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        yield
        _db.session.remove()
        _empty_tables()
    if REDIS_URL:
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
    from clubplatform.extensions import limiter

    limiter.reset()


@pytest.fixture
def db(app):
    """The database session of the test's application context."""
    return _db


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own application context.

    Tests hold an app context open (for factories and assertions); without this a
    request would reuse it, sharing ``g`` (the logged-in user, the locale, the
    tenant scope) and the database session with the test and with other requests.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login_as(client):
    """Log a test client in as a user (session cookie, without the login form)."""

    def _login(user, c=None):
        c = c or client
        with c.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return c

    return _login


@pytest.fixture
def two_chapters(db):
    """Chapters A and B, each with a manager and a staff member."""
    from tests.factories import make_chapter, make_user

    a, b = make_chapter(), make_chapter()
    return {
        "a": a, "b": b,
        "manager_a": make_user("chapter_manager", chapter=a),
        "staff_a": make_user("chapter_staff", chapter=a),
        "manager_b": make_user("chapter_manager", chapter=b),
        "staff_b": make_user("chapter_staff", chapter=b),
    }
