"""Owner search over the national dataset, through the real service: p50/p95 per kind.

On the dataset of ``datagen.py`` (built at full scale if the database does not hold it
already; reused when its row counts match), runs ``--queries`` searches of mixed kinds
(a surname such as 张, an exact mobile, a VIN, a plate, a member number) over chapters
drawn at random in proportion to their owners (a big dealer has more staff searching),
then name searches for the 20 commonest surnames in the largest chapter (the worst case).
Each runs as a chapter page runs it: inside ``chapter_scope(chapter)``,
``db.paginate(owner_query(q=...), page=1, per_page=20)``, i.e. the count and the first
page of owners (``owner_query`` applies ``search_predicate``; the tenant filter is added
by the scope). The searched values are real ones of the chapter, drawn with the seed.
A warm-up pass (its own queries, not timed) runs first.

Prints the dataset size, p50/p95/p99/max per kind and overall (goal: p95 <= 50 ms), and
the ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest query of the slowest kind. Asserts nothing.

Database: ``--database-url``, else ``DATABASE_URL``, else ``clubplatform_bench`` on
127.0.0.1 as user postgres. Knobs: ``--scale`` (default 1), ``--queries`` (1000),
``--warmup`` (200), ``--seed``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import datagen  # noqa: E402

KINDS = ("name", "mobile", "vin", "plate", "member_number")
GOAL_MS = 50.0
PER_PAGE = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL")
                        or datagen.DEFAULT_URL)
    parser.add_argument("--queries", type=int, default=int(os.environ.get("BENCH_QUERIES", 1000)))
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    url = args.database_url
    if not url.startswith("postgresql"):
        sys.exit("member_search needs PostgreSQL")
    datagen.ensure_dataset(url, args.scale, args.seed)

    with datagen.app_for(url):
        import sqlalchemy as sa

        from chapter.owners.service import owner_query
        from clubplatform.extensions import db
        from clubplatform.tenancy import chapter_scope

        engine = db.engine
        with engine.connect() as conn:
            print_dataset(conn)
            sizes = dict(conn.execute(sa.text(
                "SELECT o.chapter_id, count(*) FROM owners o JOIN chapters c ON c.id = o.chapter_id "
                "JOIN dealers d ON d.id = c.dealer_id WHERE d.code LIKE :p GROUP BY o.chapter_id "
                "ORDER BY o.chapter_id"), {"p": datagen.DEALER_PREFIX + "%"}).all())
            chapters = list(sizes)
            rng = random.Random(args.seed)
            total = args.warmup + args.queries
            drawn = rng.choices(chapters, weights=[sizes[c] for c in chapters], k=total)
            plan = [(KINDS[i % len(KINDS)], cid) for i, cid in enumerate(drawn)]
            rng.shuffle(plan)
            largest = max(chapters, key=sizes.get)
            t0 = time.perf_counter()
            searches = pick_values(conn, plan, rng)
            print(f"picked {len(searches)} search values from {len(set(plan))} (kind, chapter) "
                  f"pairs in {time.perf_counter() - t0:.1f}s")

        def run(cid: int, q: str) -> tuple[float, int]:
            with chapter_scope(cid):
                t0 = time.perf_counter()
                page = db.paginate(owner_query(q=q), page=1, per_page=PER_PAGE, error_out=False)
                found = page.total
                len(page.items)
                elapsed = time.perf_counter() - t0
            db.session.rollback()
            db.session.expunge_all()
            return elapsed, found

        for _kind, cid, q in searches[:args.warmup]:
            run(cid, q)
        results: dict[str, list[tuple[float, int, int, str]]] = {k: [] for k in KINDS}
        for kind, cid, q in searches[args.warmup:]:
            elapsed, found = run(cid, q)
            results[kind].append((elapsed, found, cid, q))
        sampled = sorted(sizes[cid] for _k, cid, _q in searches[args.warmup:])
        print(f"chapters searched: {len({c for _k, c, _q in searches[args.warmup:]})}, "
              f"owners per searched chapter: median {sampled[len(sampled) // 2]:,}, "
              f"max {sampled[-1]:,}")
        report(results)
        worst = {"name (largest chapter)": []}
        for _round in range(5):
            for surname in datagen.SURNAMES[:20]:
                elapsed, found = run(largest, surname)
                worst["name (largest chapter)"].append((elapsed, found, largest, surname))
        print(f"\nthe largest chapter ({sizes[largest]:,} owners), the 20 commonest surnames "
              "x 5:")
        report(worst, summary=False)
        slowest = max((k for k in KINDS if results[k]),
                      key=lambda k: pct([r[0] for r in results[k]], 95))
        _, _, cid, q = max(results[slowest])
        explain(db, engine, owner_query, chapter_scope, slowest, cid, q)
    return 0


def print_dataset(conn) -> None:
    import sqlalchemy as sa

    counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
              for t in ("chapters", "owners", "vehicles", "members", "service_visits")}
    collate = conn.execute(sa.text(
        "SELECT datcollate FROM pg_database WHERE datname = current_database()")).scalar_one()
    sizes = conn.execute(sa.text(
        "SELECT min(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n), max(n) FROM "
        "(SELECT count(*) AS n FROM owners GROUP BY chapter_id) s")).one()
    print(f"dataset: {counts['chapters']:,} chapters, {counts['owners']:,} owners "
          f"(per chapter {sizes[0]:,} / median {sizes[1]:,} / max {sizes[2]:,}), "
          f"{counts['vehicles']:,} vehicles, {counts['members']:,} members, "
          f"{counts['service_visits']:,} service visits; database collation {collate}")


def pick_values(conn, plan, rng) -> list[tuple[str, int, str]]:
    """Real values of each chapter to search for, drawn with the seed."""
    import sqlalchemy as sa

    need: dict[int, list[str]] = {}
    for kind, cid in plan:
        need.setdefault(cid, []).append(kind)
    owners_sql = sa.text(
        "SELECT o.name, o.mobile, v.vin, v.plate FROM owners o "
        "JOIN LATERAL (SELECT vin, plate FROM vehicles v WHERE v.chapter_id = o.chapter_id "
        "AND v.owner_id = o.id ORDER BY v.id LIMIT 1) v ON true "
        "WHERE o.chapter_id = :cid AND o.kind = 'individual' AND o.mobile IS NOT NULL "
        "ORDER BY md5(o.id::text || :salt) LIMIT :n")
    members_sql = sa.text(
        "SELECT member_number FROM members WHERE chapter_id = :cid "
        "ORDER BY md5(id::text || :salt) LIMIT :n")
    values: dict[int, dict[str, list[str]]] = {}
    for cid, kinds in need.items():
        salt = str(rng.random())
        rows = conn.execute(owners_sql, {"cid": cid, "salt": salt, "n": len(kinds)}).all()
        numbers = conn.execute(members_sql, {"cid": cid, "salt": salt,
                                             "n": len(kinds)}).scalars().all()
        values[cid] = {
            "name": [r.name[0] for r in rows],  # the surname: the broadest name search
            "mobile": [r.mobile for r in rows],
            "vin": [r.vin for r in rows],
            "plate": [r.plate for r in rows],
            "member_number": list(numbers),
        }
    searches = []
    for kind, cid in plan:
        pool = values[cid][kind]
        if pool:
            searches.append((kind, cid, pool.pop()))
    return searches


def pct(xs: list[float], p: int) -> float:
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[p - 1]


def report(results, summary: bool = True) -> None:
    every = [r[0] for rs in results.values() for r in rs]
    if summary:
        print(f"\n{len(every)} searches (count + first page of {PER_PAGE}), milliseconds:")
    print(f"  {'kind':<24}{'n':>6}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'rows found (median)':>22}")
    rows = list(results.items())
    if summary:
        rows.append(("overall", [r for v in results.values() for r in v]))
    for kind, rs in rows:
        if not rs:
            continue
        xs = [r[0] * 1e3 for r in rs]
        found = statistics.median(r[1] for r in rs)
        print(f"  {kind:<24}{len(xs):>6}{pct(xs, 50):>9.2f}{pct(xs, 95):>9.2f}{pct(xs, 99):>9.2f}"
              f"{max(xs):>9.2f}{found:>22,.0f}")
    p95 = pct([x * 1e3 for x in every], 95)
    verdict = "within" if p95 <= GOAL_MS else "ABOVE"
    print(f"{'overall ' if summary else ''}p95 {p95:.2f} ms: {verdict} the goal of "
          f"{GOAL_MS:.0f} ms")


def explain(db, engine, owner_query, chapter_scope, kind: str, cid: int, q: str) -> None:
    """EXPLAIN ANALYZE the statements the slowest search sent (count and page)."""
    import sqlalchemy as sa

    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with chapter_scope(cid):
            db.paginate(owner_query(q=q), page=1, per_page=PER_PAGE, error_out=False)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
        db.session.rollback()
    print(f"\nslowest kind: {kind}; its slowest search: q={q!r} in chapter {cid}")
    conn = db.session.connection()
    for statement, parameters in sent:
        print("\nEXPLAIN (ANALYZE, BUFFERS)", " ".join(statement.split()))
        print(f"  parameters: {parameters}")
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        for (line,) in plan:
            print("  " + line)
    db.session.rollback()


if __name__ == "__main__":
    sys.exit(main())
