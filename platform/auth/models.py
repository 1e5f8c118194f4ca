"""Users, roles and API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clubplatform.db import CreatedAtMixin, UTCDateTime, utcnow
from clubplatform.extensions import db
from clubplatform.org.models import Chapter

HQ_ADMIN = "hq_admin"
HQ_ANALYST = "hq_analyst"
CHAPTER_MANAGER = "chapter_manager"
CHAPTER_STAFF = "chapter_staff"
MEMBER = "member"
PARTNER = "partner"

ROLES = (HQ_ADMIN, HQ_ANALYST, CHAPTER_MANAGER, CHAPTER_STAFF, MEMBER, PARTNER)
HQ_ROLES = (HQ_ADMIN, HQ_ANALYST)
CHAPTER_ROLES = (CHAPTER_MANAGER, CHAPTER_STAFF)


class User(CreatedAtMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('hq_admin','hq_analyst','chapter_manager','chapter_staff','member','partner')",
            name="role_known",
        ),
        # chapter roles belong to exactly one chapter; other roles to none
        sa.CheckConstraint(
            "(role IN ('chapter_manager','chapter_staff')) = (chapter_id IS NOT NULL)",
            name="chapter_role_has_chapter",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: login name, unique, stored lower-case
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: name shown in the UI
    display_name: Mapped[str] = mapped_column(sa.String(128))
    #: contact e-mail
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: argon2id hash of the password
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: one of :data:`ROLES`
    role: Mapped[str] = mapped_column(sa.String(32))
    #: the chapter of a chapter manager or staff member
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"), index=True)
    #: preferred UI language (``zh_Hans_CN`` or ``en``); None follows the browser/session
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    #: deactivated users cannot log in and their sessions end
    is_active_user: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: bumped to end every session of the user (password change, deactivation)
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    #: consecutive failed logins since the last success
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: logins are refused until this time after too many failures
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: time of the last successful login
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    chapter: Mapped[Chapter | None] = relationship()

    # Flask-Login protocol ---------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.is_active_user

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # the session version travels in the session: bumping it ends other sessions
        return f"{self.id}:{self.session_version}"

    # role helpers -----------------------------------------------------------------
    @property
    def is_hq(self) -> bool:
        return self.role in HQ_ROLES

    @property
    def is_chapter_user(self) -> bool:
        return self.role in CHAPTER_ROLES

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())


class ApiToken(CreatedAtMixin, db.Model):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: owner of the token; the token acts with the owner's role and chapter
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: label chosen by the owner
    name: Mapped[str] = mapped_column(sa.String(64))
    #: first characters of the token, shown so the owner can tell tokens apart
    prefix: Mapped[str] = mapped_column(sa.String(12))
    #: SHA-256 hex digest of the whole token
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the token stops working at this time
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: set when the owner or an admin revokes the token
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: last request authenticated with the token
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.revoked_at is None and self.expires_at > now
