"""What the HTTP throughput benches share: the bench database and instance folder, the
``flask`` CLI, a ``gunicorn`` server on a free loopback port, and the client driver that
sends requests from several threads for a while and reports requests/s, p50 and p95.

Used by ``login_throughput.py`` and ``points_api.py`` (``bench/`` is not a package: they
put this folder on ``sys.path`` and ``import gunicorn_driver``).
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
BIN = Path(sys.executable).parent
BENCH_DB = "clubplatform_bench"
DEFAULT_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"

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
    """The environment of the server and the CLI: ``DATABASE_URL`` or the bench database."""
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


def _healthy(port: int) -> bool:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", "/healthz", headers={"User-Agent": USER_AGENT})
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    finally:
        conn.close()


class Server:
    """``gunicorn -w WORKERS wsgi:app`` on a free loopback port, until :meth:`stop`."""

    def __init__(self, env: dict) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
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
                if _healthy(self.port):
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


def hammer(call: Callable[[], str | None], *, duration: float = DURATION,
           concurrency: int = CONCURRENCY) -> dict:
    """Run ``call() -> None (ok) or the reason it failed`` from ``concurrency`` threads
    for ``duration`` seconds; an ``OSError`` counts as a failure named by its type."""
    stop_at = time.monotonic() + duration
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def loop() -> None:
        mine: list[float] = []
        bad: dict[str, int] = {}
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                why = call()
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
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(loop) for _ in range(concurrency)]
        for f in futures:
            f.result(timeout=duration + REQUEST_TIMEOUT + 5)
    wall = time.monotonic() - started
    return {"ok": len(latencies), "errors": errors, "wall": wall, "lat": latencies}


def report(label: str, r: dict, width: int = 28) -> tuple[float, float]:
    """One line: requests/s, p50, p95, the successes and the errors by reason; returns
    (requests/s, p95 in ms)."""
    lat = sorted(r["lat"])
    n_err = sum(r["errors"].values())
    if len(lat) >= 2:
        qs = statistics.quantiles(lat, n=100)
        p50, p95 = qs[49] * 1e3, qs[94] * 1e3
    else:
        p50 = p95 = float("nan")
    errs = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
    print(f"{label:<{width}} {r['ok'] / r['wall']:8.1f} req/s   p50 {p50:7.2f} ms   "
          f"p95 {p95:7.2f} ms   ok {r['ok']}   errors {n_err} ({errs})")
    return r["ok"] / r["wall"], p95


def machine_line() -> str:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return (f"machine: {cores} cores ({usable} usable); gunicorn {WORKERS} sync workers; "
            f"{CONCURRENCY} client threads on the same machine; {DURATION:.0f}s per endpoint")
