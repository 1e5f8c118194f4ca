"""1,000 members RSVP within seconds to a 200-seat event through the portal API under gunicorn.

What it does:

1. on PostgreSQL (``DATABASE_URL``, else database ``clubplatform_bench_rsvp`` on 127.0.0.1
   as ``postgres``, created if missing; schema by ``flask db upgrade``) sets up, through
   the real services: a region ``BR``, dealer ``BENCH-RSVP`` and its chapter
   (``clubplatform.org.service``), the chapter's manager, ``BENCH_RSVP_MEMBERS`` (1,000)
   members who signed up in the portal (``chapter.portal.service.sign_up``: owner, account
   whose username is the mobile, online application) and were approved by the manager
   (``chapter.recruitment.service.approve_application``, which links the account). The
   members are kept between runs (made once; the accounts' password hashing is cheapened
   for the setup only, since the bench never logs in with a password). Each run creates a
   new event (``chapter.events.service.create_event``: ``BENCH_RSVP_SEATS`` = 200 seats,
   no guests, a week ahead) and a fresh API token per member
   (``clubplatform.auth.service.create_token``): the portal API takes a bearer token or a
   session, and a token is what the phone app sends;
2. starts ``gunicorn -w BENCH_GUNICORN_WORKERS`` (2) on a free loopback port
   (``gunicorn_driver.py``, as ``points_api.py``), warms the workers with 8 RSVPs to a
   4-seat event of their own, then releases ``BENCH_RSVP_THREADS`` (24) client threads at once; they send
   the 1,000 ``POST /api/v1/portal/events/<id>/rsvp`` (each from a different member, one
   new connection per request) as fast as the answers come back;
3. prints the burst's wall time, requests/s, p50/p95/p99/max and the errors (and the time
   spent in the server, from the app's request log in ``bench/out/gunicorn.log``), then checks
   with PASS/FAIL from the database: exactly 200 registered and 800 waitlisted, one
   registration per member, the event's arrival counter at 1,000 with the arrival numbers
   1…1,000 each once, every registered member ahead of every waitlisted one, the waitlist
   positions 1…800 in arrival order, what each answer said (status, arrival number,
   waitlist position) equal to what the database holds, and no request that was sent after
   another one's answer came back ahead of it in the queue; finally 50 members RSVP again at
   once (nothing may change). The run's tokens are revoked at the end.

Knobs: ``BENCH_RSVP_MEMBERS``, ``BENCH_RSVP_SEATS``, ``BENCH_RSVP_THREADS``,
``BENCH_GUNICORN_WORKERS``. Asserts nothing; the exit status is 0.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gunicorn_driver as gd  # noqa: E402

BENCH_DB = "clubplatform_bench_rsvp"
DEFAULT_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"
MEMBERS = int(os.environ.get("BENCH_RSVP_MEMBERS", "1000"))
SEATS = int(os.environ.get("BENCH_RSVP_SEATS", "200"))
THREADS = int(os.environ.get("BENCH_RSVP_THREADS", "24"))
REPEATS = 50
#: an answer may wait behind every other RSVP on the event's row lock
TIMEOUT = 120.0
REGION, DEALER, MANAGER = "BR", "BENCH-RSVP", "bench.rsvp.manager"
PASSWORD = "Rsvp-bench-2026"
TOKEN_NAME = "rsvp bench"


# --- setup (in this process, before gunicorn starts) ----------------------------------------

def make_app(url: str):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("INSTANCE_DIR", str(gd.OUT / "instance"))
    os.environ.pop("REDIS_URL", None)
    from clubplatform.app import create_app
    from clubplatform.config import Config

    config = Config()
    # the members' accounts are never logged into with a password here (tokens are):
    # cheap hashing keeps making 1,000 of them short
    config.ARGON2_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    return create_app(config)


def ensure_chapter():
    """The bench's region, dealer, chapter and manager (the org and auth services)."""
    import secrets

    import sqlalchemy as sa

    from clubplatform.auth import service as auth
    from clubplatform.auth.models import User
    from clubplatform.extensions import db
    from clubplatform.org import service as org
    from clubplatform.org.models import Chapter, Dealer, Region

    region = db.session.execute(sa.select(Region).filter_by(code=REGION)).scalar_one_or_none()
    if region is None:
        region = org.save_region(code=REGION, name_zh="报名压测区", name_en="RSVP bench")
    dealer = db.session.execute(sa.select(Dealer).filter_by(code=DEALER)).scalar_one_or_none()
    if dealer is None:
        dealer = org.save_dealer({"code": DEALER, "name": "报名压测经销商", "region_id": region.id,
                                  "city": "北京市", "full_after_sales_since": date(2020, 1, 1)})
    chapter = db.session.execute(sa.select(Chapter).filter_by(dealer_id=dealer.id)
                                 ).scalar_one_or_none()
    if chapter is None:
        chapter = org.open_chapter(dealer_id=dealer.id, name="报名压测车友会",
                                   founded_on=date(2022, 1, 1))
    manager = db.session.execute(sa.select(User).filter_by(username=MANAGER)).scalar_one_or_none()
    if manager is None:
        manager = auth.create_user(username=MANAGER, display_name="报名压测经理",
                                   password=secrets.token_urlsafe(16), role="chapter_manager",
                                   chapter_id=chapter.id, locale="zh_Hans_CN")
    db.session.commit()
    return chapter.id, manager.id


