"""The national regional-rates recomputation against its physical floor, and the dashboard read.

On the national dataset (``datagen.ensure_dataset``; built at ``--scale`` if missing):

1. the **floor**: one sequential scan of the member-status history
   (``member_status_periods``; index scans switched off so it is a Seq Scan); and the
   least any recomputation from that history does, for reference: its rows grouped by
   chapter and the month of one date, one count;
2. the **full 12-month national recomputation**: ``figures_statement`` for the 12 month
   ends up to the data's last complete month — every chapter, region and the nation,
   every figure (members, pending applications, owners, dealers, new members, referral
   purchases, both rates), all rows fetched;
3. their ratio (goal ≤ 2×);
4. the snapshot of those 12 months (``snapshot_months``: the same statement as
   ``INSERT … SELECT``), then the **dashboard read** from the snapshots
   (``service.dashboard`` of the last month end: nation, ranked regions and chapters,
   labels; and the 12-month national trend) — goal ≤ 50 ms;
5. the ``EXPLAIN (ANALYZE, BUFFERS)`` plans of the floor, the recomputation and the
   dashboard's snapshot query.

Each timed step runs ``--repeat`` times (default 3) and prints every run and the best
(warm cache). Everything is in one transaction that is **rolled back**: the dataset stays
as it was. The machine is shared: read the figures with the load average printed.

Usage::

    .venv/bin/python bench/regional_rates.py                       # full scale
    .venv/bin/python bench/regional_rates.py --scale 0.01 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/clubplatform_bench_analytics
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402


def _timed(fn, repeat: int):
    runs, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
    return runs, result


def _ms(runs) -> str:
    return ", ".join(f"{r * 1000:.1f}" for r in runs) + " ms"


def _explain(conn, stmt, title: str) -> None:
    from sqlalchemy.dialects import postgresql

    compiled = stmt.compile(dialect=postgresql.psycopg.dialect())
    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled),
                                compiled.params).scalars().all()
    print(f"\n--- EXPLAIN (ANALYZE, BUFFERS): {title}")
    for line in plan:
        print(line)


#: narrow indexes the recomputation could read instead of the wide tables (index-only
#: scans); ``--read-indexes`` builds them inside the bench's transaction (rolled back)
READ_INDEXES = (
    "CREATE INDEX bench_ix_owners_customers ON owners (chapter_id, customer_since) "
    "WHERE kind = 'individual' AND customer_since IS NOT NULL",
    "CREATE INDEX bench_ix_applications_pending ON applications "
    "(chapter_id, applied_on, decided_on)",
    "CREATE INDEX bench_ix_leads_referral_purchases ON leads (chapter_id, purchased_on) "
    "WHERE status = 'purchased' AND referrer_member_id IS NOT NULL",
)


def run(database_url: str, scale: float, seed: int, repeat: int, plans: bool,
        read_indexes: bool = False) -> None:
    import sqlalchemy as sa

    datagen.ensure_dataset(database_url, scale=scale, seed=seed)
    info = datagen.dataset_info(database_url) or {}
    data_today = date.fromisoformat(info.get("today")) if info.get("today") else None
    with datagen.app_for(database_url):
        from clubplatform.analytics import figures, service
        from clubplatform.extensions import db
        from clubplatform.tenancy import unscoped

        last = (data_today or date.today()).replace(day=1) - timedelta(days=1)
        first = figures.end_of(figures.index_of(last) - 11)
        months = figures.month_ends(first, last)
        periods = db.session.execute(sa.text("SELECT count(*) FROM member_status_periods")).scalar()
        print(f"\nmonth ends {months[0]} … {months[-1]} (12), member_status_periods {periods:,}, "
              f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}, "
              f"{os.cpu_count()} cores")
        with unscoped("bench: HQ's national figures"):
            conn = db.session.connection()
            if read_indexes:
                t0 = time.perf_counter()
                for ddl in READ_INDEXES:
                    conn.exec_driver_sql(ddl)
                for table in ("owners", "applications", "leads"):
                    conn.exec_driver_sql(f"ANALYZE {table}")
                print(f"built the read indexes (rolled back at the end): "
                      f"{time.perf_counter() - t0:.1f}s")
            for s in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
                conn.exec_driver_sql(f"SET LOCAL {s} = off")
            floor_sql = sa.text("SELECT count(*), max(valid_from) FROM member_status_periods")
            floor_runs, _ = _timed(lambda: conn.execute(floor_sql).one(), repeat)
            if plans:
                _explain(conn, floor_sql, "floor: one sequential scan of member_status_periods")
            for s in ("enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"):
                conn.exec_driver_sql(f"SET LOCAL {s} = on")

            figures.give_room()  # as compute() and the snapshot do (SET LOCAL work_mem)
            # the least any recomputation from this history does: group its rows by chapter
            # and by the month of one date (no end month, no other table, one count)
            msp = db.metadata.tables["member_status_periods"]
            bucket = figures.month_bucket(msp.c.valid_from, figures.index_of(date(first.year, 1, 1)),
                                          figures.index_of(last))
            least_sql = (sa.select(msp.c.chapter_id, bucket.label("mi"), sa.func.count())
                         .group_by(msp.c.chapter_id, bucket))
            least_runs, least_rows = _timed(lambda: conn.execute(least_sql).all(), repeat)
            if plans:
                _explain(conn, least_sql, "the least grouping: chapter x month of valid_from")
            stmt = figures.figures_statement(first, last)
            full_runs, rows = _timed(lambda: conn.execute(stmt).all(), repeat)
            nation = sorted((r for r in rows if r.level == "nation"), key=lambda r: r.month_end)
            # where the time goes: each history scan alone (grouped by chapter and month)
            scan_runs = {}
            for name, scan in figures.source_scans(first, last).items():
                scan_runs[name], _ = _timed(lambda scan=scan: conn.execute(scan).all(), repeat)
            sizes = {t: db.session.execute(sa.text(
                f"SELECT pg_size_pretty(pg_relation_size('{t}')), "
                f"(SELECT reltuples::bigint FROM pg_class WHERE relname = '{t}')")).one()
                for t in ("member_status_periods", "applications", "owners", "leads")}
            if plans:
                _explain(conn, stmt, "full 12-month national recomputation")

            t0 = time.perf_counter()
            result = service.snapshot_months(first, last, source="backfill")
            snap_s = time.perf_counter() - t0
            db.session.flush()

            read_runs, board = _timed(lambda: service.dashboard(last), max(repeat, 20))
            trend_runs, trend = _timed(lambda: service.trend(first, last), max(repeat, 20))
            if plans:
                from clubplatform.analytics.models import AnalyticsSnapshot

                _explain(conn, sa.select(AnalyticsSnapshot).where(
                    AnalyticsSnapshot.month_end == last).order_by(
                    AnalyticsSnapshot.level, AnalyticsSnapshot.scope_id),
                    "dashboard: one month end's snapshot rows")
            db.session.rollback()

        floor, full = min(floor_runs), min(full_runs)
        print("\n=== regional rates")
        print(f"floor: seq scan of member_status_periods ({periods:,} rows): {_ms(floor_runs)}; "
              f"best {floor * 1000:.1f} ms")
        print(f"full 12-month national recomputation ({len(rows):,} rows: "
              f"{len([r for r in rows if r.level == 'chapter']):,} chapter-months, "
              f"{len([r for r in rows if r.level == 'region']):,} region-months, "
              f"{len(nation)} nation-months): {_ms(full_runs)}; best {full * 1000:.1f} ms")
        table_of = {"periods": "member_status_periods", "applications": "applications",
                    "owners": "owners", "referrals": "leads"}
        least = min(least_runs)
        print(f"the least grouping of that history (chapter x month of valid_from, one count; "
              f"{len(least_rows):,} groups): {_ms(least_runs)}; best {least * 1000:.1f} ms "
              f"({least / floor:.1f}x the floor)")
        for name, runs in scan_runs.items():
            size, tuples = sizes[table_of[name]]
            print(f"  of which the {name} scan alone ({table_of[name]}: {tuples:,} rows, "
                  f"{size}): best {min(runs) * 1000:.1f} ms ({min(runs) / floor:.1f}x the floor)")
        ratio = full / floor if floor else float("inf")
        print(f"ratio recomputation / floor: {ratio:.1f}x  (goal <= 2x: "
              f"{'PASS' if ratio <= 2 else 'FAIL'})")
        print(f"snapshot of the 12 months (INSERT ... SELECT): {snap_s * 1000:.1f} ms, "
              f"{len(result.written)} month(s) written")
        p50 = statistics.median(read_runs)
        print(f"dashboard read from snapshots ({months[-1]}: nation, {len(board.regions)} regions, "
              f"{len(board.chapters)} chapters ranked, source {board.source}): p50 "
              f"{p50 * 1000:.1f} ms, max {max(read_runs) * 1000:.1f} ms  (goal <= 50 ms: "
              f"{'PASS' if p50 <= 0.05 else 'FAIL'})")
        print(f"12-month national trend from snapshots ({len(trend)} rows): p50 "
              f"{statistics.median(trend_runs) * 1000:.1f} ms")
        last_n = nation[-1] if nation else None
        if last_n is not None:
            print(f"nation on {last_n.month_end}: chapters {last_n.chapters}, dealers with full "
                  f"after-sales {last_n.dealers_full_after_sales}, join rate "
                  f"{service.percent(last_n.join_rate_bp)}, members {last_n.members:,}, pending "
                  f"{last_n.pending_applications:,}, owners {last_n.owners:,}, recruitment rate "
                  f"{service.percent(last_n.recruitment_rate_bp)}, new {last_n.new_members:,}, "
                  f"referral purchases {last_n.referral_purchases} "
                  f"(year {last_n.referral_purchases_ytd})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL") or datagen.DEFAULT_URL)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-plans", action="store_true", help="skip the EXPLAIN output")
    parser.add_argument("--read-indexes", action="store_true",
                        help="also try narrow covering indexes (built and rolled back)")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("the bench needs PostgreSQL: pass --database-url postgresql+psycopg://…")
    run(args.database_url, args.scale, args.seed, args.repeat, not args.no_plans,
        args.read_indexes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
