"""Extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from functools import cached_property

import flask_babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from clubplatform.db import Base, RoutingSession


class RequestDomain(flask_babel.Domain):
    """flask_babel's message domain, with the request's translations looked up once.

    flask_babel finds them again for every string (the request context, the locale as a
    string, a cache key): about 6 µs a call, and a list page translates hundreds of
    strings. Here they are kept with the locale they belong to, in flask_babel's own
    per-request namespace; ``force_locale`` (which swaps the locale object) misses the
    entry and looks them up again.
    """

    def get_translations(self):
        ctx = flask_babel._get_current_context()
        if ctx is None:
            return super().get_translations()
        kept = getattr(ctx, "clubplatform_translations", None)
        locale = getattr(ctx, "babel_locale", None)
        if kept is not None and locale is not None and kept[0] is locale:
            return kept[1]
        translations = super().get_translations()  # sets ctx.babel_locale
        ctx.clubplatform_translations = (ctx.babel_locale, translations)
        return translations


class RequestBabel(flask_babel.Babel):
    """flask_babel's extension with :class:`RequestDomain` as its domain."""

    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = RequestBabel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
