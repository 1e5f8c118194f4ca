"""Languages: Simplified Chinese by default, English on request."""

from __future__ import annotations

from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from clubplatform.extensions import babel

LANGUAGE_NAMES = {"zh_Hans_CN": "中文", "en": "English"}


def select_locale() -> str:
    """User preference, then the session's choice, then the browser, then Chinese."""
    langs = current_app.config["LANGUAGES"]
    if request and not g.get("_loading_user"):
        user = current_user
        if user and user.is_authenticated and user.locale in langs:
            return user.locale
    if request:
        chosen = session.get("lang")
        if chosen in langs:
            return chosen
        best = request.accept_languages.best_match(["zh", "zh-CN", "en"])
        if best and best.startswith("en"):
            return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def normalise(code: str) -> str | None:
    """Map a language code from a URL or form to a supported locale."""
    code = (code or "").replace("-", "_")
    if code.lower().startswith("zh"):
        return "zh_Hans_CN"
    if code.lower().startswith("en"):
        return "en"
    return None


def is_english() -> bool:
    return str(get_locale()).startswith("en")


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _i18n_globals():
        loc = str(get_locale())
        return {
            "current_locale": loc,
            "html_lang": "en" if loc.startswith("en") else "zh-CN",
            "language_names": LANGUAGE_NAMES,
            "is_english": loc.startswith("en"),
        }
