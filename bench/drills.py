"""Fault drills: each starts what it breaks, breaks it, and prints what it proved.

    .venv/bin/python bench/drills.py all            # or one of: kill-workers, redis,
                                                   # postgres, login-abuse

- ``kill-workers``: real ``flask jobs worker`` processes run an owner import (20,000 rows,
  1% bad), the points expiry and the tier recomputation of a month; each worker (and its
  work-horse) is SIGKILLed while its job runs; a fresh worker is started. RQ declares the
  jobs abandoned when their heartbeat expires (about 90 s) and retries them. Proves: every
  job finishes, the import holds exactly the good rows once, a second run of each points
  job writes nothing (nothing lost) and no member has two entries for one key (nothing
  done twice). Then the greeting run (``chapter.care.jobs.generate``, a 31-day catch-up
  that queues greetings into the outbox) is killed mid-run the same way: every day is
  generated once, no care task or greeting twice, and a rerun adds nothing.
- ``redis``: gunicorn against a Redis server of the drill's own (a free port); Redis is
  stopped for 3 s under load and started again. Proves: pages and logins keep answering
  (no 500 storm), the health check says degraded, then ok again, a job submitted
  after Redis is back is queued and run, and a job submitted while Redis was down
  (``flask jobs run purge-job-runs``) is kept, enqueued by the sweep (``jobs-requeue``)
  once Redis is back and finished exactly once. Needs only the schema and one chapter
  (it upgrades the database and adds a chapter if there is none).
- ``postgres``: a PostgreSQL cluster of the drill's own (initdb on a free port) is
  restarted under load. Proves: the app answers again without a restart (pool_pre_ping),
  and a worker started before the restart still runs a job after it.
- ``login-abuse``: against gunicorn with the production limits: a password-guessing burst
  is throttled (429) and locks the account (the right password is refused); a revoked
  API token and a deactivated user's session stop working at the next request, on every
  gunicorn worker.

Database: ``DATABASE_URL`` or ``clubplatform_drills`` on 127.0.0.1:5432 (a small national
dataset from bench/datagen.py at scale 0.01 is built there once); Redis: ``REDIS_URL`` or
db 6 on 127.0.0.1:6379 for the worker drill. Every request goes to 127.0.0.1; every wait is
bounded.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("INSTANCE_DIR", str(REPO / "bench" / "out" / "instance"))
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["SESSION_COOKIE_SECURE"] = "0"
DB_URL = os.environ.get("DATABASE_URL") or \
    "postgresql+psycopg://postgres@127.0.0.1:5432/clubplatform_drills"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/6"
PY = sys.executable
FLASK = [PY, "-m", "flask", "--app", "wsgi"]
PASSWORD = "Drill-pass-2026"
#: the greeting run (chapter/care + platform/messaging), when this build has it
GREETING_DRILL = "not run: this build has no care-list greeting job (chapter.care.jobs)"

results: list[tuple[str, bool, str]] = []


def proved(name: str, ok: bool, what: str) -> None:
    results.append((name, ok, what))
    print(f"  [{'PASS' if ok else 'FAIL'}] {what}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env(**extra) -> dict:
    out = dict(os.environ, DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL)
    out.update({k: v for k, v in extra.items() if v is not None})
    for k, v in extra.items():
        if v is None:
            out.pop(k, None)
    return out


def wait_until(check, seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except Exception:
            pass
        time.sleep(step)
    return False


def spawn(cmd: list[str], **kw) -> subprocess.Popen:
    log = open(kw.pop("log", os.devnull), "ab")  # noqa: SIM115
    return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, **kw)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, wait: float = 30) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(wait)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(10)


def make_app(database_url: str = DB_URL, redis_url: str | None = REDIS_URL):
    os.environ["DATABASE_URL"] = database_url
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
    from clubplatform.app import create_app
    from clubplatform.config import Config

    return create_app(Config())


def ensure_user(app, username: str, role: str = "chapter_manager") -> int:
    """A login with a known password (chapter 1 for chapter roles); unlocked, active."""
    import sqlalchemy as sa

    from clubplatform.auth import service as auth
    from clubplatform.auth.models import User
    from clubplatform.extensions import db

    with app.app_context():
        user = db.session.execute(sa.select(User).filter_by(username=username)).scalar_one_or_none()
        if user is not None:
            db.session.delete(user)
            db.session.commit()
        chapter_id = db.session.execute(sa.text("SELECT min(id) FROM chapters")).scalar()
        user = auth.create_user(username=username, display_name=username, password=PASSWORD,
                                role=role, chapter_id=chapter_id if role.startswith("chapter")
                                else None)
        db.session.commit()
        return user.id


# ---------------------------------------------------------------------------- HTTP helpers
def http_session():
    import requests

    return requests.Session()


def login(base: str, username: str, password: str = PASSWORD, s=None):
    s = s or http_session()
    page = s.get(f"{base}/login", timeout=10)
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    r = s.post(f"{base}/login", data={"csrf_token": m.group(1) if m else "",
                                      "username": username, "password": password},
               allow_redirects=False, timeout=10)
    return s, r


class Load:
    """Client threads hitting a few URLs until stopped; status counts per phase."""

    def __init__(self, base: str, session_cookie_jar, paths: list[str], threads: int = 3):
        self.base, self.paths, self.threads = base, paths, threads
        self.jar = session_cookie_jar
        self.phase = "before"
        self.counts: dict[str, Counter] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _run(self) -> None:
        import requests

        s = requests.Session()
        s.cookies.update(self.jar)
        i = 0
        while not self._stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            try:
                code = s.get(self.base + path, timeout=10, allow_redirects=False).status_code
            except requests.RequestException as exc:
                code = type(exc).__name__
            with self._lock:
                self.counts.setdefault(self.phase, Counter())[code] += 1
            time.sleep(0.01)

    def __enter__(self):
        self.workers = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(self.threads)]
        for t in self.workers:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self.workers:
            t.join(15)

    def report(self) -> None:
        for phase, c in self.counts.items():
            print(f"    {phase:<8} {dict(sorted(c.items(), key=str))}")


def start_gunicorn(port: int, extra_env: dict, log: str, workers: int = 2) -> subprocess.Popen:
    proc = spawn([str(Path(PY).parent / "gunicorn"), "-w", str(workers), "-b",
                  f"127.0.0.1:{port}", "--graceful-timeout", "5", "wsgi:app"],
                 env=env(**extra_env), log=log)
    import requests

    if not wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/healthz",
                                           timeout=2).status_code in (200, 503), 60):
        stop(proc)
        raise SystemExit(f"gunicorn did not start; see {log}")
    return proc


OUT = REPO / "bench" / "out"


# ---------------------------------------------------------------------------- drill 1
def drill_kill_workers() -> None:
    print("\n== kill-workers: SIGKILL RQ workers in the middle of an import and points jobs")
    os.environ["BENCH_IMPORT_ROWS"] = os.environ.get("DRILL_IMPORT_ROWS", "20000")
    import datagen
    import import_owners as bench_import
    import sqlalchemy as sa
    from redis import Redis

    datagen.ensure_dataset(DB_URL, scale=0.01, seed=datagen.DEFAULT_SEED)
    Redis.from_url(REDIS_URL).flushdb()
    app = make_app()
    from clubplatform import jobs
    from clubplatform.extensions import db
    from clubplatform.jobs.models import JobRun
    from hq.points.jobs import expire_points, recompute_tiers

    rows, _bad = bench_import.make_rows(random.Random(20261124))
    content = bench_import.to_csv(rows)
    with app.app_context():
        app.config["MAX_UPLOAD_BYTES"] = 64 * 1024 * 1024
        chapter_id, user_id = bench_import.ensure_chapter(db)
        bench_import.empty_chapter(db, chapter_id)
        month = "2026-10"
        with db.engine.begin() as conn:  # a fresh month for the points jobs
            conn.execute(sa.text("DELETE FROM point_entries WHERE kind = 'expire' "
                                 "AND business_date = '2026-10-31'"))
            conn.execute(sa.text("DELETE FROM tier_changes WHERE effective_on >= '2026-10-31'"))
            conn.execute(sa.text("DELETE FROM job_runs WHERE id LIKE 'drill%'"))
        from chapter.owners.jobs import JOB_NAMES, import_file

        stamp = str(int(time.time()))

        def status(run_id):
            db.session.remove()
            run = db.session.get(JobRun, run_id)
            return run.status, jobs.live_progress(run), run.attempts

        def run_and_kill(name: str, submit, mid_run) -> str:
            """One worker takes the job; kill it (and its work-horse) once ``mid_run``."""
            worker = spawn(FLASK + ["jobs", "worker"], env=env(),
                           log=str(OUT / f"drill-{name}.log"))
            wait_until(lambda: len(_children(worker.pid)) >= 0 and _is_worker_up(), 60, 0.1)
            run_id = submit()
            wait_until(lambda: mid_run(status(run_id)), 180, 0.005)
            state = status(run_id)
            kill_tree(worker)
            print(f"  {name}: killed its worker and work-horse (SIGKILL) at "
                  f"{state[0]} {state[1]}%", flush=True)
            return run_id

        runs = {
            "import": run_and_kill("import", lambda: jobs.submit(
                import_file, "owners", None, name=JOB_NAMES["owners"], chapter_id=chapter_id,
                user_id=user_id, key=f"drill{stamp}",
                input_file=("owners.csv", "text/csv", content)).id,
                lambda st: st[0] == "finished" or (st[0] == "started" and st[1] >= 20)),
            "expire": run_and_kill("expire", lambda: jobs.submit(
                expire_points, month, name="points-expire", chapter_id=None,
                key=f"drill{stamp}").id, lambda st: st[0] != "queued"),
            "tiers": run_and_kill("tiers", lambda: jobs.submit(
                recompute_tiers, month, name="points-tiers", chapter_id=None,
                key=f"drill{stamp}").id, lambda st: st[0] != "queued"),
        }
        at_kill = {k: status(r) for k, r in runs.items()}
        caught = [k for k, (s, _, _) in at_kill.items() if s == "started"]
        proved("kill-workers", "import" in caught,
               f"jobs killed mid-run: {caught} (a job that had already finished is "
               "checked all the same)")
        fresh = spawn(FLASK + ["jobs", "worker", "--maintenance-interval", "5"], env=env(),
                      log=str(OUT / "drill-w-fresh.log"))
        print("  a fresh worker runs; RQ retries the abandoned jobs once their heartbeat "
              "expires (~90 s) ...", flush=True)
        t0 = time.monotonic()
        done = wait_until(lambda: all(status(r)[0] in ("finished", "failed")
                                      for r in runs.values()), 420, 1)
        final = {k: status(r) for k, r in runs.items()}
        stop(fresh)
        print(f"  after {time.monotonic() - t0:.0f} s: "
              f"{ {k: f'{s} (attempts {a})' for k, (s, _, a) in final.items()} }")
        proved("kill-workers", done and all(s == "finished" for s, _, _ in final.values())
               and all(final[k][2] >= 2 for k in caught),
               "every killed job finished after the restart, in a second attempt (RQ retry)")
        owners = db.session.execute(sa.text(
            "SELECT count(*), count(DISTINCT mobile) FROM owners WHERE chapter_id = :c"),
            {"c": chapter_id}).one()
        report = db.session.execute(sa.text(
            "SELECT content FROM job_files WHERE job_id = :j AND kind = 'errors'"),
            {"j": runs["import"]}).scalar()
        bad_rows = len({line.split(",")[0] for line in
                        (report or b"").decode("utf-8-sig").splitlines()[1:]})
        proved("kill-workers", owners[0] == owners[1] and owners[0] + bad_rows == len(rows),
               f"import: {owners[0]} owners once each + {bad_rows} rows in the error report "
               f"= {len(rows)} rows in the file (nothing lost, nothing twice)")
        from clubplatform.tenancy import unscoped
        from hq.points import expiry, tiers

        twice = db.session.execute(sa.text(
            "SELECT count(*) FROM (SELECT idempotency_key FROM point_entries "
            "GROUP BY idempotency_key HAVING count(*) > 1) d")).scalar()
        twice_tiers = db.session.execute(sa.text(
            "SELECT count(*) FROM (SELECT member_id FROM tier_changes "
            "GROUP BY member_id, effective_on HAVING count(*) > 1) d")).scalar()
        expired = db.session.execute(sa.text(
            "SELECT count(*), COALESCE(sum(points), 0) FROM point_entries "
            "WHERE kind = 'expire' AND business_date = '2026-10-31'")).one()
        with unscoped("drill: rerun to find anything left undone"):
            again_e = expiry.expire_month(datagen_month_end()).as_dict()
            again_t = tiers.recompute_month(datagen_month_end()).as_dict()
            db.session.rollback()
        proved("kill-workers", twice == 0 and twice_tiers == 0,
               f"points: {expired[0]} expiry entries ({-expired[1]} points); no ledger key and "
               f"no member's tier change of a day written twice")
        proved("kill-workers", _nothing_new(again_e) and _nothing_new(again_t),
               f"a second run writes nothing (expiry {_short(again_e)}, tiers {_short(again_t)})")
        drill_greeting_run(app, run_and_kill, status)


def drill_greeting_run(app, run_and_kill, status) -> None:
    """The care list's greeting run (chapter.care.jobs.generate), killed mid catch-up."""
    import sqlalchemy as sa

    from clubplatform import dates, jobs
    from clubplatform.extensions import db

    try:
        from chapter.care.jobs import JOB_NAME, generate
    except ImportError:
        print(f"  greeting run: {GREETING_DRILL}")
        return
    today = dates.today()
    chapter_id = db.session.execute(sa.text(
        "SELECT chapter_id FROM members GROUP BY chapter_id ORDER BY count(*) DESC LIMIT 1"
    )).scalar()
    with db.engine.begin() as conn:  # a chapter whose last care run was 32 days ago
        for table in ("care_tasks", "care_runs", "outbox_messages"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE chapter_id = :c"), {"c": chapter_id})
        conn.execute(sa.text("INSERT INTO care_runs (chapter_id, day, tasks_added, "
                             "greetings_queued, created_at) VALUES (:c, :d, 0, 0, now())"),
                     {"c": chapter_id, "d": today - __import__("datetime").timedelta(days=32)})
    key = f"drill{int(time.time())}"
    run_id = run_and_kill("greeting run", lambda: jobs.submit(
        generate, today.isoformat(), name=JOB_NAME, chapter_id=chapter_id, key=key).id,
        lambda st: st[0] == "finished" or (st[0] == "started" and st[1] >= 20))
    killed_mid_run = status(run_id)[0] == "started"
    fresh = spawn(FLASK + ["jobs", "worker", "--maintenance-interval", "5"], env=env(),
                  log=str(OUT / "drill-w-fresh2.log"))
    print("  a fresh worker runs; waiting for RQ to retry the greeting run ...", flush=True)
    done = wait_until(lambda: status(run_id)[0] in ("finished", "failed"), 420, 1)
    final = status(run_id)
    stop(fresh)
    proved("kill-workers", killed_mid_run and done and final[0] == "finished" and final[2] >= 2,
           f"greeting run (care list catch-up of 31 days, chapter {chapter_id}) killed mid-run "
           f"finished in attempt {final[2]}")
    figures = db.session.execute(sa.text(
        "SELECT (SELECT count(*) FROM care_runs WHERE chapter_id = :c AND day > :d), "
        "(SELECT count(*) FROM (SELECT 1 FROM care_tasks WHERE chapter_id = :c GROUP BY "
        " owner_id, reason, due_on, source_key HAVING count(*) > 1) d), "
        "(SELECT count(*) FROM outbox_messages WHERE chapter_id = :c), "
        "(SELECT count(*) FROM (SELECT 1 FROM outbox_messages WHERE chapter_id = :c "
        " GROUP BY dedupe_key HAVING count(*) > 1) d), "
        "(SELECT count(*) FROM care_tasks WHERE chapter_id = :c)"),
        {"c": chapter_id, "d": today - __import__("datetime").timedelta(days=32)}).one()
    from chapter.care import service as care
    from clubplatform.tenancy import chapter_scope

    with chapter_scope(chapter_id):
        again = care.generate_day(chapter_id, today)
        db.session.rollback()
    proved("kill-workers", figures[0] == 31 and figures[1] == 0 and figures[3] == 0
           and again.tasks_added == 0 and again.greetings_queued == 0,
           f"greetings: {figures[0]} days generated once each, {figures[4]} care tasks and "
           f"{figures[2]} greetings queued; {figures[1]} tasks and {figures[3]} greetings "
           f"twice; a rerun adds {again.tasks_added} "
           f"tasks and {again.greetings_queued} greetings")
    print("  sending: a message is sent only after its outbox row is claimed in a committed "
          "transaction; a claim cut off by a crash is taken again after "
          "MESSAGING_CLAIM_TIMEOUT (600 s; not waited for here)")


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (RQ's work-horse runs in a session of its own)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a worker and everything under it, horses first (a machine crash)."""
    pending, seen = [proc.pid], []
    while pending:
        pid = pending.pop()
        seen.append(pid)
        pending.extend(_children(pid))
    for pid in reversed(seen):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(10)


def _is_worker_up() -> bool:
    from redis import Redis
    from rq import Worker

    return bool(Worker.all(connection=Redis.from_url(REDIS_URL)))


def datagen_month_end():
    from datetime import date

    return date(2026, 10, 31)


def _nothing_new(result: dict) -> bool:
    keys = [k for k in result if k in ("members", "entries", "points", "changes", "changed",
                                       "expired", "written")]
    return all(not result[k] for k in keys)


def _short(result: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in result.items() if k != "message")


# ---------------------------------------------------------------------------- drill 2
def drill_redis() -> None:
    print("\n== redis: stop Redis for 3 s under load")
    import requests

    rport, port = free_port(), free_port()
    rdir = tempfile.mkdtemp(prefix="drill-redis-")
    redis_cmd = ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", rdir]
    redis = spawn(redis_cmd, log=str(OUT / "drill-redis.log"))
    rurl = f"redis://127.0.0.1:{rport}/0"
    from redis import Redis

    wait_until(lambda: Redis.from_url(rurl).ping(), 20)
    subprocess.run(FLASK + ["db", "upgrade"], cwd=REPO, env=env(REDIS_URL=rurl), check=True,
                   capture_output=True, timeout=600)
    app = make_app(DB_URL, rurl)
    import sqlalchemy as sa

    from clubplatform.extensions import db

    with app.app_context():
        if db.session.execute(sa.text("SELECT count(*) FROM chapters")).scalar() == 0:
            import import_owners as bench_import

            bench_import.ensure_chapter(db)  # an empty database: one chapter is enough here
    ensure_user(app, "drill.redis")
    web = start_gunicorn(port, {"REDIS_URL": rurl}, str(OUT / "drill-redis-web.log"))
    worker = spawn(FLASK + ["jobs", "worker"], env=env(REDIS_URL=rurl),
                   log=str(OUT / "drill-redis-worker.log"))
    base = f"http://127.0.0.1:{port}"
    try:
        s, r = login(base, "drill.redis")
        with Load(base, s.cookies, ["/chapter/", "/login", "/healthz"]) as load:
            time.sleep(3)
            load.phase = "down"
            stop(redis, signal.SIGKILL)
            down_at = time.monotonic()
            health_down = requests.get(f"{base}/healthz", timeout=10).json()
            _, login_down = login(base, "drill.redis")
            waiting = subprocess.run(FLASK + ["jobs", "run", "purge-job-runs"], cwd=REPO,
                                     env=env(REDIS_URL=rurl), capture_output=True, text=True,
                                     timeout=60)
            time.sleep(max(0.0, 3 - (time.monotonic() - down_at)))
            redis = spawn(redis_cmd, log=str(OUT / "drill-redis.log"))
            wait_until(lambda: Redis.from_url(rurl).ping(), 20)
            load.phase = "after"
            time.sleep(4)
        load.report()
        errors = sum(n for c in load.counts.values() for code, n in c.items()
                     if code == 500 or isinstance(code, str))
        down = load.counts.get("down", Counter())
        proved("redis", errors == 0 and down.get(200, 0) > 0,
               f"pages answered while Redis was down ({down.get(200, 0)} x 200, "
               f"{errors} errors); health said {health_down['status']} "
               f"(redis: {health_down['checks'].get('redis')})")
        proved("redis", login_down.status_code == 302,
               f"a login while Redis was down answered {login_down.status_code} "
               "(rate limits fall back to memory)")
        health = requests.get(f"{base}/healthz", timeout=10).json()
        run = subprocess.run(FLASK + ["jobs", "run", "purge-job-runs"], cwd=REPO,
                             env=env(REDIS_URL=rurl), capture_output=True, text=True,
                             timeout=60)
        run_id = run.stdout.split(":")[0].strip()

        with app.app_context():
            def finished(job_id=run_id):
                db.session.remove()
                return db.session.execute(sa.text("SELECT status FROM job_runs WHERE id = :i"),
                                          {"i": job_id}).scalar() == "finished"

            ok = wait_until(finished, 120, 0.5)
        proved("redis", health["status"] == "ok" and ok,
               f"after Redis came back: health {health['status']}, a new job was queued and "
               f"run by the worker started before the outage ({run_id})")
        _drill_job_submitted_while_redis_was_down(app, waiting, rurl, finished)
    finally:
        for p in (worker, web, redis):
            stop(p)
        shutil.rmtree(rdir, ignore_errors=True)


def _drill_job_submitted_while_redis_was_down(app, waiting, rurl, finished) -> None:
    """The job started while Redis was down: kept, swept into the queue once, run once."""
    import sqlalchemy as sa

    from clubplatform.extensions import db
    from clubplatform.jobs import REQUEUE_AFTER, requeue_pending

    waiting_id = waiting.stdout.split(":")[0].strip()
    with app.app_context():
        row = db.session.execute(sa.text(
            "SELECT status, enqueued_at, created_at FROM job_runs WHERE id = :i"),
            {"i": waiting_id}).one_or_none()
    proved("redis", waiting.returncode == 0 and row is not None and row.status == "queued"
           and row.enqueued_at is None,
           f"a job started while Redis was down answered normally (exit {waiting.returncode}: "
           f"{waiting.stdout.strip() or waiting.stderr.strip()[-200:]}) and waits for the "
           "job queue")
    if row is None:
        return
    # the sweep leaves runs younger than REQUEUE_AFTER to their submit: wait that long,
    # then start it as rq cron does every minute (a job the worker runs)
    with app.app_context():
        age = db.session.execute(sa.text(
            "SELECT extract(epoch FROM now() - created_at) FROM job_runs WHERE id = :i"),
            {"i": waiting_id}).scalar()
        db.session.remove()
    time.sleep(max(0.0, REQUEUE_AFTER.total_seconds() + 1 - float(age)))
    sweep = subprocess.run(FLASK + ["jobs", "run", "jobs-requeue"], cwd=REPO,
                           env=env(REDIS_URL=rurl), capture_output=True, text=True, timeout=60)
    sweep_id = sweep.stdout.split(":")[0].strip()
    with app.app_context():
        ok = wait_until(lambda: finished(sweep_id) and finished(waiting_id), 120, 0.5)
        again = requeue_pending()
        db.session.remove()
        final = db.session.execute(sa.text(
            "SELECT r.status, r.attempts, s.message FROM job_runs r, job_runs s "
            "WHERE r.id = :r AND s.id = :s"), {"r": waiting_id, "s": sweep_id}).one()
        db.session.remove()
    proved("redis", ok and final.status == "finished" and final.attempts == 1 and again == 0,
           f"after Redis came back the sweep ({final.message!r}) enqueued it and it finished "
           f"in attempt {final.attempts}; a second sweep enqueued {again} ({waiting_id})")


# ---------------------------------------------------------------------------- drill 3
def _pg_bin() -> Path:
    root = Path("/usr/lib/postgresql")
    return sorted((p for p in root.iterdir() if (p / "bin" / "pg_ctl").exists()),
                  key=lambda p: int(p.name))[-1] / "bin"


def _as_pg(cmd: list[str], cwd: str) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120, cwd=cwd)


def drill_postgres() -> None:
    print("\n== postgres: restart PostgreSQL under load")
    import requests

    folder = tempfile.mkdtemp(prefix="drill-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, pgport, port = str(Path(folder) / "data"), free_port(), free_port()
    bin_ = _pg_bin()
    ctl = [str(bin_ / "pg_ctl"), "-D", data, "-l", str(Path(folder) / "pg.log"), "-o",
           f"-p {pgport} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} "
           "-c fsync=off", "-w", "-t", "60"]
    _as_pg([str(bin_ / "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync"], folder)
    _as_pg([*ctl, "start"], folder)
    _as_pg([str(bin_ / "createdb"), "-h", "127.0.0.1", "-p", str(pgport), "-U", "postgres",
            "drill"], folder)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{pgport}/drill"
    procs = []
    try:
        subprocess.run(FLASK + ["db", "upgrade"], cwd=REPO, env=env(DATABASE_URL=url),
                       check=True, capture_output=True, timeout=300)
        app = make_app(url, REDIS_URL)
        import import_owners as bench_import

        from clubplatform.extensions import db

        with app.app_context():
            bench_import.ensure_chapter(db)  # one region, dealer, chapter: enough here
        ensure_user(app, "drill.pg")
        from redis import Redis

        Redis.from_url(REDIS_URL).flushdb()
        procs.append(start_gunicorn(port, {"DATABASE_URL": url}, str(OUT / "drill-pg-web.log")))
        procs.append(spawn(FLASK + ["jobs", "worker"], env=env(DATABASE_URL=url),
                           log=str(OUT / "drill-pg-worker.log")))
        base = f"http://127.0.0.1:{port}"
        s, _ = login(base, "drill.pg")
        with Load(base, s.cookies, ["/chapter/", "/healthz"]) as load:
            time.sleep(3)
            load.phase = "restart"
            t0 = time.monotonic()
            _as_pg([*ctl, "-m", "fast", "restart"], folder)
            restart_s = time.monotonic() - t0
            wait_until(lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 200,
                       30, 0.1)
            time.sleep(1)  # requests that started during the restart end in their phase
            load.phase = "after"
            time.sleep(5)
        load.report()
        during = load.counts.get("restart", Counter())
        after = load.counts.get("after", Counter())
        bad_after = sum(n for code, n in after.items() if code != 200)
        proved("postgres", during.get(500, 0) == 0,
               f"while PostgreSQL restarted ({restart_s:.1f} s): {dict(during)} — "
               "503 with Retry-After, no 500")
        proved("postgres", after.get(200, 0) > 0 and bad_after == 0,
               f"once it answered again: {after.get(200, 0)} requests, {bad_after} not 200: "
               "the pools reconnected (pool_pre_ping) without restarting the app")
        run = subprocess.run(FLASK + ["jobs", "run", "purge-job-runs"], cwd=REPO,
                             env=env(DATABASE_URL=url), capture_output=True, text=True,
                             timeout=60)
        run_id = run.stdout.split(":")[0].strip()
        import sqlalchemy as sa

        from clubplatform.extensions import db

        with app.app_context():
            def finished():
                db.session.remove()
                return db.session.execute(sa.text("SELECT status FROM job_runs WHERE id = :i"),
                                          {"i": run_id}).scalar() == "finished"

            ok = wait_until(finished, 120, 0.5)
            db.session.remove()
            db.engine.dispose()
        proved("postgres", ok, f"the worker started before the restart ran a new job "
                               f"({run_id}): no stuck worker")
        r = requests.get(f"{base}/readyz", timeout=10)
        proved("postgres", r.status_code == 200, f"/readyz after the restart: {r.status_code}")
    finally:
        for p in procs:
            stop(p)
        try:
            _as_pg([*ctl, "-m", "immediate", "stop"], folder)
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- drill 4
def drill_login_abuse() -> None:
    print("\n== login-abuse: guessing burst, lockout, revoked token and session")
    import requests
    import sqlalchemy as sa

    app = make_app(DB_URL, REDIS_URL)
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()
    ensure_user(app, "drill.victim")
    ensure_user(app, "drill.admin", role="hq_admin")
    uid = ensure_user(app, "drill.staff")
    port = free_port()
    web = start_gunicorn(port, {}, str(OUT / "drill-login-web.log"), workers=3)
    base = f"http://127.0.0.1:{port}"
    try:
        codes = Counter()
        for i in range(30):
            _, r = login(base, "drill.victim", f"wrong-{i}")
            codes[r.status_code] += 1
        _, right = login(base, "drill.victim")
        proved("login-abuse", codes.get(429, 0) > 0,
               f"30 wrong passwords in a burst: {dict(codes)} (429 = throttled)")
        proved("login-abuse", right.status_code != 302,
               f"the right password afterwards is refused ({right.status_code}): locked/throttled")
        Redis.from_url(REDIS_URL).flushdb()  # lift the address limit; the lock stays in the DB
        _, right = login(base, "drill.victim")
        proved("login-abuse", right.status_code != 302,
               "with the rate limit lifted the account is still locked")
        # revoked API token: created and revoked over HTTP, refused at once on any worker
        staff, r = login(base, "drill.staff")
        from clubplatform.auth import service as auth
        from clubplatform.auth.models import ApiToken, User
        from clubplatform.extensions import db

        with app.app_context():
            user = db.session.get(User, uid)
            token, plain = auth.create_token(user, "drill", days=1)
            db.session.commit()
            token_id = token.id
        h = {"Authorization": f"Bearer {plain}"}
        before = [requests.get(f"{base}/api/v1/auth/me", headers=h, timeout=10).status_code
                  for _ in range(6)]
        with app.app_context():
            admin = db.session.execute(sa.select(User).filter_by(username="drill.admin")).scalar_one()
            auth.revoke_token(db.session.get(ApiToken, token_id), actor=admin)
            db.session.commit()
        after = [requests.get(f"{base}/api/v1/auth/me", headers=h, timeout=10).status_code
                 for _ in range(6)]
        proved("login-abuse", set(before) == {200} and set(after) == {401},
               f"API token: before revoking {before}, right after {after} (6 calls over 3 "
               "workers)")
        page_before = [staff.get(f"{base}/chapter/", allow_redirects=False,
                                 timeout=10).status_code for _ in range(3)]
        with app.app_context():
            user = db.session.get(User, uid)
            admin = db.session.execute(sa.select(User).filter_by(username="drill.admin")).scalar_one()
            auth.set_active(user, False, actor=admin)
            db.session.commit()
        page_after = [staff.get(f"{base}/chapter/", allow_redirects=False,
                                timeout=10).status_code for _ in range(6)]
        proved("login-abuse", set(page_before) == {200} and 200 not in page_after,
               f"session: before deactivation {page_before}, right after {page_after}")
    finally:
        stop(web)


DRILLS = {"kill-workers": drill_kill_workers, "redis": drill_redis,
          "postgres": drill_postgres, "login-abuse": drill_login_abuse}


def main(argv: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    names = list(DRILLS) if not argv or argv[0] == "all" else argv
    for name in names:
        try:
            DRILLS[name]()
        except Exception as exc:  # a drill that breaks is a finding, not a crash
            proved(name, False, f"the drill itself failed: {type(exc).__name__}: {exc}")
    passed = sum(1 for _, ok, _ in results if ok)
    print(f"\ndrills: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
