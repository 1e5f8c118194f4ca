"""The UI shell in a real browser: login, language switch, phone menu, CSP, no outside calls.

Drives Debian's chromium through Playwright's sync API (never ``playwright install``)
against the session app served from a thread. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.factories import PASSWORD, make_chapter, make_user

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # as in conftest's NEEDS check
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def live_url(app) -> Iterator[str]:
    """The session app, served over real HTTP from a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """What a page did that a test cares about: outside requests and console errors."""

    def __init__(self, page) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _request(self, req) -> None:
        parts = urlsplit(req.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.hostname not in LOCAL_HOSTS:
            self.outside.append(req.url)

    def _console(self, msg) -> None:
        if msg.type == "error":
            where = (msg.location or {}).get("url", "")
            self.errors.append(f"{msg.text} [{where}]")

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def new_page(browser, live_url, viewport: dict = DESKTOP):
    """A fresh browser context of a Chinese user (Accept-Language zh-CN) and its page,
    watched for outside requests and console errors; close the context when done."""
    context = browser.new_context(base_url=live_url, locale="zh-CN", viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.watch = Watch(pg)
    return context, pg


@pytest.fixture
def page(browser, live_url):
    context, pg = new_page(browser, live_url)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def phone(browser, live_url):
    """A page on a phone-sized screen."""
    context, pg = new_page(browser, live_url, PHONE)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def manager(db):
    """A chapter and its manager; returns (username, chapter name) as plain values."""
    chapter = make_chapter(name="北京星徽车友会")
    user = make_user("chapter_manager", chapter=chapter, display_name="张伟")
    data = (user.username, chapter.name)
    db.session.rollback()  # end the read transaction: the server thread writes next
    return data


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, username: str, lands: str | None = "**/chapter/") -> None:
    """Log in through the login page and wait for the landing page (``lands``)."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=login]")
    if lands:
        page.wait_for_url(lands)


def _assert_clean(page) -> None:
    assert page.watch.outside == [], f"requests left the machine: {page.watch.outside}"
    assert page.watch.csp_violations() == [], page.watch.csp_violations()
    # the only error allowed: the browser's own request for /favicon.ico (the app has none)
    assert [e for e in page.watch.errors if "/favicon.ico]" not in e] == [], page.watch.errors


def test_login_lands_on_console_and_language_switches(page, manager):
    username, chapter_name = manager
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "登录" in page.locator("h1").inner_text()
    _shot(page, "login-zh")

    log_in(page, username)
    heading = page.locator("h1[data-chapter-name]")
    assert heading.inner_text() == chapter_name
    body = page.locator("body").inner_text()
    assert "退出" in body and "Log out" not in body
    _shot(page, "chapter-console-zh")

    page.click("[data-lang-switch]")
    page.wait_for_load_state()
    page.locator("html[lang=en]").wait_for()
    assert page.url.endswith("/chapter/")
    body = page.locator("body").inner_text()
    assert "Log out" in body and "Staff accounts" in body
    assert page.locator("[data-lang-switch]").inner_text() == "中文"
    _shot(page, "chapter-console-en")

    page.click("[data-lang-switch]")
    page.locator("html[lang=zh-CN]").wait_for()
    assert "退出" in page.locator("body").inner_text()
    assert page.locator("[data-lang-switch]").inner_text() == "English"
    _assert_clean(page)


def test_phone_width_menu_opens(page, manager):
    username, _ = manager
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, username)
    toggle = page.locator("[data-nav-toggle]")
    nav = page.locator("#mainnav")
    assert toggle.is_visible()
    assert not nav.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    _shot(page, "phone-menu-closed")

    toggle.click()
    nav.wait_for(state="visible")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert nav.locator("a").first.is_visible()
    _shot(page, "phone-menu-open")

    toggle.click()
    nav.wait_for(state="hidden")
    _assert_clean(page)


def test_pages_stay_on_this_machine_and_obey_the_csp(page, manager):
    username, _ = manager
    log_in(page, username)
    for path in ("/chapter/", "/chapter/staff/", "/jobs/", "/account", "/api/v1/docs"):
        resp = page.goto(path)
        assert resp is not None and resp.status == 200, path
        csp = resp.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    _assert_clean(page)
