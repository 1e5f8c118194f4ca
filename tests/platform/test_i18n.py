"""Languages: Chinese by default, English on request, dates in Shanghai time, a complete catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from tests.factories import make_user

TRANSLATIONS = Path(__file__).resolve().parents[2] / "platform" / "translations"


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _text(resp) -> str:
    return resp.get_data(as_text=True)


def _extract_fresh(tmp_path: Path):
    """Extract the messages from the source as it is now (not the committed .pot)."""
    import subprocess
    import sys

    root = TRANSLATIONS.parents[1]
    out = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F",
         str(root / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext", "-o", str(out), str(root)],
        check=True, cwd=root, capture_output=True,
    )
    return _read(out)


def test_every_message_has_a_chinese_translation(tmp_path):
    template = _extract_fresh(tmp_path)
    zh = _read(TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po")
    missing = []
    for message in template:
        if not message.id:
            continue
        translated = zh.get(message.id, context=message.context)
        strings = translated.string if translated is not None else None
        if isinstance(strings, tuple):
            ok = all(strings)
        else:
            ok = bool(strings)
        if not ok or (translated is not None and translated.fuzzy):
            missing.append(message.id)
    assert not missing, "untranslated in zh_Hans_CN (run `make babel` and translate):\n" + "\n".join(
        repr(m) for m in missing)


def test_login_page_is_chinese_by_default(client):
    resp = client.get("/login")
    assert resp.status_code == 200
    assert "<h1>登录</h1>" in _text(resp)


def test_browser_asking_for_english_gets_english(client):
    resp = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = _text(resp)
    assert "<h1>Log in</h1>" in html
    assert "登录" not in html


def test_language_switch_is_remembered_for_the_session(app, client):
    assert "<h1>登录</h1>" in _text(client.get("/login"))

    switched = client.post("/lang/en", data={"next": "/login"})
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/login")

    html = _text(client.get("/login"))
    assert "<h1>Log in</h1>" in html
    assert "登录" not in html


def test_users_language_preference_wins(client, db, login_as):
    user = make_user("hq_admin", locale="en")
    login_as(user)
    resp = client.get("/account", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    html = _text(resp)
    assert resp.status_code == 200
    assert "<h1>Account</h1>" in html
    assert "我的账号" not in html


def test_dates_are_shown_in_shanghai_time(app):
    evening_utc = datetime(2026, 1, 1, 17, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        shown = app.jinja_env.filters["datetime"](evening_utc)
    # 17:30 UTC on 1 January is 01:30 on 2 January in Asia/Shanghai (UTC+8)
    assert shown == "2026/1/2 01:30"


def test_empty_password_is_refused_with_a_chinese_message(client):
    resp = client.post("/login", data={"username": "someone", "password": ""})
    html = _text(resp)
    assert resp.status_code == 200
    assert 'data-field-error="password">该字段是必填字段。<' in html
    assert "This field is required." not in html