def ensure_members(chapter_id: int, manager_id: int) -> list[tuple[int, int]]:
    """``MEMBERS`` active members with portal accounts: [(member id, user id)]."""
    import sqlalchemy as sa

    from chapter.owners.models import Owner
    from chapter.portal import service as portal
    from chapter.recruitment import service as recruitment
    from chapter.recruitment.models import PENDING, Application
    from clubplatform.auth.models import User
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from clubplatform.validators import make_mobile
    from hq.members.models import ACTIVE, Member

    manager = db.session.get(User, manager_id)

    def existing() -> list[tuple[int, int]]:
        with chapter_scope(chapter_id):
            return [tuple(r) for r in db.session.execute(
                sa.select(Member.id, Member.user_id).where(Member.status == ACTIVE,
                                                           Member.user_id.is_not(None))
                .order_by(Member.id))]

    have = existing()
    if len(have) >= MEMBERS:
        return have[:MEMBERS]
    rng = random.Random(20260406)
    taken = set(db.session.execute(sa.select(User.username)).scalars())
    started = time.monotonic()
    made = 0
    for i in range(len(have), MEMBERS):
        mobile = make_mobile(rng)
        while mobile in taken:
            mobile = make_mobile(rng)
        taken.add(mobile)
        with chapter_scope(chapter_id):
            user = portal.sign_up(chapter_id=chapter_id, name=f"报名{i + 1:04d}", mobile=mobile,
                                  password=PASSWORD)
            application = db.session.execute(
                sa.select(Application).join(Owner, Owner.id == Application.owner_id)
                .where(Owner.user_id == user.id, Application.status == PENDING)
            ).scalar_one()
            recruitment.approve_application(application, actor=manager)
            db.session.commit()
        made += 1
        if made % 200 == 0:
            print(f"  members signed up and approved: {len(have) + made:,}/{MEMBERS:,} "
                  f"({time.monotonic() - started:.0f} s)", flush=True)
    print(f"set up {made:,} members in {time.monotonic() - started:.1f} s")
    return existing()[:MEMBERS]


def make_event(chapter_id: int, manager_id: int, seats: int = SEATS) -> int:
    from chapter.events import service
    from clubplatform.auth.models import User
    from clubplatform.db import utcnow
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope

    starts = (utcnow() + timedelta(days=7)).replace(microsecond=0)
    with chapter_scope(chapter_id):
        event = service.create_event(chapter_id, {
            "type": "gala", "title_zh": "答谢晚会（报名压测）", "title_en": "Gala (RSVP bench)",
            "starts_at": starts, "ends_at": starts + timedelta(hours=3),
            "place": "展厅", "capacity": seats, "max_guests": 0, "attendance_points": 0,
        }, actor=db.session.get(User, manager_id))
        db.session.commit()
        return event.id


