"""The nightly care list for every chapter, with real RQ workers, on the national dataset.

On the dataset (``bench/datagen.py``, built at ``--scale`` if the database does not hold
it; its schema brought to the Alembic head, which makes the care tables) it:

- cleans what a care-list run of the business day ``--day`` (default: the dataset's last
  day) wrote before: the rule-made care tasks due that day, the day's birthday and
  car-birthday greetings in the outbox, every chapter's ``care_runs`` (so no chapter catches
  up older days: each generates exactly the one day) and the per-chapter job runs
  ``care-list-c<chapter>-<day>`` (else the fan-out would find them and submit nothing);
- flushes its own Redis db (``--redis-url``, default db 8) and starts ``--workers`` (2) real
  workers, ``flask --app wsgi jobs worker``, as subprocesses (logs in ``bench/out/``);
- enqueues the fan-out the nightly ``rq cron`` runs (``chapter.care.jobs.generate_all``,
  ``clubplatform.schedule``) for the day, on the app's queue, and waits until it and every
  per-chapter ``generate`` job it submitted have finished (or failed). Total time = enqueue →
  the last chapter done. Rows written = care tasks + outbox greetings (counted before/after);
- second run, as a repeated cron: the same fan-out again for the same day (the job ids
  exist: it submits nothing); its time and rows written (goal 0);
- forced second run: the per-chapter job runs of the day deleted, so every chapter's
  ``generate`` really runs the day again (the rules' ``INSERT … ON CONFLICT DO NOTHING``
  and the outbox's unique keys); its time and rows written (goal 0);
- stops the workers, then on the largest chapter times each rule's statement (the day's
  rule tasks taken out first in a savepoint, rolled back) and the greetings, and prints the
  ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statement;
- prints the goals (first run ≤ 5 min, both second runs write 0 rows) with PASS/FAIL.

The care tables keep the first run's rows (the day's care list, as the night leaves it).

Usage::

    .venv/bin/python bench/care_list.py                         # full scale
    .venv/bin/python bench/care_list.py --scale 0.01 --database-url postgresql+psycopg://…
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
import datagen  # noqa: E402

OUT = REPO / "bench" / "out"
GOAL_S = 300.0
JOB_NAME = "care-list"  # chapter.care.jobs.JOB_NAME: ids care-list-c<chapter>-<day>
GREETING_KINDS = ("birthday", "car_birthday")




def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _short(sql: str, width: int = 110) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= width else one[:width - 1] + "…"


class Bench:
    def __init__(self, args) -> None:
        import psycopg
        from redis import Redis

        self.args = args
        self.day: date = args.day
        self.conn = psycopg.connect(datagen._conninfo(args.database_url), autocommit=True)
        self.redis = Redis.from_url(args.redis_url)
        self.workers: list[subprocess.Popen] = []
        self.pattern = f"{JOB_NAME}-c%-{self.day.isoformat()}"

    # -- SQL helpers ---------------------------------------------------------------------
    def one(self, sql: str, params=()) -> object:
        return self.conn.execute(sql, params).fetchone()[0]

    def greeting_window(self):
        from clubplatform import dates

        start = dates.day_start_utc(self.day)
        return start, start + timedelta(days=1)

    def rows(self) -> dict[str, int]:
        start, end = self.greeting_window()
        return {
            "care_tasks": self.one("SELECT count(*) FROM care_tasks"),
            "greetings": self.one(
                "SELECT count(*) FROM outbox_messages WHERE kind = ANY(%s) "
                "AND not_before >= %s AND not_before < %s", (list(GREETING_KINDS), start, end)),
            "outbox_all": self.one("SELECT count(*) FROM outbox_messages"),
            "care_runs": self.one("SELECT count(*) FROM care_runs"),
        }

    def clean(self) -> None:
        start, end = self.greeting_window()
        with self.conn.transaction():
            t = self.conn.execute("DELETE FROM care_tasks WHERE source_key = '' AND due_on = %s",
                                  (self.day,)).rowcount
            g = self.conn.execute(
                "DELETE FROM outbox_messages WHERE kind = ANY(%s) AND not_before >= %s "
                "AND not_before < %s", (list(GREETING_KINDS), start, end)).rowcount
            r = self.conn.execute("DELETE FROM care_runs").rowcount
            j = self.conn.execute("DELETE FROM job_runs WHERE id LIKE %s",
                                  (self.pattern,)).rowcount
        for table in ("care_tasks", "care_runs", "outbox_messages", "job_runs"):
            self.conn.execute(f"VACUUM ANALYZE {table}")
        other = self.one("SELECT count(*) FROM care_tasks WHERE source_key = ''")
        print(f"cleaned the day {self.day}: {t:,} care tasks, {g:,} greetings, {r:,} care runs, "
              f"{j:,} job runs deleted; rule-made tasks of other days left: {other:,}")

    def dataset(self) -> tuple[int, int]:
        """Print the dataset's size and what the rules read; returns (open chapters, largest)."""
        d = self.day
        q = self.one
        chapters = q("SELECT count(*) FROM chapters")
        open_ = q("SELECT count(*) FROM chapters WHERE founded_on <= %s AND "
                  "(closed_on IS NULL OR closed_on > %s)", (d, d))
        owners = q("SELECT count(*) FROM owners")
        live = q("SELECT count(*) FROM owners WHERE anonymised_at IS NULL")
        largest, largest_n = self.conn.execute(
            "SELECT chapter_id, count(*) FROM owners GROUP BY chapter_id "
            "ORDER BY 2 DESC LIMIT 1").fetchone()
        print(f"\ndataset: {chapters:,} chapters ({open_:,} open on {d}), {owners:,} owners "
              f"({live:,} not anonymised; target 2,000,000), largest chapter {largest} with "
              f"{largest_n:,} owners")
        figures = [
            ("owners with a birthday", "SELECT count(*) FROM owners WHERE birthday IS NOT NULL"),
            ("VIP owners", "SELECT count(*) FROM owners WHERE is_vip"),
            ("vehicles", "SELECT count(*) FROM vehicles"),
            ("  with a delivery date",
             "SELECT count(*) FROM vehicles WHERE delivery_date IS NOT NULL"),
            ("  with an insurance expiry",
             "SELECT count(*) FROM vehicles WHERE insurance_expiry IS NOT NULL"),
            ("  with a next inspection",
             "SELECT count(*) FROM vehicles WHERE next_inspection_on IS NOT NULL"),
            ("service visits", "SELECT count(*) FROM service_visits"),
            ("active members", "SELECT count(*) FROM members WHERE status = 'active'"),
            ("  consented to SMS / e-mail / portal",
             "SELECT count(*) FILTER (WHERE consent_sms) || ' / ' || "
             "count(*) FILTER (WHERE consent_email) || ' / ' || "
             "count(*) FILTER (WHERE consent_portal) FROM members WHERE status = 'active'"),
        ]
        for label, sql in figures:
            v = q(sql)
            print(f"  {label:<38} {v:>14,}" if isinstance(v, int) else f"  {label:<38} {v:>14}")
        return open_, largest

    # -- workers -------------------------------------------------------------------------
    def env(self) -> dict:
        env = dict(os.environ, DATABASE_URL=self.args.database_url, REDIS_URL=self.args.redis_url)
        env.setdefault("INSTANCE_DIR", str(OUT / "instance"))
        env.setdefault("LOG_LEVEL", "WARNING")
        env.setdefault("LOG_FORMAT", "text")
        return env

    def start_workers(self) -> None:
        from rq import Worker

        OUT.mkdir(parents=True, exist_ok=True)
        flask = [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"]
        for i in range(self.args.workers):
            log = open(OUT / f"care_list_worker{i + 1}.log", "wb")  # noqa: SIM115
            self.workers.append(subprocess.Popen(flask, cwd=REPO, env=self.env(), stdout=log,
                                                 stderr=subprocess.STDOUT,
                                                 start_new_session=True))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(Worker.all(connection=self.redis)) >= self.args.workers:
                print(f"{self.args.workers} RQ workers up (pids "
                      f"{', '.join(str(p.pid) for p in self.workers)}; logs bench/out/"
                      f"care_list_worker*.log)")
                return
            if any(p.poll() is not None for p in self.workers):
                break
            time.sleep(0.5)
        self.stop_workers()
        raise SystemExit("the RQ workers did not come up: see bench/out/care_list_worker*.log")

    def stop_workers(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # warm shutdown: finish the job in hand
        for p in self.workers:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # the worker's own session: it and its horse
                p.wait(10)
        self.workers = []

    # -- one run ------------------------------------------------------------------------
    def statuses(self) -> dict[str, int]:
        return dict(self.conn.execute(
            "SELECT status, count(*) FROM job_runs WHERE id LIKE %s GROUP BY status",
            (self.pattern,)).fetchall())

    def run(self, label: str) -> dict:
        """Enqueue the cron's fan-out for the day; wait for it and its chapter jobs."""
        from rq import Queue

        before = self.rows()
        queue = Queue(self.args.queue, connection=self.redis)
        t0 = time.perf_counter()
        job = queue.enqueue("chapter.care.jobs.generate_all", None, self.day.isoformat(),
                            job_timeout=3600, result_ttl=24 * 3600, description="care-list bench")
        deadline = time.monotonic() + self.args.timeout
        fanout_s = None
        last_print = time.monotonic()
        while True:
            status = job.get_status(refresh=True)
            if fanout_s is None and status in ("finished", "failed"):
                fanout_s = time.perf_counter() - t0
                if status == "failed":
                    print(f"  the fan-out failed: {(job.latest_result().exc_string or '')[-800:]}")
            states = self.statuses()
            pending = states.get("queued", 0) + states.get("started", 0)
            if fanout_s is not None and pending == 0:
                break
            if time.monotonic() > deadline:
                print(f"  TIMEOUT after {self.args.timeout} s: {states}")
                break
            if time.monotonic() - last_print > 30:
                print(f"  … {time.perf_counter() - t0:6.0f} s  {states}", flush=True)
                last_print = time.monotonic()
            time.sleep(0.5)
        took = time.perf_counter() - t0
        after = self.rows()
        states = self.statuses()
        result = job.return_value() if job.get_status(refresh=True) == "finished" else None
        out = {"label": label, "seconds": took, "fanout_s": fanout_s, "states": states,
               "submitted": (result or {}).get("chapters"),
               "tasks": after["care_tasks"] - before["care_tasks"],
               "greetings": after["greetings"] - before["greetings"],
               "outbox_other": (after["outbox_all"] - before["outbox_all"])
               - (after["greetings"] - before["greetings"]),
               "care_runs": after["care_runs"] - before["care_runs"]}
        out["rows"] = out["tasks"] + out["greetings"]
        print(f"\n{label}: {took:.1f} s (fan-out {fanout_s or 0:.1f} s, submitted "
              f"{out['submitted']} chapter jobs); jobs of the day by status: {states}")
        print(f"  rows written: {out['rows']:,} = care tasks {out['tasks']:,} + greetings "
              f"{out['greetings']:,}   (care_runs +{out['care_runs']}, other outbox rows "
              f"+{out['outbox_other']})")
        return out

    def job_times(self) -> None:
        """Per-chapter job times of the last run (started → ended, from the job runs)."""
        rows = self.conn.execute(
            "SELECT j.chapter_id, extract(epoch FROM j.ended_at - j.started_at), "
            "(SELECT count(*) FROM owners o WHERE o.chapter_id = j.chapter_id), j.attempts, "
            "j.result->>'tasks_added', j.result->>'greetings_queued' "
            "FROM job_runs j WHERE j.id LIKE %s AND j.ended_at IS NOT NULL",
            (self.pattern,)).fetchall()
        if not rows:
            return
        secs = sorted(float(r[1]) for r in rows)
        p95 = secs[min(len(secs) - 1, int(len(secs) * 0.95))]
        print(f"  per-chapter job (started → ended): p50 {statistics.median(secs) * 1000:.0f} ms"
              f"  p95 {p95 * 1000:.0f} ms  max {secs[-1] * 1000:.0f} ms  sum {sum(secs):.1f} s; "
              f"retried {sum(1 for r in rows if r[3] > 1)}")
        for cid, s, owners, attempts, tasks, greets in sorted(rows, key=lambda r: -r[1])[:3]:
            print(f"    chapter {cid:>4}: {float(s) * 1000:7.0f} ms, {owners:>6,} owners, "
                  f"tasks {tasks}, greetings {greets}, attempts {attempts}")

    def reasons(self) -> None:
        rows = self.conn.execute(
            "SELECT reason, count(*) FROM care_tasks WHERE source_key = '' AND due_on = %s "
            "GROUP BY reason ORDER BY 2 DESC", (self.day,)).fetchall()
        print("  the day's care tasks by reason: "
              + ", ".join(f"{r} {n:,}" for r, n in rows))
        start, end = self.greeting_window()
        rows = self.conn.execute(
            "SELECT kind, channel, count(*) FROM outbox_messages WHERE kind = ANY(%s) AND "
            "not_before >= %s AND not_before < %s GROUP BY 1, 2 ORDER BY 1, 2",
            (list(GREETING_KINDS), start, end)).fetchall()
        print("  greetings by occasion and channel: "
              + ", ".join(f"{k}/{c} {n:,}" for k, c, n in rows))


def profile_chapter(database_url: str, chapter_id: int, day: date) -> None:
    """Time each rule's statement and the greetings on one chapter (savepoints, rolled back)."""
    with datagen.app_for(database_url):
        import sqlalchemy as sa

        from chapter.care import rules as care_rules
        from chapter.care import service
        from clubplatform import dates
        from clubplatform.extensions import db
        from clubplatform.tenancy import chapter_scope

        captured: list = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("INSERT INTO CARE_TASKS"):
                captured.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", before)
        take_out = sa.text("DELETE FROM care_tasks WHERE chapter_id = :c AND source_key = '' "
                           "AND due_on = :d")
        start = dates.day_start_utc(day)
        take_out_greetings = sa.text(
            "DELETE FROM outbox_messages WHERE chapter_id = :c AND kind IN "
            "('birthday', 'car_birthday') AND not_before >= :s AND not_before < :e")
        print(f"\nthe largest chapter ({chapter_id}), each rule's statement as the job runs it "
              f"(its tasks of {day} taken out first; rolled back):")
        lines = []
        with chapter_scope(chapter_id):
            sp = db.session.begin_nested()
            db.session.execute(take_out, {"c": chapter_id, "d": day})
            for rule in care_rules.effective_rules(chapter_id):
                if not rule.active:
                    continue
                for stmt in care_rules.statements(chapter_id, day, rule):
                    n0 = len(captured)
                    t0 = time.perf_counter()
                    n = care_rules.insert_tasks(stmt)
                    secs = time.perf_counter() - t0
                    sql, params = captured[n0] if len(captured) > n0 else ("", {})
                    lines.append((rule.code, n, secs, sql, params))
            sp.rollback()
            for code, n, secs, _sql, _p in lines:
                print(f"  {code:<16} {n:>6,} rows  {secs * 1000:9.1f} ms")
            print(f"  {'all rules':<16} {sum(x[1] for x in lines):>6,} rows  "
                  f"{sum(x[2] for x in lines) * 1000:9.1f} ms")
            sp = db.session.begin_nested()
            db.session.execute(take_out_greetings, {"c": chapter_id, "s": start,
                                                    "e": start + timedelta(days=1)})
            t0 = time.perf_counter()
            greeted = service.queue_greetings(chapter_id, day)
            print(f"  {'greetings':<16} {greeted:>6,} rows  "
                  f"{(time.perf_counter() - t0) * 1000:9.1f} ms  (rendered and queued one by one)")
            sp.rollback()
            code, n, secs, sql, params = max(lines, key=lambda x: x[2])
            if sql:
                sp = db.session.begin_nested()
                conn = db.session.connection()
                conn.execute(take_out, {"c": chapter_id, "d": day})
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql,
                                            params).scalars().all()
                sp.rollback()
                print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest statement ({code}, chapter "
                      f"{chapter_id}):\n  {_short(sql, 400)}")
                for line in plan:
                    print("  " + line)
        db.session.rollback()
        sa.event.remove(db.engine, "before_cursor_execute", before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL") or datagen.DEFAULT_URL)
    parser.add_argument("--redis-url",
                        default=os.environ.get("BENCH_CARE_REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--day", type=date.fromisoformat, default=None,
                        help="business date (default: the dataset's last day)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 2)))
    parser.add_argument("--queue", default="default", help="the app's JOB_QUEUE")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run, at most")
    parser.add_argument("--no-forced-rerun", action="store_true",
                        help="skip the forced second run (every chapter's job again)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the per-rule timing on the largest chapter")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("the care-list bench needs PostgreSQL: pass --database-url postgresql+psycopg://…")
    os.environ.setdefault("INSTANCE_DIR", str(OUT / "instance"))

    datagen.ensure_dataset(args.database_url, args.scale, args.seed)
    with datagen.app_for(args.database_url):
        from flask_migrate import upgrade

        t0 = time.perf_counter()
        upgrade()  # the care tables come with the revisions after the dataset's
        print(f"schema at the Alembic head ({time.perf_counter() - t0:.1f} s)")
    info = datagen.dataset_info(args.database_url)
    args.day = args.day or date.fromisoformat(info["today"])

    bench = Bench(args)
    print(f"business day {args.day}; {args.workers} RQ workers on {args.redis_url}"
          "; "
          f"{os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _open, largest = bench.dataset()
    bench.clean()
    bench.redis.flushdb()
    print(f"flushed Redis {args.redis_url}")
    bench.start_workers()
    try:
        first = bench.run("first run (the nightly fan-out, day not generated yet)")
        bench.job_times()
        bench.reasons()
        again = bench.run("second run (the same fan-out again, same day)")
        forced = None
        if not args.no_forced_rerun:
            # every chapter's job really runs the day again: only the job-run rows go
            n = bench.conn.execute("DELETE FROM job_runs WHERE id LIKE %s",
                                   (bench.pattern,)).rowcount
            print(f"\n(forced: {n} chapter job runs of the day deleted, so the fan-out submits "
                  f"every chapter again)")
            forced = bench.run("forced second run (every chapter's job runs the day again)")
            bench.job_times()
    finally:
        bench.stop_workers()
    if not args.no_profile:
        profile_chapter(args.database_url, largest, args.day)

    print(f"\nload average now {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} cores)")
    failed = sum(first["states"].get(s, 0) for s in ("failed", "queued", "started"))
    ok1 = first["seconds"] <= GOAL_S and failed == 0 and first["fanout_s"] is not None
    print(f"first run: {first['seconds']:.1f} s for {first['submitted']} chapters, "
          f"{first['rows']:,} rows (care tasks {first['tasks']:,} + greetings "
          f"{first['greetings']:,}); goal ≤ {GOAL_S:.0f} s, every job finished "
          f"(not finished: {failed}): {_verdict(ok1)}")
    print(f"second run (same fan-out): {again['seconds']:.1f} s, {again['rows']:,} rows; "
          f"goal 0 rows: {_verdict(again['rows'] == 0)}")
    if forced is not None:
        print(f"forced second run (every job again): {forced['seconds']:.1f} s, "
              f"{forced['rows']:,} rows; goal 0 rows: {_verdict(forced['rows'] == 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
