"""Security headers, CSRF, no inline script or style, health, error shapes, cookie flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clubplatform.auth import service as auth
from clubplatform.config import Config
from tests.factories import PASSWORD, make_chapter, make_user

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_GLOBS = ("platform/templates/**/*.html", "hq/**/templates/**/*.html",
                  "chapter/**/templates/**/*.html")


@pytest.fixture
def csrf_on(app):
    """CSRF protection as in production (TestConfig turns it off)."""
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def _csp_directives(resp) -> dict[str, list[str]]:
    policy = resp.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _as(role, login_as):
    chapter = make_chapter() if role.startswith("chapter") else None
    return login_as(make_user(role, chapter=chapter))


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _session(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess)


# --- headers -----------------------------------------------------------------------

PAGES = [  # (role or None for anonymous, path, expected status)
    (None, "/login", 200),
    (None, "/no-such-page", 404),
    ("hq_admin", "/hq/", 200),
    ("hq_admin", "/hq/users", 200),
    ("chapter_manager", "/chapter/", 200),
    ("chapter_manager", "/chapter/staff/", 200),
    ("chapter_staff", "/account", 200),
    ("chapter_staff", "/hq/", 403),
]


@pytest.mark.parametrize(("role", "path", "status"), PAGES)
def test_html_pages_carry_a_csp_without_inline_scripts(client, db, login_as, role, path, status):
    if role:
        _as(role, login_as)

    resp = client.get(path)

    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    directives = _csp_directives(resp)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts, "the CSP restricts no script source"
    assert "'unsafe-inline'" not in scripts
    assert "*" not in scripts
    assert directives.get("frame-ancestors") == ["'none'"]


@pytest.mark.parametrize(("role", "path", "status"), PAGES)
def test_html_pages_forbid_framing_and_mime_sniffing(client, db, login_as, role, path, status):
    if role:
        _as(role, login_as)

    resp = client.get(path)

    assert resp.status_code == status
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("role", "path"), [
    (role, path) for role, path, status in PAGES if role and status == 200])
def test_authenticated_pages_are_never_cached(client, db, login_as, role, path):
    _as(role, login_as)

    resp = client.get(path)

    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"


def test_authenticated_api_answers_are_never_cached(client, db):
    _, plain = auth.create_token(make_user("hq_admin"), "t", days=1)
    db.session.commit()

    resp = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plain}"})

    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "private, no-store"


# --- CSRF --------------------------------------------------------------------------

def test_login_post_without_csrf_token_is_refused(client, db, csrf_on):
    user = make_user("hq_admin")

    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})

    assert resp.status_code == 400
    assert "_user_id" not in _session(client)


def test_login_post_with_the_forms_csrf_token_logs_in(client, db, csrf_on):
    user = make_user("hq_admin")
    token = _csrf_token(client.get("/login").get_data(as_text=True))

    resp = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                       "csrf_token": token})

    assert resp.status_code == 302
    assert resp.headers["Location"] == "/hq/"


def test_cookie_authenticated_api_write_without_csrf_header_is_refused(
        client, db, login_as, csrf_on):
    user = make_user("hq_admin")
    login_as(user)

    resp = client.post("/api/v1/auth/tokens", json={"name": "forged", "days": 1})

    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "bad_request"
    assert auth.user_tokens(user) == []


def test_cookie_authenticated_api_write_with_csrf_header_passes(client, db, login_as, csrf_on):
    login_as(make_user("hq_admin"))
    token = _csrf_token(client.get("/account").get_data(as_text=True))

    resp = client.post("/api/v1/auth/tokens", json={"name": "from the page", "days": 1},
                       headers={"X-CSRFToken": token})

    assert resp.status_code == 201


def test_bearer_token_api_write_needs_no_csrf_header(client, db, csrf_on):
    _, plain = auth.create_token(make_user("hq_admin"), "script", days=1)
    db.session.commit()

    resp = client.post("/api/v1/auth/tokens", json={"name": "another", "days": 1},
                       headers={"Authorization": f"Bearer {plain}"})

    assert resp.status_code == 201


def test_bearer_token_api_write_with_a_session_cookie_too_is_judged_by_the_token(
        client, db, login_as, csrf_on):
    login_as(make_user("hq_admin"))  # a phone app that also kept a session cookie
    _, plain = auth.create_token(make_user("hq_admin"), "app", days=1)
    db.session.commit()

    resp = client.post("/api/v1/auth/tokens", json={"name": "another", "days": 1},
                       headers={"Authorization": f"Bearer {plain}"})

    assert resp.status_code == 201


def test_a_revoked_token_is_refused_even_with_a_valid_session_cookie(client, db, login_as):
    user = make_user("hq_admin")
    login_as(user)
    token, plain = auth.create_token(user, "app", days=1)
    auth.revoke_token(token, actor=user)
    db.session.commit()

    resp = client.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {plain}"})

    assert resp.status_code == 401


# --- templates ---------------------------------------------------------------------

def _templates() -> list[Path]:
    found = sorted({p for pattern in TEMPLATE_GLOBS for p in REPO.glob(pattern)})
    assert len(found) >= 10, "the template walk found too few templates"
    return found


def _offenders(pattern: re.Pattern) -> list[str]:
    out = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            out.append(f"{path.relative_to(REPO)}:{line}: {match.group(0)[:60]}")
    return out


def test_no_template_has_an_inline_script():
    inline = re.compile(r"<script\b[^>]*>(?!\s*</script>).+?</script>", re.S | re.I)

    assert _offenders(inline) == []


def test_no_template_has_an_inline_style_attribute():
    assert _offenders(re.compile(r"\sstyle\s*=", re.I)) == []


def test_no_template_has_an_inline_event_handler():
    assert _offenders(re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)) == []


# --- health and errors -------------------------------------------------------------

def test_health_check_reports_the_database_ok(client, db):
    resp = client.get("/healthz")

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert "redis" in body["checks"]


def test_unknown_api_path_answers_404_in_the_json_error_shape(client, db, login_as):
    login_as(make_user("hq_admin"))

    resp = client.get("/api/v1/nope")

    assert resp.status_code == 404
    assert resp.mimetype == "application/json"
    error = resp.get_json()["error"]
    assert error["code"] == "not_found"
    assert error["message"]
    assert error["fields"] == {}


def test_unknown_api_path_answers_404_even_without_credentials(client, db):
    resp = client.get("/api/v1/nope")

    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_unknown_page_answers_404_html(client, db):
    resp = client.get("/no-such-page", headers={"Accept-Language": "en"})

    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert "Page not found" in resp.get_data(as_text=True)


# --- session cookies ---------------------------------------------------------------

@pytest.fixture
def production_env(monkeypatch):
    """Environment for ``Config()`` that writes no secret files into instance/."""
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "f" * 32)
    monkeypatch.setenv("FIELD_INDEX_KEY", "i" * 32)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    return monkeypatch


def test_production_session_cookie_is_secure_httponly_and_lax(production_env):
    config = Config()

    assert config.SESSION_COOKIE_SECURE is True
    assert config.REMEMBER_COOKIE_SECURE is True
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.REMEMBER_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"


def test_secure_cookie_flag_can_be_turned_off_for_plain_http(production_env):
    production_env.setenv("SESSION_COOKIE_SECURE", "0")

    config = Config()

    assert config.SESSION_COOKIE_SECURE is False
    assert config.REMEMBER_COOKIE_SECURE is False
    assert config.SESSION_COOKIE_HTTPONLY is True
    assert config.SESSION_COOKIE_SAMESITE == "Lax"


def test_test_config_sends_the_session_cookie_over_plain_http(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_login_sets_an_httponly_samesite_lax_session_cookie(client, db):
    user = make_user("hq_admin")

    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})

    assert resp.status_code == 302
    [cookie] = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in flags
