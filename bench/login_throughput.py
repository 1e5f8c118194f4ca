"""Throughput of the login page and of an authenticated chapter page under gunicorn.

Starts ``gunicorn -w 2 wsgi:app`` on a free loopback port against the bench database
(``DATABASE_URL`` if set, else PostgreSQL ``clubplatform_bench`` on 127.0.0.1 as postgres),
after ``flask db upgrade`` and ``flask demo load``. Logs in once as the demo chapter
manager (the login POST is rate limited; the GETs are not), then for a fixed time each
hammers GET /login and GET /chapter/ from a thread pool and prints requests/s, p50, p95
and errors. Standard library only; loopback only; every wait is bounded. The server and
the client driver are in ``gunicorn_driver.py`` (shared with ``points_api.py``).
"""

from __future__ import annotations

import http.client
import re
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gunicorn_driver as gd  # noqa: E402

USERNAME = "bj001.manager"
PASSWORD = "Demo-2026-club"


def request(port: int, method: str, path: str, *, cookie: str | None = None,
            form: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection (gunicorn's sync workers close after each)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=gd.REQUEST_TIMEOUT)
    try:
        headers = {"User-Agent": gd.USER_AGENT, "Accept-Language": "zh-CN"}
        body = None
        if cookie:
            headers["Cookie"] = cookie
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def cookies_from(headers: http.client.HTTPMessage) -> dict[str, str]:
    out = {}
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


def log_in(port: int) -> str:
    """One real login through the form; returns the Cookie header of the session."""
    status, headers, body = request(port, "GET", "/login")
    if status != 200:
        sys.exit(f"GET /login answered {status}")
    jar = cookies_from(headers)
    m = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    if not m:
        sys.exit("no CSRF token on the login page")
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    t0 = time.perf_counter()
    status, headers, _ = request(port, "POST", "/login", cookie=cookie, form={
        "csrf_token": m.group(1).decode(), "username": USERNAME, "password": PASSWORD})
    took = time.perf_counter() - t0
    if status != 302 or not headers.get("Location", "").endswith("/chapter/"):
        sys.exit(f"login failed: {status} -> {headers.get('Location')}")
    jar.update(cookies_from(headers))
    print(f"logged in once as {USERNAME} (login POST took {took * 1e3:.0f} ms, "
          "argon2 verification included)")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def get_page(port: int, path: str, cookie: str | None, marker: bytes):
    """A client call for :func:`gunicorn_driver.hammer`: GET ``path``, expect ``marker``."""

    def call() -> str | None:
        status, _, body = request(port, "GET", path, cookie=cookie)
        if status != 200:
            return f"HTTP {status}"
        return None if marker in body else "content"

    return call


def main() -> int:
    env = gd.bench_env()
    print(f"database: {re.sub(r'//[^@]*@', '//***@', env['DATABASE_URL'])}")
    gd.flask(["db", "upgrade"], env)
    t0 = time.perf_counter()
    out = gd.flask(["demo", "load"], env)
    if USERNAME not in out:
        sys.exit(f"demo load did not list {USERNAME}:\n{out}")
    print(f"demo data loaded ({time.perf_counter() - t0:.1f}s)")
    print(gd.machine_line())
    server = gd.Server(env)
    try:
        cookie = log_in(server.port)
        status, _, body = request(server.port, "GET", "/chapter/", cookie=cookie)
        if status != 200 or b"data-chapter-name" not in body:
            sys.exit(f"GET /chapter/ with the session answered {status}")
        results = {
            "GET /login (anonymous)": gd.hammer(get_page(server.port, "/login", None,
                                                         b"csrf_token")),
            "GET /chapter/ (logged in)": gd.hammer(get_page(server.port, "/chapter/", cookie,
                                                            b"data-chapter-name")),
        }
    finally:
        server.stop()
    for label, r in results.items():
        gd.report(label, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
