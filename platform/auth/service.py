"""Accounts, passwords, login throttling and API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import lazy_gettext as _l

from clubplatform.audit import service as audit
from clubplatform.auth.models import (
    CHAPTER_MANAGER,
    CHAPTER_ROLES,
    CHAPTER_STAFF,
    HQ_ADMIN,
    ROLES,
    ApiToken,
    User,
)
from clubplatform.db import utcnow
from clubplatform.errors import Conflict, NotFound, PermissionDenied, field_error
from clubplatform.extensions import db
from clubplatform.org.models import Chapter

_hashers: dict[tuple, PasswordHasher] = {}
TOKEN_PREFIX = "ccp_"
MIN_PASSWORD = 10


def _hasher() -> PasswordHasher:
    """argon2id with the configured parameters (library defaults in production)."""
    from flask import current_app, has_app_context

    params = dict(current_app.config.get("ARGON2_PARAMS") or {}) if has_app_context() else {}
    key = tuple(sorted(params.items()))
    if key not in _hashers:
        _hashers[key] = PasswordHasher(**params)
    return _hashers[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    """Check a password; rehash it in place when the parameters have changed."""
    try:
        _hasher().verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    return True


_dummy_hashes: dict[int, str] = {}


def _spend_a_verification(password: str) -> None:
    hasher = _hasher()
    key = id(hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash("not-a-real-password")
    try:
        hasher.verify(_dummy_hashes[key], password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise field_error(field, _l("Use at least %(n)s characters.", n=MIN_PASSWORD))
    if password.isdigit() or password.isalpha():
        raise field_error(field, _l("Mix letters with digits or symbols."))


def find_user(username: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(User.username == (username or "").strip().lower())
    ).scalar_one_or_none()


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None  # translated message for the login form


def authenticate(
    username: str, password: str, *, ip: str | None, max_failures: int, lockout_minutes: int
) -> LoginResult:
    """Check credentials, count failures, lock the account after too many.

    The message for an unknown user and a wrong password is the same, so that the
    form does not reveal which accounts exist.
    """
    user = find_user(username)
    wrong = _l("Wrong username or password.")
    if user is None:
        _spend_a_verification(password)  # same cost as a wrong password: no account probing
        audit.record("login_failed", actor_name=(username or "")[:64], ip=ip,
                     details={"reason": "unknown_user"})
        return LoginResult(None, str(wrong))
    now = utcnow()
    if user.is_locked(now):
        audit.record("login_failed", actor=user, ip=ip, chapter_id=user.chapter_id,
                     details={"reason": "locked"})
        return LoginResult(None, str(_l(
            "This account is locked after repeated failed logins. Try again after %(time)s.",
            time=_format_time(user.locked_until))))
    if not verify_password(user, password):
        user.failed_logins += 1
        details = {"reason": "wrong_password", "failures": user.failed_logins}
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            audit.record("login_locked", actor=user, ip=ip, chapter_id=user.chapter_id,
                         details=details)
            return LoginResult(None, str(_l(
                "Too many failed logins: the account is locked for %(n)s minutes.",
                n=lockout_minutes)))
        audit.record("login_failed", actor=user, ip=ip, chapter_id=user.chapter_id,
                     details=details)
        return LoginResult(None, str(wrong))
    if not user.is_active_user:
        audit.record("login_failed", actor=user, ip=ip, chapter_id=user.chapter_id,
                     details={"reason": "inactive"})
        return LoginResult(None, str(_l("This account has been deactivated.")))
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("login", actor=user, ip=ip, chapter_id=user.chapter_id)
    return LoginResult(user)


def _format_time(value: datetime | None) -> str:
    from flask_babel import format_datetime

    return format_datetime(value, "short") if value else ""


def load_session_user(session_id: str) -> User | None:
    """Resolve Flask-Login's ``id:version``; a bumped version ends the session."""
    try:
        uid, version = (int(p) for p in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version or not user.is_active_user:
        return None
    return user


def create_user(
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    chapter_id: int | None = None,
    email: str | None = None,
    locale: str | None = None,
    actor: User | None = None,
    ip: str | None = None,
) -> User:
    """Create an account; chapter roles need a chapter, other roles none."""
    username = (username or "").strip().lower()
    if not username:
        raise field_error("username", _l("Enter a username."))
    if not all(c.isalnum() or c in "._-" for c in username):
        raise field_error("username", _l("Use letters, digits, dots, dashes or underscores."))
    if find_user(username) is not None:
        raise field_error("username", _l("This username is already taken."), Conflict)
    if role not in ROLES:
        raise field_error("role", _l("Unknown role."))
    chapter_id = _check_role_chapter(role, chapter_id)
    check_password_strength(password)
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        email=(email or None),
        password_hash=hash_password(password),
        role=role,
        chapter_id=chapter_id,
        locale=locale,
        is_active_user=True,
        session_version=1,
        failed_logins=0,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", actor=actor, ip=ip, chapter_id=chapter_id,
                 target_type="user", target_id=user.id,
                 details={"username": username, "role": role})
    return user