def make_tokens(user_ids: list[int]) -> dict[int, str]:
    """A fresh one-day token per member account: {user id: plain token}."""
    import sqlalchemy as sa

    from clubplatform.auth import service as auth
    from clubplatform.auth.models import User
    from clubplatform.extensions import db

    users = {u.id: u for u in db.session.execute(
        sa.select(User).where(User.id.in_(user_ids))).scalars()}
    out = {}
    for uid in user_ids:
        _, out[uid] = auth.create_token(users[uid], TOKEN_NAME, days=1)
    db.session.commit()
    return out


def setup(url: str) -> dict:
    from clubplatform.extensions import db

    app = make_app(url)
    with app.app_context():
        try:
            chapter_id, manager_id = ensure_chapter()
            members = ensure_members(chapter_id, manager_id)
            warm_id = make_event(chapter_id, manager_id, seats=4)
            event_id = make_event(chapter_id, manager_id)
            tokens = make_tokens([uid for _, uid in members])
        finally:
            db.session.remove()
            db.engine.dispose()
    return {"chapter_id": chapter_id, "event_id": event_id, "warm_id": warm_id,
            "members": [(mid, tokens[uid]) for mid, uid in members]}


# --- the burst ------------------------------------------------------------------------------

def request(port: int, method: str, path: str, token: str,
            body: dict | None = None) -> tuple[int, bytes]:
    """One request on a new connection (gunicorn's sync workers close after each)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        headers = {"User-Agent": gd.USER_AGENT, "Accept": "application/json",
                   "Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def burst(port: int, path: str, members: list[tuple[int, str]], threads: int) -> list[dict]:
    """Every member's RSVP, from ``threads`` threads released together; one record each."""
    queue = list(reversed(members))
    lock = threading.Lock()
    barrier = threading.Barrier(threads, timeout=60)
    records: list[dict] = []

    def loop() -> None:
        mine = []
        barrier.wait()
        while True:
            with lock:
                if not queue:
                    break
                member_id, token = queue.pop()
            rec = {"member_id": member_id, "sent": time.perf_counter()}
            try:
                status, body = request(port, "POST", path, token, {})
                rec["http"] = status
                if status == 200:
                    rec["answer"] = json.loads(body)
                else:
                    rec["error"] = f"HTTP {status}"
                    rec["body"] = body[:300]
            except (OSError, ValueError) as exc:
                rec["error"] = type(exc).__name__
            rec["received"] = time.perf_counter()
            mine.append(rec)
        with lock:
            records.extend(mine)

    pool = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(TIMEOUT * len(members) / threads + 60)
    return records


def quantiles(values: list[float]) -> tuple[float, float, float, float]:
    if len(values) < 2:
        return (float("nan"),) * 4
    qs = statistics.quantiles(values, n=100)
    return qs[49], qs[94], qs[98], max(values)


def server_times(log_path: Path, start: int, end: int, path: str) -> list[float]:
    """``duration_ms`` of the burst's requests, from the app's JSON request log."""
    with open(log_path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode(errors="replace")
    out = []
    for line in text.splitlines():
        if line.startswith("{") and path in line:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("path") == path and rec.get("method") == "POST" and "duration_ms" in rec:
                out.append(float(rec["duration_ms"]))
    return out


def order_violations(records: list[dict]) -> int:
    """Requests sent after another's answer came back yet placed before it (arrival order)."""
    ok = [r for r in records if "answer" in r]
    by_received = sorted(ok, key=lambda r: r["received"])
    highest, i, bad = 0, 0, 0
    for r in sorted(ok, key=lambda r: r["sent"]):
        while i < len(by_received) and by_received[i]["received"] < r["sent"]:
            highest = max(highest, by_received[i]["answer"]["seq"])
            i += 1
        if r["answer"]["seq"] < highest:
            bad += 1
    return bad


def database_state(url: str, event_id: int) -> dict:
    import psycopg

    conninfo = re.sub(r"^postgresql\+psycopg", "postgresql", url)
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT member_id, status, seq FROM event_registrations WHERE event_id = %s",
            (event_id,)).fetchall()
        counter, capacity = conn.execute(
            "SELECT rsvp_seq, capacity FROM events WHERE id = %s", (event_id,)).fetchone()
    return {"rows": rows, "counter": counter, "capacity": capacity}


