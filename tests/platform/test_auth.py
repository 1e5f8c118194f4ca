"""Logging in, lockout, sessions that end, API tokens, roles and who may open what."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from clubplatform.audit.models import AuditLog
from clubplatform.auth import service as auth
from clubplatform.auth.models import ApiToken, User
from clubplatform.db import utcnow
from tests.factories import PASSWORD, make_chapter, make_user

ENGLISH = {"Accept-Language": "en"}
NEW_PASSWORD = "Brand-new-pass-456"


@pytest.fixture
def browser(app, client):
    """Another browser: a new test client (each request in its own app context)."""
    return app.test_client


@pytest.fixture
def log_in(client):
    """Log in through the login form; returns the response."""

    def _log_in(username, password=PASSWORD, c=None, next=None):
        path = "/login" if next is None else f"/login?next={next}"
        return (c or client).post(path, data={"username": username, "password": password},
                                  headers=ENGLISH)

    return _log_in


def _path(resp) -> str:
    return urlsplit(resp.headers.get("Location", "")).path


def _flash_errors(resp) -> list[str]:
    html = resp.get_data(as_text=True)
    return [m.strip() for m in re.findall(r'class="flash flash-error"[^>]*>(.*?)</div>', html, re.S)]


def _audit(db, action, **where) -> list[AuditLog]:
    db.session.expire_all()
    stmt = sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(AuditLog, key) == value)
    return list(db.session.execute(stmt).scalars())


def _reload(db, user_id) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _bearer(db, user) -> dict:
    _, plain = auth.create_token(user, "test", days=30)
    db.session.commit()
    return {"Authorization": f"Bearer {plain}", **ENGLISH}


# --- logging in --------------------------------------------------------------------

@pytest.mark.parametrize(("role", "home"), [
    ("hq_admin", "/hq/"),
    ("chapter_manager", "/chapter/"),
    ("chapter_staff", "/chapter/"),
])
def test_user_lands_on_their_console_after_logging_in(db, log_in, role, home):
    chapter = make_chapter() if role.startswith("chapter") else None
    user = make_user(role, chapter=chapter)

    resp = log_in(user.username)

    assert resp.status_code == 302
    assert _path(resp) == home


def test_landing_console_opens_after_logging_in(client, db, log_in, two_chapters):
    log_in(two_chapters["staff_a"].username)

    assert client.get("/chapter/").status_code == 200


def test_login_follows_a_local_next_path(db, log_in):
    user = make_user("hq_admin")

    resp = log_in(user.username, next="/account")

    assert resp.status_code == 302
    assert resp.headers["Location"] == "/account"


@pytest.mark.parametrize("target", [
    "//evil.example",
    "//evil.example/account",
    "http://evil.example",
    "https://evil.example/hq/",
    "/\\evil.example",
])
def test_login_never_redirects_to_another_site(db, log_in, target):
    user = make_user("hq_admin")

    resp = log_in(user.username, next=target)

    assert resp.status_code == 302
    location = resp.headers["Location"]
    # a browser reads "\" as "/" in a URL; either way the target must stay on this site
    as_browser_reads_it = urlsplit(location.replace("\\", "/"))
    assert not as_browser_reads_it.netloc and not as_browser_reads_it.scheme, location


def test_login_with_an_offsite_next_lands_on_the_console(db, log_in):
    user = make_user("hq_admin")

    resp = log_in(user.username, next="//evil.example")

    assert resp.headers["Location"] == "/hq/"


def test_wrong_password_and_unknown_user_get_the_same_answer(db, log_in):
    user = make_user("hq_admin")

    wrong = log_in(user.username, "Not-the-password-1")
    unknown = log_in("nobody-here", "Not-the-password-1")

    assert wrong.status_code == unknown.status_code == 401
    assert _flash_errors(wrong) == _flash_errors(unknown)
    assert _flash_errors(wrong) == ["Wrong username or password."]


def test_wrong_password_is_written_to_the_audit_log(db, log_in):
    user = make_user("hq_admin")

    log_in(user.username, "Not-the-password-1")

    [entry] = _audit(db, "login_failed")
    assert entry.actor_id == user.id
    assert entry.details["reason"] == "wrong_password"


def test_unknown_user_login_is_written_to_the_audit_log(db, log_in):
    log_in("nobody-here", "Not-the-password-1")

    [entry] = _audit(db, "login_failed")
    assert entry.actor_id is None
    assert entry.actor_name == "nobody-here"


def test_successful_login_is_written_to_the_audit_log(db, log_in):
    user = make_user("hq_admin")

    log_in(user.username)

    [entry] = _audit(db, "login")
    assert entry.actor_id == user.id
    assert _audit(db, "login_failed") == []


# --- lockout -----------------------------------------------------------------------

def _fail_five_times(log_in, username) -> list:
    return [log_in(username, "Not-the-password-1") for _ in range(5)]


def test_account_locks_after_five_wrong_passwords(app, db, log_in):
    assert app.config["LOGIN_MAX_FAILURES"] == 5
    user = make_user("hq_admin")

    answers = _fail_five_times(log_in, user.username)

    assert [r.status_code for r in answers] == [401] * 5
    assert len(_audit(db, "login_failed", actor_id=user.id)) == 4
    [locked] = _audit(db, "login_locked", actor_id=user.id)
    assert locked.details["failures"] == 5
    assert _reload(db, user.id).is_locked()


def test_four_wrong_passwords_do_not_lock_the_account(db, log_in):
    user = make_user("hq_admin")

    for _ in range(4):
        log_in(user.username, "Not-the-password-1")

    assert log_in(user.username).status_code == 302
    assert _audit(db, "login_locked") == []


def test_locked_account_refuses_even_the_right_password(db, log_in):
    user = make_user("hq_admin")
    _fail_five_times(log_in, user.username)

    resp = log_in(user.username)

    assert resp.status_code == 401
    assert "locked" in " ".join(_flash_errors(resp))
    assert _audit(db, "login", actor_id=user.id) == []


def test_hq_admin_reactivating_a_locked_account_unlocks_it(browser, db, log_in, login_as):
    user = make_user("chapter_manager", chapter=make_chapter())
    _fail_five_times(log_in, user.username)
    admin_browser = login_as(make_user("hq_admin"), browser())

    resp = admin_browser.post(f"/hq/users/{user.id}/active", data={"active": "1"})

    assert resp.status_code == 302
    assert not _reload(db, user.id).is_locked()
    assert _path(log_in(user.username)) == "/chapter/"


# --- deactivation and sessions that end --------------------------------------------

def test_deactivated_user_cannot_log_in(browser, db, log_in, login_as):
    user = make_user("hq_analyst")
    admin_browser = login_as(make_user("hq_admin"), browser())
    admin_browser.post(f"/hq/users/{user.id}/active", data={})

    resp = log_in(user.username)

    assert resp.status_code == 401
    assert _flash_errors(resp) == ["This account has been deactivated."]


def test_deactivated_users_open_session_ends_at_their_next_request(
        browser, db, login_as, two_chapters):
    staff = two_chapters["staff_a"]
    staff_browser = login_as(staff, browser())
    assert staff_browser.get("/chapter/").status_code == 200
    admin_browser = login_as(make_user("hq_admin"), browser())

    deactivated = admin_browser.post(f"/hq/users/{staff.id}/active", data={})

    assert deactivated.status_code == 302
    assert _audit(db, "user_deactivated", target_id=str(staff.id))
    resp = staff_browser.get("/chapter/")
    assert resp.status_code == 302
    assert _path(resp) == "/login"


def _change_password(c):
    return c.post("/account", data={
        "action": "password", "pw-current_password": PASSWORD, "pw-new_password": NEW_PASSWORD,
    })


def test_changing_password_logs_out_the_users_other_sessions(browser, db, log_in):
    user = make_user("chapter_manager", chapter=make_chapter())
    here, elsewhere = browser(), browser()
    log_in(user.username, c=here)
    log_in(user.username, c=elsewhere)
    assert elsewhere.get("/account").status_code == 200

    _change_password(here)

    resp = elsewhere.get("/account")
    assert resp.status_code == 302
    assert _path(resp) == "/login"


def test_changing_password_keeps_the_current_session(browser, db, log_in):
    user = make_user("chapter_manager", chapter=make_chapter())
    here = browser()
    log_in(user.username, c=here)

    changed = _change_password(here)

    assert changed.status_code == 302
    assert _path(changed) == "/account"
    assert here.get("/account").status_code == 200


def test_new_password_works_after_changing_it(browser, db, log_in):
    user = make_user("hq_admin")
    here = browser()
    log_in(user.username, c=here)

    _change_password(here)

    assert log_in(user.username, PASSWORD, c=browser()).status_code == 401
    assert log_in(user.username, NEW_PASSWORD, c=browser()).status_code == 302


def test_saving_ones_profile_on_the_account_page_works(client, db, login_as):
    user = make_user("hq_admin")
    login_as(user)

    resp = client.post("/account", data={
        "action": "profile", "profile-display_name": "Renamed Admin", "profile-email": "",
        "profile-locale": "en",
    })

    assert resp.status_code == 302
    assert _reload(db, user.id).display_name == "Renamed Admin"


def test_token_created_on_the_account_page_is_shown_once(client, db, login_as):
    user = make_user("hq_admin")
    login_as(user)

    resp = client.post("/account", data={"action": "token", "token-name": "laptop",
                                          "token-days": "30"})

    assert resp.status_code == 200
    shown = re.search(r"<code class=\"token\" data-new-token>(ccp_[^<]+)</code>",
                      resp.get_data(as_text=True))
    assert shown
    again = client.get("/account").get_data(as_text=True)
    assert shown.group(1) not in again


# --- rate limit --------------------------------------------------------------------

def test_login_posts_are_rate_limited(app, db, log_in):
    old = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [log_in("nobody-here", "Not-the-password-1").status_code for _ in range(4)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = old

    assert answers == [401, 401, 401, 429]


def test_rate_limit_does_not_apply_to_opening_the_login_page(client, app, db):
    old = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [client.get("/login").status_code for _ in range(5)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = old

    assert answers == [200] * 5


# --- API tokens --------------------------------------------------------------------

def test_token_created_through_the_api_identifies_its_owner(client, db):
    user = make_user("chapter_staff", chapter=make_chapter())

    created = client.post("/api/v1/auth/tokens", headers=_bearer(db, user),
                   json={"name": "laptop", "days": 30})

    assert created.status_code == 201
    plain = created.get_json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == user.username


def _assert_unauthorized(resp) -> str:
    assert resp.status_code == 401
    body = resp.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unauthorized"
    return body["error"]["message"]


def test_revoked_token_is_refused_saying_it_was_revoked(client, db):
    user = make_user("hq_admin")
    token, plain = auth.create_token(user, "old", days=30)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}", **ENGLISH}
    assert client.delete(f"/api/v1/auth/tokens/{token.id}", headers=headers).status_code == 204

    message = _assert_unauthorized(client.get("/api/v1/auth/me", headers=headers))

    assert "revoked" in message.lower()


def _last_used(db, token_id):
    return db.session.execute(sa.select(ApiToken.__table__.c.last_used_at)
                              .where(ApiToken.id == token_id)).scalar_one()


def test_a_tokens_use_is_written_at_most_once_a_minute(client, db):
    user = make_user("hq_admin")
    token, plain = auth.create_token(user, "api", days=30)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}", **ENGLISH}

    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    first = _last_used(db, token.id)
    assert first is not None
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert _last_used(db, token.id) == first  # a read stays a read

    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id).values(
        last_used_at=utcnow() - auth.TOKEN_TOUCH_INTERVAL - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert _last_used(db, token.id) > first


def test_a_token_revoked_between_two_calls_stops_the_second_at_once(client, db):
    user = make_user("hq_admin")
    token, plain = auth.create_token(user, "api", days=30)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}", **ENGLISH}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200

    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id)
                       .values(revoked_at=utcnow()))
    db.session.commit()

    assert "revoked" in _assert_unauthorized(client.get("/api/v1/auth/me",
                                                        headers=headers)).lower()


def test_expired_token_is_refused_saying_it_expired(client, db):
    user = make_user("hq_admin")
    token, plain = auth.create_token(user, "old", days=30)
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    message = _assert_unauthorized(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plain}", **ENGLISH}))

    assert "expired" in message.lower()


@pytest.mark.parametrize("garbage", ["garbage", "ccp_" + "x" * 43, ""])
def test_garbage_token_is_refused(client, db, garbage):
    make_user("hq_admin")

    resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {garbage}", **ENGLISH})

    _assert_unauthorized(resp)


@pytest.mark.parametrize("garbage", ["garbage", "ccp_" + "x" * 43])
def test_refusing_a_bad_token_looks_it_up_only_once(client, db, monkeypatch, garbage):
    lookups = []
    real = auth.authenticate_token

    def counting(plain):
        lookups.append(plain)
        return real(plain)

    monkeypatch.setattr(auth, "authenticate_token", counting)

    resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {garbage}"})

    assert resp.status_code == 401
    assert len(lookups) == 1


def test_api_without_any_credentials_is_refused(client, db):
    _assert_unauthorized(client.get("/api/v1/auth/me", headers=ENGLISH))


def test_only_the_sha256_of_a_token_is_stored(client, db):
    import hashlib

    user = make_user("hq_admin")

    created = client.post("/api/v1/auth/tokens", headers=_bearer(db, user),
                   json={"name": "stored", "days": 30})

    body = created.get_json()
    plain = body["token"]
    row = db.session.execute(
        sa.select(ApiToken.__table__).where(ApiToken.id == body["id"])).mappings().one()
    assert row["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert all(plain not in str(value) for value in row.values())


def test_token_of_a_deactivated_user_is_refused(client, db):
    user = make_user("hq_analyst")
    headers = _bearer(db, user)
    auth.set_active(user, False, actor=make_user("hq_admin"))
    db.session.commit()

    _assert_unauthorized(client.get("/api/v1/auth/me", headers=headers))


# --- roles -------------------------------------------------------------------------

def _change_role(admin_browser, user, role, chapter):
    return admin_browser.post(f"/hq/users/{user.id}", data={
        "action": "save", "display_name": user.display_name, "email": "",
        "role": role, "chapter_id": str(chapter.id if chapter else 0),
    })


def test_role_change_by_hq_admin_is_audited(browser, db, login_as, two_chapters):
    staff, chapter = two_chapters["staff_a"], two_chapters["a"]
    admin = make_user("hq_admin")
    admin_browser = login_as(admin, browser())

    resp = _change_role(admin_browser, staff, "chapter_manager", chapter)

    assert resp.status_code == 302
    [entry] = _audit(db, "role_changed", target_id=str(staff.id))
    assert entry.actor_id == admin.id
    assert entry.details["old"]["role"] == "chapter_staff"
    assert entry.details["new"]["role"] == "chapter_manager"
    assert _reload(db, staff.id).role == "chapter_manager"


def test_role_change_ends_the_users_sessions(browser, db, login_as, two_chapters):
    staff, chapter = two_chapters["staff_a"], two_chapters["a"]
    staff_browser = login_as(staff, browser())
    assert staff_browser.get("/chapter/").status_code == 200
    admin_browser = login_as(make_user("hq_admin"), browser())

    _change_role(admin_browser, staff, "chapter_manager", chapter)

    resp = staff_browser.get("/chapter/")
    assert resp.status_code == 302
    assert _path(resp) == "/login"


def test_chapter_manager_creates_staff_in_their_own_chapter_whatever_chapter_is_posted(
        client, db, login_as, two_chapters):
    manager = two_chapters["manager_a"]
    login_as(manager)

    resp = client.post("/chapter/staff/new", data={
        "username": "advisor.wang", "display_name": "Wang", "email": "",
        "role": "chapter_staff", "chapter_id": str(two_chapters["b"].id),
        "password": "Advisor-pass-789",
    })

    assert resp.status_code == 302
    created = auth.find_user("advisor.wang")
    assert created.chapter_id == two_chapters["a"].id
    assert created.role == "chapter_staff"


def test_chapter_manager_cannot_create_another_manager(client, db, login_as, two_chapters):
    login_as(two_chapters["manager_a"])

    resp = client.post("/chapter/staff/new", data={
        "username": "deputy", "display_name": "Deputy", "email": "",
        "role": "chapter_manager", "chapter_id": str(two_chapters["a"].id),
        "password": "Deputy-pass-789",
    })

    assert resp.status_code == 422
    assert auth.find_user("deputy") is None


@pytest.mark.parametrize("path", ["/hq/", "/hq/users", "/hq/org/dealers", "/hq/users/new"])
def test_chapter_manager_cannot_open_hq_pages(client, db, login_as, two_chapters, path):
    login_as(two_chapters["manager_a"])

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("credentials", ["session", "token"])
def test_chapter_manager_cannot_call_the_hq_api(client, db, login_as, two_chapters, credentials):
    manager = two_chapters["manager_a"]
    if credentials == "session":
        login_as(manager)
        headers = ENGLISH
    else:
        headers = _bearer(db, manager)

    resp = client.get("/api/v1/org/dealers", headers=headers)

    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    assert resp.get_json()["error"]["message"]


def test_chapter_staff_cannot_open_staff_management(client, db, login_as, two_chapters):
    login_as(two_chapters["staff_a"])

    assert client.get("/chapter/staff/").status_code == 403


# --- validation --------------------------------------------------------------------

def _creator(who, two_chapters):
    """The page that creates accounts, and a user allowed to use it."""
    if who == "hq":
        return "/hq/users/new", make_user("hq_admin")
    return "/chapter/staff/new", two_chapters["manager_a"]


@pytest.mark.parametrize("who", ["hq", "chapter"])
def test_new_account_with_a_too_short_password_is_refused_next_to_the_field(
        client, db, login_as, two_chapters, who):
    path, actor = _creator(who, two_chapters)
    login_as(actor)

    resp = client.post(path, headers=ENGLISH, data={
        "username": "shorty", "display_name": "Shorty", "role": "chapter_staff",
        "chapter_id": str(two_chapters["a"].id), "password": "Ab1-",
    })

    assert resp.status_code == 422
    assert 'data-field-error="password"' in resp.get_data(as_text=True)
    assert auth.find_user("shorty") is None


@pytest.mark.parametrize("who", ["hq", "chapter"])
def test_new_account_with_a_taken_username_is_refused_next_to_the_field(
        client, db, login_as, two_chapters, who):
    path, actor = _creator(who, two_chapters)
    taken = two_chapters["staff_b"].username
    login_as(actor)

    resp = client.post(path, headers=ENGLISH, data={
        "username": taken.upper(), "display_name": "Twin", "role": "chapter_staff",
        "chapter_id": str(two_chapters["a"].id), "password": "Good-pass-12345",
    })

    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert re.search(r'data-field-error="username">This username is already taken\.<', html)
    db.session.expire_all()
    assert db.session.execute(
        sa.select(sa.func.count()).select_from(User).where(User.username == taken)).scalar() == 1