def _check_role_chapter(role: str, chapter_id: int | None) -> int | None:
    if role in CHAPTER_ROLES:
        if not chapter_id:
            raise field_error("chapter_id", _l("A chapter role needs a chapter."))
        if db.session.get(Chapter, chapter_id) is None:
            raise field_error("chapter_id", _l("Unknown chapter."))
        return chapter_id
    return None


def update_user(
    user: User,
    *,
    actor: User,
    ip: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    role: str | None = None,
    chapter_id: int | None = None,
    locale: str | None = None,
) -> User:
    """Change an account's profile or role; a role change is audited on its own."""
    if display_name is not None:
        user.display_name = display_name.strip() or user.display_name
    if email is not None:
        user.email = email.strip() or None
    if locale is not None:
        user.locale = locale or None
    if role is not None and (role != user.role or chapter_id != user.chapter_id):
        if role not in ROLES:
            raise field_error("role", _l("Unknown role."))
        if user.id == actor.id and role != user.role:
            raise field_error("role", _l("You cannot change your own role."), PermissionDenied)
        new_chapter = _check_role_chapter(role, chapter_id)
        old = {"role": user.role, "chapter_id": user.chapter_id}
        user.role, user.chapter_id = role, new_chapter
        user.session_version += 1  # permissions changed: sign in again
        audit.record("role_changed", actor=actor, ip=ip, chapter_id=new_chapter or old["chapter_id"],
                     target_type="user", target_id=user.id,
                     details={"old": old, "new": {"role": role, "chapter_id": new_chapter}})
    else:
        audit.record("user_updated", actor=actor, ip=ip, chapter_id=user.chapter_id,
                     target_type="user", target_id=user.id)
    db.session.flush()
    return user


def set_active(user: User, active: bool, *, actor: User, ip: str | None = None) -> User:
    """Deactivate (ending every session and token use) or reactivate an account."""
    if user.id == actor.id and not active:
        raise PermissionDenied(_l("You cannot deactivate your own account."))
    if user.is_active_user == active:
        return user
    user.is_active_user = active
    user.session_version += 1
    audit.record("user_reactivated" if active else "user_deactivated", actor=actor, ip=ip,
                 chapter_id=user.chapter_id, target_type="user", target_id=user.id)
    db.session.flush()
    return user


