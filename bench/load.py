"""Load test: a mixed workload from a second process (locust, headless) against the app.

    .venv/bin/python bench/load.py                 # against a running `make prod` (BASE_URL)
    .venv/bin/python bench/load.py --start         # start gunicorn + 2 RQ workers itself

The mix (weights): portal balance (member: /portal/points/) 4, chapter member list
(/chapter/members/) 3, care list (/chapter/care/) 2, RSVP (member: POST
/api/v1/portal/events/<id>/rsvp with the member's API token, to an open event the setup
makes once in the busiest chapter: the first request registers, the others find the
registration) 1, HQ dashboard
(/hq/) 1. The logins are made once by a setup process (users ``load.*`` with a known
password, the member linked to an existing member of the busiest chapter) and shared by
all simulated users, so the login rate limit is not what is measured.

Prints requests/s, p50/p95/p99 per kind and in total, errors, and the resident memory of the
app (gunicorn master + workers) and of the RQ workers. Goal: >= 500 req/s at p95 <= 100 ms
on the 2-core machine. The load generator competes with the server for the same cores:
read the figures with the core count printed.

Environment: ``BASE_URL`` (default http://127.0.0.1:8000), ``DATABASE_URL`` (default
``clubplatform_bench``, the national dataset of bench/datagen.py; only for the setup and for
--start), ``LOAD_USERS`` (concurrent simulated users, default 40), ``LOAD_SECONDS``
(default 30), ``REDIS_URL`` for --start (default db 6).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
DB_URL = os.environ.get("DATABASE_URL") or \
    "postgresql+psycopg://postgres@127.0.0.1:5432/clubplatform_bench"
PASSWORD = "Load-pass-2026"


# ---------------------------------------------------------------- setup (its own process)
def setup() -> dict:
    """Create the load users; print what the load process needs (runs without gevent)."""
    os.environ["DATABASE_URL"] = DB_URL
    os.environ.setdefault("INSTANCE_DIR", str(REPO / "bench" / "out" / "instance"))
    os.environ.setdefault("LOG_FORMAT", "text")
    import sqlalchemy as sa

    from clubplatform.app import create_app
    from clubplatform.auth import service as auth
    from clubplatform.auth.models import User
    from clubplatform.config import Config
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope, unscoped

    app = create_app(Config())
    with app.app_context():
        chapter_id = db.session.execute(sa.text(
            "SELECT chapter_id FROM members GROUP BY chapter_id ORDER BY count(*) DESC "
            "LIMIT 1")).scalar()

        def user(name: str, role: str, chapter: int | None) -> User:
            u = db.session.execute(sa.select(User).filter_by(username=name)).scalar_one_or_none()
            if u is None:
                u = auth.create_user(username=name, display_name=name, password=PASSWORD,
                                     role=role, chapter_id=chapter)
            u.password_hash = auth.hash_password(PASSWORD)
            u.failed_logins, u.locked_until = 0, None
            return u

        user("load.manager", "chapter_manager", chapter_id)
        user("load.analyst", "hq_analyst", None)
        member_user = user("load.member", "member", None)
        db.session.commit()
        from chapter.owners.models import Owner
        from hq.members.models import Member

        with unscoped("load bench: link the load member"):
            db.session.execute(sa.update(Member.__table__).where(
                Member.__table__.c.user_id == member_user.id).values(user_id=None))
        with chapter_scope(chapter_id):
            member = db.session.execute(sa.select(Member).where(
                Member.status == "active").order_by(Member.points_balance.desc()).limit(1)
            ).scalar_one()
            member.user_id = member_user.id
            owner = db.session.get(Owner, member.owner_id)
            if owner.user_id is None:
                owner.user_id = member_user.id
            db.session.commit()
        # the RSVP kind needs an open event in the chapter: the load's own, made once
        from datetime import timedelta

        from chapter.events import service as events
        from chapter.events.models import SCHEDULED, Event
        from clubplatform.db import utcnow

        manager = db.session.execute(
            sa.select(User).filter_by(username="load.manager")).scalar_one()
        with chapter_scope(chapter_id):
            event_id = db.session.execute(sa.select(Event.id).where(
                Event.status == SCHEDULED, Event.title_en == "Load test open day",
                Event.starts_at > utcnow() + timedelta(days=1))).scalar()
            if event_id is None:
                starts = (utcnow() + timedelta(days=30)).replace(microsecond=0)
                event_id = events.create_event(chapter_id, {
                    "type": "gala", "title_zh": "开放日（负载测试）",
                    "title_en": "Load test open day", "starts_at": starts,
                    "ends_at": starts + timedelta(hours=3), "place": "展厅",
                    "capacity": 500, "max_guests": 0, "attendance_points": 0,
                }, actor=manager).id
                db.session.commit()
        # the phone app's way in to the portal API: a bearer token of the member's account
        _, member_token = auth.create_token(member_user, "load bench", days=1)
        db.session.commit()
        return {"chapter_id": chapter_id, "event_id": event_id, "member_token": member_token}


# ---------------------------------------------------------------- processes and memory
def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def find(pattern: str) -> list[int]:
    out = []
    for cmd in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmd.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if pattern in text and "bench/load.py" not in text:
            out.append(int(cmd.parent.name))
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(c for c, pp in parents.items() if pp == p)
    return out


def start_servers(base: str) -> list[subprocess.Popen]:
    port = base.rsplit(":", 1)[1]
    env = dict(os.environ, DATABASE_URL=DB_URL, LOG_LEVEL="WARNING", SESSION_COOKIE_SECURE="0",
               REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6"),
               INSTANCE_DIR=os.environ.get("INSTANCE_DIR",
                                           str(REPO / "bench" / "out" / "instance")),
               BIND=f"127.0.0.1:{port}")
    out = REPO / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    bindir = Path(PY).parent
    procs = [subprocess.Popen([str(bindir / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                               "wsgi:app"], cwd=REPO, env=env, start_new_session=True,
                              stdout=open(out / "load-web.log", "ab"),  # noqa: SIM115
                              stderr=subprocess.STDOUT)]
    for i in range(2):
        procs.append(subprocess.Popen([PY, "-m", "flask", "--app", "wsgi", "jobs", "worker"],
                                      cwd=REPO, env=env, start_new_session=True,
                                      stdout=open(out / f"load-worker{i}.log", "ab"),  # noqa: SIM115
                                      stderr=subprocess.STDOUT))
    return procs


# ---------------------------------------------------------------- the load (locust)
def run_load(base: str, info: dict, started: list) -> int:
    import gevent
    import requests
    from locust import FastHttpUser, between, task
    from locust.env import Environment

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        print(f"no app answering on {base} (start `make prod` or pass --start)")
        return 1

    def cookies(username: str) -> dict:
        import re

        s = requests.Session()
        page = s.get(f"{base}/login", timeout=10)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        r = s.post(f"{base}/login", data={"csrf_token": token.group(1) if token else "",
                                          "username": username, "password": PASSWORD},
                   allow_redirects=False, timeout=30)
        if r.status_code != 302:
            raise SystemExit(f"login of {username} failed: {r.status_code}")
        return s.cookies.get_dict()

    staff, analyst, member = (cookies(u) for u in ("load.manager", "load.analyst",
                                                   "load.member"))
    member_api = requests.Session()
    member_api.cookies.update(member)
    event_id, member_token = info["event_id"], info["member_token"]

    def cookie_header(jar: dict) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}

    class Mixed(FastHttpUser):
        host = base
        wait_time = between(0.0, 0.05)

        @task(4)
        def portal_balance(self):
            self.client.get("/portal/points/", headers=cookie_header(member),
                            name="portal balance")

        @task(3)
        def member_list(self):
            self.client.get("/chapter/members/", headers=cookie_header(staff),
                            name="chapter member list")

        @task(2)
        def care_list(self):
            self.client.get("/chapter/care/", headers=cookie_header(staff), name="care list")

        @task(1)
        def rsvp(self):
            self.client.post(f"/api/v1/portal/events/{event_id}/rsvp", json={},
                             headers={"Authorization": f"Bearer {member_token}"},
                             name="RSVP")

        @task(1)
        def hq_dashboard(self):
            self.client.get("/hq/", headers=cookie_header(analyst), name="HQ dashboard")

    users = int(os.environ.get("LOAD_USERS", "40"))
    seconds = int(os.environ.get("LOAD_SECONDS", "30"))
    env = Environment(user_classes=[Mixed])
    env.create_local_runner()
    env.runner.start(users, spawn_rate=users)
    gevent.spawn_later(seconds, env.runner.quit)
    env.runner.greenlet.join()

    print(f"\nload: {users} users for {seconds} s against {base} on {os.cpu_count()} cores "
          f"(load generator on the same machine)")
    print(f"{'kind':<22}{'requests':>9}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
          f"{'errors':>8}")
    rows = sorted(env.stats.entries.values(), key=lambda e: e.name) + [env.stats.total]
    for e in rows:
        print(f"{(e.name if e is not env.stats.total else 'TOTAL'):<22}{e.num_requests:>9}"
              f"{e.num_requests / seconds:>9.1f}{e.get_response_time_percentile(0.5):>8.0f}"
              f"{e.get_response_time_percentile(0.95):>8.0f}"
              f"{e.get_response_time_percentile(0.99):>8.0f}{e.num_failures:>8}")
    for err in list(env.stats.errors.values())[:5]:
        print(f"  error x{err.occurrences}: {err.method} {err.name}: {str(err.error)[:120]}")
    total = env.stats.total
    rps, p95 = total.num_requests / seconds, total.get_response_time_percentile(0.95)
    if started:  # ours, and their children (gunicorn workers, work-horses)
        app_pids = tree(started[0].pid)
        worker_pids = [p for proc in started[1:] for p in tree(proc.pid)]
    else:  # a running `make prod`: every such process of the machine
        app_pids, worker_pids = find("gunicorn"), find("jobs worker")
    print(f"memory: app {rss_mb(app_pids):.0f} MB RSS in {len(app_pids)} gunicorn processes; "
          f"RQ workers {rss_mb(worker_pids):.0f} MB RSS in {len(worker_pids)} processes")
    goal = rps >= 500 and p95 <= 100
    print(f"goal >= 500 req/s at p95 <= 100 ms: {'MET' if goal else 'NOT MET'} "
          f"({rps:.0f} req/s, p95 {p95:.0f} ms, {total.num_failures} errors)")
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--setup":
        print("SETUP " + json.dumps(setup()), flush=True)
        return 0
    from gevent import monkey  # locust needs gevent's patches before ssl/requests load

    monkey.patch_all()
    base = os.environ.get("BASE_URL", "http://127.0.0.1:8000")
    done = subprocess.run([PY, __file__, "--setup"], capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    line = [x for x in done.stdout.splitlines() if x.startswith("SETUP ")]
    if done.returncode != 0 or not line:
        print(done.stdout[-2000:], done.stderr[-3000:])
        return 1
    info = json.loads(line[0][6:])
    procs = start_servers(base) if "--start" in argv else []
    try:
        return run_load(base, info, procs)
    finally:
        import signal

        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
