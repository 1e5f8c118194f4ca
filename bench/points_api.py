"""The points API under gunicorn on the national dataset: balance reads and manual awards.

On the dataset (``bench/datagen.py``, built at ``--scale`` if the database does not hold
it: ~2,000,000 owners, ~1,200,000 members, ~10,000,000 ledger entries at full scale) it
starts ``gunicorn -w BENCH_GUNICORN_WORKERS wsgi:app`` on a free loopback port (as
``login_throughput.py`` does: both use ``gunicorn_driver.py``), gives the manager of the
chapter with the most active members an API token (``Authorization: Bearer``), then for
``BENCH_SECONDS`` each, from ``BENCH_CONCURRENCY`` client threads:

- ``GET /api/v1/members/<id>/points``: the balance of a random active member of the chapter;
- ``POST /api/v1/members/<id>/points/earn`` with ``{"points", "note", "idempotency_key"}``:
  a manual award with a unique key per request.

Prints requests/s, p50, p95 and errors of each, the core count and the dataset's size;
then checks that every award wrote exactly one entry and moved the balance, and that a
retried key writes nothing. At the end the awards are taken out again (entries deleted,
balances restored, the token revoked), so the dataset stays as ``datagen --reuse`` expects.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import sys
import threading
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402
import gunicorn_driver as gd  # noqa: E402


def request(port: int, method: str, path: str, token: str,
            body: dict | None = None) -> tuple[int, bytes]:
    """One request on a new connection (gunicorn's sync workers close after each)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=gd.REQUEST_TIMEOUT)
    try:
        headers = {"User-Agent": gd.USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def find_paths(port: int) -> tuple[str, str]:
    """The balance and earn paths as the OpenAPI document names them (``{}`` for the id).

    The contract is ``/api/v1/members/<id>/points`` and ``…/points/earn``; a chapter
    prefix (``/api/v1/chapter/members/…``) is found the same way.
    """
    balance, earn = "/api/v1/members/{}/points", "/api/v1/members/{}/points/earn"
    status, body = request(port, "GET", "/api/v1/openapi.json", "")
    if status == 200:
        paths = json.loads(body).get("paths", {})
        for path in sorted(paths, key=len):
            generic = re.sub(r"\{[^}]+\}", "{}", "/api/v1" + path
                             if not path.startswith("/api/") else path)
            if re.search(r"/members/\{\}/points$", generic) and "get" in paths[path]:
                balance = generic
            elif re.search(r"/members/\{\}/points/earn$", generic) and "post" in paths[path]:
                earn = generic
    return balance, earn


def pick_chapter(database_url: str) -> tuple[int, int, str, list[int]]:
    """The chapter with the most active members: (id, manager id, username, member ids)."""
    import psycopg

    with psycopg.connect(datagen._conninfo(database_url)) as conn:
        cid, = conn.execute(
            "SELECT chapter_id FROM members WHERE status = 'active' GROUP BY chapter_id "
            "ORDER BY count(*) DESC LIMIT 1").fetchone()
        uid, username = conn.execute(
            "SELECT id, username FROM users WHERE chapter_id = %s AND role = 'chapter_manager' "
            "AND is_active_user ORDER BY id LIMIT 1", (cid,)).fetchone()
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM members WHERE chapter_id = %s AND status = 'active' ORDER BY id",
            (cid,))]
    return cid, uid, username, ids


def make_token(database_url: str, user_id: int) -> tuple[int, str]:
    with datagen.app_for(database_url):
        from clubplatform.auth import service
        from clubplatform.auth.models import User
        from clubplatform.extensions import db

        token, plain = service.create_token(db.session.get(User, user_id), "points bench",
                                            days=1)
        db.session.commit()
        return token.id, plain


