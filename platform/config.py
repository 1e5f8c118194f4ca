"""Configuration objects. Nothing here reads the environment at import time."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", REPO_ROOT / "instance"))


def _instance_secret(name: str, nbytes: int = 32) -> str:
    """Return a secret kept in ``instance/``, generating it on first use.

    The demo and development runs need a secret but must never use a constant;
    the file is created with mode 0600 and ``instance/`` is not committed.
    """
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Production and demo configuration, read from the environment."""

    TESTING = False
    APP_NAME = "Car Club"

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY") or _instance_secret("secret_key")
        self.FIELD_ENCRYPTION_KEY = env.get("FIELD_ENCRYPTION_KEY") or _instance_secret(
            "field_encryption_key"
        )
        self.FIELD_INDEX_KEY = env.get("FIELD_INDEX_KEY") or _instance_secret("field_index_key")
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or (
            f"sqlite:///{INSTANCE_DIR / 'clubplatform.db'}"
        )
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.MAIL_SERVER = env.get("MAIL_SERVER", "127.0.0.1")
        self.MAIL_PORT = int(env.get("MAIL_PORT", "25"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = env.get("MAIL_USE_TLS", "0") == "1"
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER", "club@localhost")
        #: SMS provider's JSON API (clubplatform.messaging.senders.send_sms)
        self.SMS_GATEWAY_URL = env.get("SMS_GATEWAY_URL") or None
        self.SMS_GATEWAY_KEY = env.get("SMS_GATEWAY_KEY") or None
        #: no SMS/e-mail between these Asia/Shanghai hours ("21-9"; "0-0" = none)
        self.MESSAGING_QUIET_HOURS = env.get("MESSAGING_QUIET_HOURS", "21-9")
        #: PostgreSQL work_mem for the month-end figures' transaction (clubplatform.analytics)
        self.ANALYTICS_WORK_MEM = env.get("ANALYTICS_WORK_MEM", "64MB")
        self.SESSION_COOKIE_SECURE = env.get("SESSION_COOKIE_SECURE", "1") == "1"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.JOB_REPORT_DIR = str(INSTANCE_DIR / "job_reports")
        # production run (docs/scaling.md): read replica for reports, logs, metrics
        self.DATABASE_REPLICA_URL = env.get("DATABASE_REPLICA_URL") or None
        self.LOG_FORMAT = env.get("LOG_FORMAT", "json")
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or None
        if self.DATABASE_REPLICA_URL:
            self.SQLALCHEMY_BINDS = {
                "replica": {"url": self.DATABASE_REPLICA_URL,
                            **_engine_options(self.DATABASE_REPLICA_URL)}}

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None

    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans_CN", "en")

    #: login throttling: per client address, and lockout after repeated failures
    LOGIN_RATE_LIMIT = "20 per minute"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    RATELIMIT_HEADERS_ENABLED = True
    #: Redis down: count in this process's memory meanwhile instead of answering 500
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    API_TITLE = "Car Club Platform API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_TOKEN_DAYS = 90

    #: argon2id parameters; empty = the library's defaults (m=64 MiB, t=3, p=4)
    ARGON2_PARAMS: dict = {}

    JOB_QUEUE = "default"
    MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    MAX_CONTENT_LENGTH = 21 * 1024 * 1024


class TestConfig(Config):
    """Configuration for the test suite: a temporary database unless one is given."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    LOGIN_RATE_LIMIT = "1000 per minute"
    # cheap hashing keeps the suite fast; production uses the defaults
    ARGON2_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}

    def __init__(self, database_url: str | None = None, redis_url: str | None = None,
                 replica_url: str | None = None) -> None:
        super().__init__()
        self.SECRET_KEY = "test-secret-key"
        self.FIELD_ENCRYPTION_KEY = "test-field-key"
        self.FIELD_INDEX_KEY = "test-index-key"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        if database_url:
            self.SQLALCHEMY_DATABASE_URI = database_url
            self.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(database_url)
        self.REDIS_URL = redis_url
        self.RATELIMIT_STORAGE_URI = redis_url or "memory://"
        self.LOG_FORMAT = "text"
        self.DATABASE_REPLICA_URL = replica_url
        self.SQLALCHEMY_BINDS = (
            {"replica": {"url": replica_url, **_engine_options(replica_url)}} if replica_url else {})


def _engine_options(url: str) -> dict:
    if url.startswith("postgresql"):
        return {
            "pool_pre_ping": True,
            "connect_args": {"options": "-c lock_timeout=10000 -c timezone=UTC"},
        }
    return {"connect_args": {"timeout": 30}}