def check(label: str, ok: bool, detail: str = "") -> bool:
    print(f"  [{'PASS' if ok else 'FAIL'}] {label}{(': ' + detail) if detail else ''}")
    return ok


def verify(state: dict, records: list[dict], n: int) -> int:
    rows = state["rows"]
    by_member = {m: (status, seq) for m, status, seq in rows}
    registered = sorted(seq for _, s, seq in rows if s == "registered")
    waitlisted = sorted(seq for _, s, seq in rows if s == "waitlisted")
    position = {seq: i + 1 for i, seq in enumerate(waitlisted)}
    want_reg, want_wait = min(SEATS, n), max(0, n - SEATS)
    results = [
        check(f"registered exactly {want_reg}", len(registered) == want_reg,
              f"{len(registered)}"),
        check(f"waitlisted exactly {want_wait}", len(waitlisted) == want_wait,
              f"{len(waitlisted)}"),
        check("one registration per member, none cancelled",
              len(rows) == n and len(by_member) == n and len(registered) + len(waitlisted) == n,
              f"{len(rows)} rows, {len(by_member)} members"),
        check(f"arrival counter {n}, arrival numbers 1..{n} each once",
              state["counter"] == n and sorted(seq for _, _, seq in rows) == list(range(1, n + 1)),
              f"counter {state['counter']}"),
        check("every registered member arrived before every waitlisted one",
              not registered or not waitlisted or registered[-1] < waitlisted[0],
              f"last registered #{registered[-1] if registered else '-'}, first waitlisted "
              f"#{waitlisted[0] if waitlisted else '-'}"),
        check(f"seats taken <= capacity ({state['capacity']})",
              len(registered) <= state["capacity"]),
    ]
    answered = [r for r in records if "answer" in r]
    mismatch = 0
    for r in answered:
        a = r["answer"]
        status, seq = by_member.get(r["member_id"], (None, None))
        if (a.get("member_id"), a.get("status"), a.get("seq")) != (r["member_id"], status, seq) \
                or a.get("waitlist_position") != position.get(seq):
            mismatch += 1
    results.append(check("each answer (status, arrival number, waitlist position) = the database",
                         mismatch == 0 and len(answered) == n,
                         f"{len(answered)} answers, {mismatch} differ"))
    bad = order_violations(records)
    results.append(check("arrival order: no request sent after another's answer is ahead of it",
                         bad == 0, f"{bad} out of order"))
    return sum(not ok for ok in results)