def clean_up(database_url: str, run: str, token_id: int, user_id: int) -> tuple[int, int]:
    """Take the bench's awards out again and revoke its token; returns (entries, points)."""
    import psycopg

    with psycopg.connect(datagen._conninfo(database_url)) as conn:
        n, pts = conn.execute(
            "WITH d AS (DELETE FROM point_entries WHERE idempotency_key LIKE %s "
            "RETURNING member_id, points), s AS (SELECT member_id, sum(points) AS p FROM d "
            "GROUP BY member_id), u AS (UPDATE members m SET points_balance = "
            "m.points_balance - s.p FROM s WHERE m.id = s.member_id RETURNING m.id) "
            "SELECT (SELECT count(*) FROM d), (SELECT coalesce(sum(points), 0) FROM d)",
            (f"%{run}%",)).fetchone()
        conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND user_id = %s",
                     (token_id, user_id))
    return n, int(pts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    args = parser.parse_args(argv)
    env = gd.bench_env()  # DATABASE_URL or the bench database; the bench's instance folder
    url = env["DATABASE_URL"]
    if not url.startswith("postgresql"):
        sys.exit("the points API bench needs PostgreSQL (set DATABASE_URL)")
    print(f"database: {re.sub(r'//[^@]*@', '//***@', url)}")
    datagen.ensure_dataset(url, args.scale, args.seed)
    import psycopg

    with psycopg.connect(datagen._conninfo(url)) as conn:
        owners, members, entries = conn.execute(
            "SELECT (SELECT count(*) FROM owners), (SELECT count(*) FROM members), "
            "(SELECT count(*) FROM point_entries)").fetchone()
    cid, uid, username, member_ids = pick_chapter(url)
    token_id, token = make_token(url, uid)
    run = f"bench-api-{uuid.uuid4().hex[:12]}"
    print(f"dataset: {owners:,} owners, {members:,} members (the goal was stated for "
          f"2,000,000 members: this dataset has {members:,}), {entries:,} ledger entries")
    print(f"chapter {cid}: {len(member_ids):,} active members; API token of {username}")
    print(gd.machine_line())
    counter = iter(range(10**9))
    awarded: dict[int, int] = {}
    lock = threading.Lock()

    def read_balance() -> str | None:
        mid = random.choice(member_ids)
        status, body = request(server.port, "GET", balance_path.format(mid), token)
        if status != 200:
            return f"HTTP {status}"
        return None if b"balance" in body else "content"

    def earn() -> str | None:
        mid = random.choice(member_ids)
        key = f"{run}-{next(counter)}"
        status, body = request(server.port, "POST", earn_path.format(mid), token, {"points": 100, "note": "压力测试奖励",
                                                  "idempotency_key": key})
        if status not in (200, 201):
            return f"HTTP {status}"
        with lock:
            awarded[mid] = awarded.get(mid, 0) + 100
        return None

    try:
        server = gd.Server(env)
        try:
            balance_path, earn_path = find_paths(server.port)
            mid = member_ids[0]
            status, body = request(server.port, "GET", balance_path.format(mid), token)
            if status != 200:
                sys.exit(f"GET {balance_path.format(mid)} answered {status}: {body[:300]!r}")
            print(f"GET {balance_path.format(mid)} -> {body[:200].decode(errors='replace')}")
            results = {f"GET  {balance_path.format('<id>')}": gd.hammer(read_balance),
                       f"POST {earn_path.format('<id>')}": gd.hammer(earn)}
            # a retried key: the second request writes nothing
            key = f"{run}-retry"
            codes = [request(server.port, "POST", earn_path.format(mid), token,
                             {"points": 100, "note": "重试", "idempotency_key": key})[0]
                     for _ in range(2)]
            if codes[0] in (200, 201):
                awarded[mid] = awarded.get(mid, 0) + 100
        finally:
            server.stop()
        figures = {label: gd.report(label, r, width=44) for label, r in results.items()}
        rate, p95 = next(iter(figures.values()))
        errors = sum(next(iter(results.values()))["errors"].values())
        ok = rate >= 500 and p95 <= 100 and errors == 0
        print(f"balance reads: {rate:.1f} req/s at p95 {p95:.2f} ms, {errors} errors "
              f"(goal >= 500 req/s at p95 <= 100 ms) -> {'PASS' if ok else 'FAIL'}")
        # what the awards wrote: one entry each, balances moved by as much
        with psycopg.connect(datagen._conninfo(url)) as conn:
            n, pts = conn.execute(
                "SELECT count(*), coalesce(sum(points), 0) FROM point_entries "
                "WHERE idempotency_key LIKE %s", (f"%{run}%",)).fetchone()
            bad = conn.execute(
                "SELECT count(*) FROM members m JOIN (SELECT member_id, sum(points) AS s FROM "
                "point_entries WHERE member_id = ANY(%s) GROUP BY member_id) e "
                "ON e.member_id = m.id WHERE m.points_balance <> e.s", (list(awarded),)).fetchone()[0]
        expected = sum(awarded.values())
        print(f"awards written: {n:,} entries, {int(pts):,} points; answered OK: "
              f"{expected // 100:,} -> {'PASS' if n == expected // 100 and pts == expected else 'FAIL'}")
        print(f"retried key answered {codes[0]} then {codes[1]}; balances not the sum of their "
              f"entries: {bad} -> {'PASS' if bad == 0 else 'FAIL'}")
    finally:  # the dataset stays as it was, even after a failure
        removed, removed_pts = clean_up(url, run, token_id, uid)
        print(f"taken out again: {removed:,} entries, {removed_pts:,} points; token revoked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
