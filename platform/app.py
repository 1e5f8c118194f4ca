"""The application factory."""

from __future__ import annotations

from flask import Flask

from clubplatform.config import INSTANCE_DIR, Config


def create_app(config: object | None = None) -> Flask:
    """Build the app: config → extensions → tenancy/security → blueprints → errors → CLI."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(config if config is not None else Config())

    from clubplatform.db import RowIdConverter
    from clubplatform.extensions import csrf, db, limiter, migrate

    app.url_map.converters["int"] = RowIdConverter  # before any route is added

    _import_models()
    db.init_app(app)
    from clubplatform import citus

    citus.install_guards(db.Model, db.metadata)  # a distributed row never changes shard
    migrate.init_app(app, db, render_as_batch=True, directory=str(_migrations_dir()))
    csrf.init_app(app)
    limiter.init_app(app)

    from clubplatform import api, i18n, observability, pages, security

    observability.init_app(app)  # first: the request id exists before anything logs
    i18n.init_app(app)
    security.init_app(app)
    api.init_app(app)
    pages.init_app(app)

    for bp in _page_blueprints():
        app.register_blueprint(bp)
    _register_wing_hooks(app)
    for bp in _api_blueprints():
        api.api.register_blueprint(bp, url_prefix=api.API_PREFIX + bp.url_prefix)
        csrf.exempt(bp)  # the API checks CSRF itself for cookie-authenticated writes

    from clubplatform import cli
    from clubplatform.analytics.cli import analytics_cli
    from clubplatform.analytics.jobs import RUNNABLE as ANALYTICS_JOBS

    cli.init_app(app)
    app.cli.add_command(analytics_cli)
    app.extensions.setdefault("clubplatform_jobs", {}).update(ANALYTICS_JOBS)
    return app


def _register_wing_hooks(app: Flask) -> None:
    """Wings' scope resolvers, demo loaders, jobs and landing pages (never importing wings)."""
    import chapter
    import hq
    from clubplatform.security import register_scope_resolver

    for wing in (hq, chapter):
        for role, resolver in getattr(wing, "SCOPE_RESOLVERS", {}).items():
            register_scope_resolver(app, role, resolver)
        app.extensions.setdefault("demo_loaders", []).extend(getattr(wing, "DEMO_LOADERS", ()))
        app.extensions.setdefault("clubplatform_jobs", {}).update(getattr(wing, "JOBS", {}))
        app.extensions.setdefault("landing_endpoints", {}).update(
            getattr(wing, "LANDING_ENDPOINTS", {}))


def _migrations_dir():
    from clubplatform.config import REPO_ROOT

    return REPO_ROOT / "migrations"


def _import_models() -> None:
    """Import every model module so that the metadata is complete (Alembic, tests)."""
    import chapter.models  # noqa: F401
    import clubplatform.analytics.models  # noqa: F401
    import clubplatform.audit.models  # noqa: F401
    import clubplatform.auth.models  # noqa: F401
    import clubplatform.jobs.models  # noqa: F401
    import clubplatform.org.models  # noqa: F401
    import hq.models  # noqa: F401


def _page_blueprints():
    from chapter import BLUEPRINTS as CHAPTER
    from clubplatform.analytics.views import bp as analytics_bp
    from clubplatform.audit.views import bp as audit_bp
    from clubplatform.auth.views import bp as auth_bp
    from clubplatform.jobs.views import bp as jobs_bp
    from clubplatform.org.views import bp as org_bp
    from clubplatform.pages import bp as main_bp
    from hq import BLUEPRINTS as HQ

    return (main_bp, auth_bp, org_bp, audit_bp, jobs_bp, analytics_bp, *HQ, *CHAPTER)


def _api_blueprints():
    from chapter import API_BLUEPRINTS as CHAPTER_API
    from clubplatform.analytics.api import blp as analytics_api
    from clubplatform.auth.api import blp as auth_api
    from clubplatform.jobs.api import blp as jobs_api
    from clubplatform.org.api import blp as org_api
    from hq import API_BLUEPRINTS as HQ_API

    return (auth_api, org_api, jobs_api, analytics_api, *HQ_API, *CHAPTER_API)