def main() -> int:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgresql"):
        sys.exit("the RSVP bench needs PostgreSQL (set DATABASE_URL)")
    if url == DEFAULT_URL:
        gd.ensure_database(BENCH_DB)
    os.environ["DATABASE_URL"] = url
    env = gd.bench_env()
    print(f"database: {re.sub(r'//[^@]*@', '//***@', url)}")
    gd.flask(["db", "upgrade"], env)
    t0 = time.monotonic()
    data = setup(url)
    event_id, members = data["event_id"], data["members"]
    print(f"dataset: chapter {data['chapter_id']}, {len(members):,} active members with portal "
          f"accounts and a fresh API token each; event {event_id}: {SEATS} seats, no guests "
          f"(setup {time.monotonic() - t0:.1f} s)")
    cores = os.cpu_count()
    load = os.getloadavg()
    print(f"machine: {cores} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"gunicorn {gd.WORKERS} sync workers; {THREADS} client threads on the same machine")
    path = f"/api/v1/portal/events/{event_id}/rsvp"
    failed = 0
    try:
        server = gd.Server(env)
        try:
            # warm every worker (imports, first queries) with RSVPs to a small event of
            # its own: the burst measures a warm server
            warm = f"/api/v1/portal/events/{data['warm_id']}/rsvp"
            for _, token in members[:4 * gd.WORKERS]:
                status, body = request(server.port, "POST", warm, token, {})
                if status != 200:
                    sys.exit(f"POST {warm} answered {status}: {body[:300]!r}")
            log_start = server.log_path.stat().st_size
            order = list(members)
            random.Random(event_id).shuffle(order)
            records = burst(server.port, path, order, THREADS)
            again = random.Random(1).sample(order, min(REPEATS, len(order)))
            before = database_state(url, event_id)
            time.sleep(0.5)  # the workers' log lines of the burst are written
            log_end = server.log_path.stat().st_size
            repeat = burst(server.port, path, again, min(THREADS, len(again)))
        finally:
            server.stop()
        lat = sorted(r["received"] - r["sent"] for r in records if "answer" in r)
        errors: dict[str, int] = {}
        for r in records:
            if "error" in r:
                errors[r["error"]] = errors.get(r["error"], 0) + 1
        wall = max(r["received"] for r in records) - min(r["sent"] for r in records)
        p50, p95, p99, top = (q * 1e3 for q in quantiles(lat))
        n_err = sum(errors.values())
        print(f"POST /api/v1/portal/events/<id>/rsvp: {len(records):,} RSVPs in {wall:.2f} s")
        print(f"  {len(lat) / wall:8.1f} req/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
              f"p99 {p99:7.1f} ms   max {top:7.1f} ms   ok {len(lat)}   errors {n_err} "
              f"({', '.join(f'{k}: {v}' for k, v in errors.items()) or 'none'})")
        served = server_times(server.log_path, log_start, log_end, path)
        if served:
            s50, s95, s99, smax = quantiles(served)
            print(f"  in the server (the app's request log, {len(served):,} lines): p50 "
                  f"{s50:.1f} ms   p95 {s95:.1f} ms   p99 {s99:.1f} ms   max {smax:.1f} ms; "
                  f"the rest of a client's wait is the queue for the {gd.WORKERS} workers")
        for r in [r for r in records if "body" in r][:3]:
            print(f"  e.g. {r['error']}: {r['body']!r}")
        state = database_state(url, event_id)
        print("checks (from the database):")
        failed += not check("every RSVP answered 200", n_err == 0 and len(records) == len(members),
                            f"{len(lat)} of {len(members)}")
        failed += verify(state, records, len(members))
        same = [r for r in repeat if "answer" in r
                and (r["answer"]["status"], r["answer"]["seq"]) == next(
                    ((s, q) for m, s, q in before["rows"] if m == r["member_id"]), None)]
        failed += not check(f"{len(again)} members RSVP again at once: each keeps its place, "
                            "nothing written",
                            len(same) == len(again) and sorted(state["rows"]) == sorted(
                                before["rows"]) and state["counter"] == before["counter"],
                            f"{len(same)} kept, counter {state['counter']}")
    finally:
        revoked = revoke_tokens(url)
        print(f"tokens revoked: {revoked:,}")
    print(f"rsvp_burst: {'PASS' if failed == 0 else f'FAIL ({failed} checks)'}")
    return 0


def revoke_tokens(url: str) -> int:
    import psycopg

    conninfo = re.sub(r"^postgresql\+psycopg", "postgresql", url)
    with psycopg.connect(conninfo) as conn:
        return conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE name = %s "
                            "AND revoked_at IS NULL", (TOKEN_NAME,)).rowcount


if __name__ == "__main__":
    sys.exit(main())