def change_password(
    user: User, new_password: str, *, current_password: str | None, actor: User,
    ip: str | None = None,
) -> User:
    """Set a new password; the user's other sessions end at their next request.

    Users changing their own password must give the current one; an admin resetting
    another user's password need not.
    """
    if actor.id == user.id and not verify_password(user, current_password or ""):
        raise field_error("current_password", _l("The current password is wrong."))
    check_password_strength(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record("password_changed", actor=actor, ip=ip, chapter_id=user.chapter_id,
                 target_type="user", target_id=user.id)
    db.session.flush()
    return user


def unlock(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


# --- chapter staff ---------------------------------------------------------------

def chapter_staff_query(chapter_id: int) -> sa.Select:
    """The accounts of one chapter: the only way chapter code lists users."""
    return (
        sa.select(User)
        .where(User.chapter_id == chapter_id, User.role.in_(CHAPTER_ROLES))
        .order_by(User.role, User.display_name)
    )


def get_chapter_user(chapter_id: int, user_id: int) -> User:
    """A user of the given chapter; another chapter's user is not found."""
    user = db.session.execute(
        chapter_staff_query(chapter_id).where(User.id == user_id)
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(_l("No such user."))
    return user


def check_can_manage(actor: User, target: User) -> None:
    """HQ admins manage everyone; a chapter manager manages their chapter's staff."""
    if actor.role == HQ_ADMIN:
        return
    if actor.role == CHAPTER_MANAGER and target.chapter_id == actor.chapter_id:
        if target.role == CHAPTER_MANAGER and target.id != actor.id:
            raise PermissionDenied(_l("Only HQ can change another manager's account."))
        return
    raise PermissionDenied(_l("You may not manage this account."))


def staff_roles_for(actor: User) -> tuple[str, ...]:
    """Roles a chapter manager may give: staff only (managers are appointed by HQ)."""
    return (CHAPTER_STAFF,) if actor.role == CHAPTER_MANAGER else ROLES


# --- API tokens ----------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, *, days: int, ip: str | None = None) -> tuple[ApiToken, str]:
    """Create a token; the plain token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise field_error("name", _l("Give the token a name."))
    if days < 1 or days > 366:
        raise field_error("days", _l("Choose between 1 and 366 days."))
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name[:64],
        prefix=plain[:12],
        token_hash=_digest(plain),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record("token_created", actor=user, ip=ip, chapter_id=user.chapter_id,
                 target_type="api_token", target_id=token.id, details={"name": token.name})
    return token, plain


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.execute(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ).scalars())


def get_user_token(user: User, token_id: int) -> ApiToken:
    token = db.session.execute(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    ).scalar_one_or_none()
    if token is None:
        raise NotFound(_l("No such token."))
    return token


def revoke_token(token: ApiToken, *, actor: User, ip: str | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("token_revoked", actor=actor, ip=ip, chapter_id=actor.chapter_id,
                     target_type="api_token", target_id=token.id)
        db.session.flush()


#: how stale ``api_tokens.last_used_at`` may get: a token's use is written at most this
#: often, so that an API call is a read, not a write (revocation still counts at once:
#: the token row is read on every call)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass
class TokenCheck:
    user: User | None
    #: lazy message: translated when the 401 is rendered, after the user is known
    error: object = None
    #: ``last_used_at`` was moved on: the caller commits it
    touched: bool = False


@functools.cache
def _token_statement() -> sa.Select:
    """A token and its user by the token's digest (built once: every API call runs it)."""
    return (sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == sa.bindparam("token_hash")))


def authenticate_token(plain: str) -> TokenCheck:
    """Resolve a bearer token to its user, refusing unknown, revoked and expired ones.

    One query reads the token and its user together (what every API call pays).
    """
    if not plain or not plain.startswith(TOKEN_PREFIX):
        return TokenCheck(None, _l("The API token is not valid."))
    row = db.session.execute(_token_statement(), {"token_hash": _digest(plain)}).first()
    if row is None:
        return TokenCheck(None, _l("The API token is not valid."))
    token, user = row
    now = utcnow()
    if token.revoked_at is not None:
        return TokenCheck(None, _l("The API token has been revoked."))
    if token.expires_at <= now:
        return TokenCheck(None, _l("The API token has expired."))
    if not user.is_active_user:
        return TokenCheck(None, _l("This account has been deactivated."))
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
        return TokenCheck(user, touched=True)
    return TokenCheck(user)


