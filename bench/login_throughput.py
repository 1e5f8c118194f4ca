"""Throughput of the login page and of an authenticated chapter page under gunicorn.

Starts ``gunicorn -w 2 wsgi:app`` on a free loopback port against the bench database
(``DATABASE_URL`` if set, else PostgreSQL ``clubplatform_bench`` on 127.0.0.1 as postgres),
after ``flask db upgrade`` and ``flask demo load``. Logs in once as the demo chapter
manager (the login POST is rate limited; the GETs are not), then for a fixed time each
hammers GET /login and GET /chapter/ from a thread pool and prints requests/s, p50, p95
and errors. Standard library only; loopback only; every wait is bounded.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
BIN = Path(sys.executable).parent
BENCH_DB = "clubplatform_bench"
DEFAULT_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"
USERNAME = "bj001.manager"
PASSWORD = "Demo-2026-club"

WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "2"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
DURATION = float(os.environ.get("BENCH_SECONDS", "10"))
REQUEST_TIMEOUT = 10.0
START_TIMEOUT = 30.0
CLI_TIMEOUT = 300
USER_AGENT = "clubplatform-bench/1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
                print(f"created database {name}")
    except psycopg.OperationalError as exc:
        sys.exit(f"cannot reach PostgreSQL on 127.0.0.1:5432 as postgres ({exc}); "
                 "set DATABASE_URL to a database to use")


def bench_env() -> dict:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if url == DEFAULT_URL:
        ensure_database(BENCH_DB)
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "FLASK_DEBUG")}
    # a persistent instance folder: the secrets are made once (by `flask db upgrade`),
    # before the gunicorn workers start, so every worker reads the same ones
    env.update(DATABASE_URL=url, SESSION_COOKIE_SECURE="0",
               INSTANCE_DIR=str(OUT / "instance"), PYTHONUNBUFFERED="1")
    return env


def flask(args: list[str], env: dict) -> str:
    proc = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    if proc.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


class Server:
    def __init__(self, env: dict) -> None:
        self.port = free_port()
        self.log_path = OUT / "gunicorn.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{self.port}",
                 "--graceful-timeout", "5", "wsgi:app"],
                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                sys.exit(f"gunicorn exited {self.proc.returncode}:\n{self.tail()}")
            try:
                status, _, _ = request(self.port, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn did not answer within {START_TIMEOUT:.0f}s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def request(port: int, method: str, path: str, *, cookie: str | None = None,
            form: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection (gunicorn's sync workers close after each)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"User-Agent": USER_AGENT, "Accept-Language": "zh-CN"}
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


def hammer(port: int, path: str, cookie: str | None, marker: bytes) -> dict:
    """Send GET ``path`` from CONCURRENCY threads for DURATION seconds."""
    stop_at = time.monotonic() + DURATION
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def loop() -> None:
        mine: list[float] = []
        bad: dict[str, int] = {}
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                status, _, body = request(port, "GET", path, cookie=cookie)
                ok = status == 200 and marker in body
                why = None if ok else f"HTTP {status}" if status != 200 else "content"
            except OSError as exc:
                why = type(exc).__name__
            elapsed = time.perf_counter() - t0
            if why is None:
                mine.append(elapsed)
            else:
                bad[why] = bad.get(why, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in bad.items():
                errors[k] = errors.get(k, 0) + v

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        futures = [pool.submit(loop) for _ in range(CONCURRENCY)]
        for f in futures:
            f.result(timeout=DURATION + REQUEST_TIMEOUT + 5)
    wall = time.monotonic() - started
    return {"ok": len(latencies), "errors": errors, "wall": wall, "lat": latencies}


def report(label: str, r: dict) -> None:
    lat = sorted(r["lat"])
    n_err = sum(r["errors"].values())
    if len(lat) >= 2:
        qs = statistics.quantiles(lat, n=100)
        p50, p95 = qs[49] * 1e3, qs[94] * 1e3
    else:
        p50 = p95 = float("nan")
    errs = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
    print(f"{label:<28} {r['ok'] / r['wall']:8.1f} req/s   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"
          f"   ok {r['ok']}   errors {n_err} ({errs})")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    env = bench_env()
    print(f"database: {re.sub(r'//[^@]*@', '//***@', env['DATABASE_URL'])}")
    flask(["db", "upgrade"], env)
    t0 = time.perf_counter()
    out = flask(["demo", "load"], env)
    if USERNAME not in out:
        sys.exit(f"demo load did not list {USERNAME}:\n{out}")
    print(f"demo data loaded ({time.perf_counter() - t0:.1f}s)")
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"machine: {cores} cores ({usable} usable); gunicorn {WORKERS} sync workers; "
          f"{CONCURRENCY} client threads on the same machine; {DURATION:.0f}s per endpoint")
    server = Server(env)
    try:
        cookie = log_in(server.port)
        status, _, body = request(server.port, "GET", "/chapter/", cookie=cookie)
        if status != 200 or b"data-chapter-name" not in body:
            sys.exit(f"GET /chapter/ with the session answered {status}")
        results = {
            "GET /login (anonymous)": hammer(server.port, "/login", None, b"csrf_token"),
            "GET /chapter/ (logged in)": hammer(server.port, "/chapter/", cookie,
                                                b"data-chapter-name"),
        }
    finally:
        server.stop()
    for label, r in results.items():
        report(label, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
