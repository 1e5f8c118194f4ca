"""Smoke test of the embedded default, from nothing, over real HTTP.

In a temporary instance folder (fresh SQLite file, no Redis, jobs inline) it runs
``flask db upgrade`` and ``flask demo load``, starts ``flask run`` on a free port and
checks /healthz, the login page and a real login (CSRF token + cookie jar) as the demo
chapter manager. Run by ``make smoke``; exits 1 on any failure.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
USERNAME = "bj001.manager"
PASSWORD = "Demo-2026-club"
DEALER_CODE = "BJ-001"
CLI_TIMEOUT = 180  # seconds for each flask command
START_TIMEOUT = 30  # seconds for the server to answer
HTTP_TIMEOUT = 10  # seconds for each request


class StepFailed(Exception):
    pass


def flask_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "flask"
    if not exe.exists():
        found = shutil.which("flask")
        if not found:
            raise StepFailed("the flask command was not found next to this Python or on PATH")
        exe = Path(found)
    return [str(exe), "--app", "wsgi"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(args: list[str], env: dict) -> str:
    try:
        proc = subprocess.run(flask_cmd() + args, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(f"`flask {' '.join(args)}` did not finish in {CLI_TIMEOUT}s") from exc
    if proc.returncode != 0:
        raise StepFailed(f"`flask {' '.join(args)}` exited {proc.returncode}:\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


class Client:
    """A tiny HTTP client with a cookie jar (urllib follows redirects)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body,
                                     headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        try:
            with self.opener.open(req, timeout=HTTP_TIMEOUT) as resp:
                return resp.status, resp.geturl(), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode("utf-8", "replace")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="clubplatform-smoke-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY",
                        "FLASK_DEBUG", "FLASK_APP")}
    env.update(INSTANCE_DIR=str(tmp / "instance"), SESSION_COOKIE_SECURE="0",
               PYTHONUNBUFFERED="1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server: subprocess.Popen | None = None
    log_path = tmp / "server.log"
    state: dict = {}
    passed = failed = 0

    def step_upgrade() -> str:
        run_cli(["db", "upgrade"], env)
        db_file = tmp / "instance" / "clubplatform.db"
        if not db_file.exists():
            raise StepFailed(f"no SQLite file at {db_file}")
        return f"schema built in {db_file}"

    def step_demo() -> str:
        out = run_cli(["demo", "load"], env)
        if "Demo logins" not in out or USERNAME not in out or PASSWORD not in out:
            raise StepFailed(f"demo load did not print the demo logins:\n{out}")
        with sqlite3.connect(tmp / "instance" / "clubplatform.db") as conn:
            row = conn.execute("SELECT c.name FROM chapters c JOIN dealers d ON d.id = c.dealer_id"
                               " WHERE d.code = ?", (DEALER_CODE,)).fetchone()
        if not row:
            raise StepFailed(f"no chapter for dealer {DEALER_CODE} after demo load")
        state["chapter_name"] = row[0]
        return f"demo logins printed; {DEALER_CODE} chapter is {row[0]}"

    def step_start() -> str:
        nonlocal server
        with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
            server = subprocess.Popen(
                flask_cmd() + ["run", "--host", "127.0.0.1", "--port", str(port),
                               "--no-reload", "--no-debugger"],
                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise StepFailed(f"server exited {server.returncode}:\n{_tail(log_path)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return f"flask run answers on {base}"
            except OSError:
                time.sleep(0.2)
        raise StepFailed(f"server did not answer within {START_TIMEOUT}s:\n{_tail(log_path)}")

    def step_health() -> str:
        status, _, body = Client(base).request("/healthz")
        if status != 200:
            raise StepFailed(f"/healthz answered {status}: {body[:500]}")
        checks = json.loads(body).get("checks", {})
        if checks.get("database") != "ok":
            raise StepFailed(f"database check: {checks}")
        if not str(checks.get("redis", "")).startswith("not configured"):
            raise StepFailed(f"redis should be 'not configured' in the embedded default: {checks}")
        return f"/healthz 200 {checks}"

    def step_login_page() -> str:
        client = Client(base)
        status, _, body = client.request("/login")
        if status != 200 or "登录" not in body:
            raise StepFailed(f"/login answered {status}; 登录 present: {'登录' in body}")
        state["client"], state["login_html"] = client, body
        return "/login 200 with 登录"

    def step_login() -> str:
        client: Client = state["client"]
        m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', state["login_html"]) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', state["login_html"])
        if not m:
            raise StepFailed("no CSRF token in the login form")
        status, url, body = client.request(
            "/login", {"csrf_token": m.group(1), "username": USERNAME, "password": PASSWORD})
        if status != 200 or urllib.parse.urlsplit(url).path != "/chapter/":
            raise StepFailed(f"login ended at {url} with {status}:\n{body[:800]}")
        name = state["chapter_name"]
        if not re.search(r"<h1[^>]*data-chapter-name[^>]*>\s*" + re.escape(name), body):
            raise StepFailed(f"/chapter/ does not show the chapter name {name!r}")
        return f"logged in as {USERNAME}; landed on /chapter/ showing {name}"

    steps = [
        ("flask db upgrade (fresh SQLite)", step_upgrade),
        ("flask demo load", step_demo),
        ("flask run", step_start),
        ("GET /healthz", step_health),
        ("GET /login", step_login_page),
        ("log in as the demo chapter manager", step_login),
    ]
    print(f"smoke: instance folder {tmp / 'instance'}", flush=True)
    try:
        for i, (title, fn) in enumerate(steps, 1):
            t0 = time.monotonic()
            try:
                detail = fn()
            except StepFailed as exc:
                failed += 1
                print(f"[{i}/{len(steps)}] FAIL {title}: {exc}", flush=True)
                skipped = len(steps) - i
                if skipped:
                    print(f"smoke: {skipped} later step(s) not run", flush=True)
                    failed += skipped
                break
            except Exception as exc:  # an unexpected error is a failure, reported plainly
                failed += 1 + len(steps) - i
                print(f"[{i}/{len(steps)}] FAIL {title}: {type(exc).__name__}: {exc}", flush=True)
                break
            passed += 1
            print(f"[{i}/{len(steps)}] ok   {title} ({time.monotonic() - t0:.1f}s): {detail}",
                  flush=True)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=5)
        if failed and log_path.exists():
            print(f"--- server log (tail) ---\n{_tail(log_path)}", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"smoke: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


if __name__ == "__main__":
    sys.exit(main())
