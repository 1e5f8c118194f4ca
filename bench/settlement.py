"""The monthly points settlement over the national dataset; nothing is kept.

On the dataset (``bench/datagen.py``, built at ``--scale`` if the database does not hold
it), the real service ``hq.settlement.service`` drafts, as the monthly job does (inside
``unscoped(...)``):

- ``draft_month`` for every chapter and partner of the month before the latest complete
  month: the first draft, which settles the whole history up to that month's end (what
  the monthly job has done month by month on a platform in service: here the backlog of
  every month since the dataset's start at once; printed, not a goal);
- ``draft_month`` of the latest complete month right after it: one month for all chapters
  over the whole ledger, the monthly job's cost — the issue's goal (≤ 10 s);
- ``draft_chapter`` of that month for the chapter with the most entries that settle at a
  chapter, and for the median chapter: ``--repeat`` drafts each (the statement's lines and
  watermark taken out before each, so each reads what a first draft reads), median time.

Prints the dataset's size, the times (with the slowest SQL statements of each draft), the
``EXPLAIN (ANALYZE, BUFFERS)`` of the one-chapter query (the ``INSERT … SELECT`` of the
largest chapter's lines, captured from the service and explained after deleting the
statement's lines again) and of the monthly draft's line INSERTs (likewise), the goals with
PASS/FAIL (one month for all chapters ≤ 10 s, one chapter ≤ 50 ms) and the invariants: each month's statements sum to the
entries they cover, to the fen (``month_totals``, ``month_mismatches``), no entry is in two
statements (``entries_settled_twice``) and every entry with a settlement effect up to the
month's end is settled.

Everything happens in one transaction that is rolled back at the end, so the dataset
stays as ``datagen --reuse`` expects it (only the id sequences move on).

Usage::

    .venv/bin/python bench/settlement.py                  # full scale (builds it if missing)
    .venv/bin/python bench/settlement.py --scale 0.01
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402

GOAL_ALL_S = 10.0
GOAL_ONE_MS = 50.0


class SqlLog:
    """Every statement the session sends while ``on``: (sql, params, seconds)."""

    def __init__(self, engine) -> None:
        import sqlalchemy as sa

        self.on = False
        self.rows: list[tuple[str, object, float]] = []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.rows.append((statement, parameters,
                              time.perf_counter() - conn.info.pop("bench_t0")))

    def run(self, fn, *args):
        """Call ``fn`` with the log on; returns (result, seconds, statements)."""
        self.rows = []
        self.on = True
        t0 = time.perf_counter()
        try:
            result = fn(*args)
        finally:
            took = time.perf_counter() - t0
            self.on = False
        return result, took, list(self.rows)


def _short(sql: str, width: int = 96) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= width else one[:width - 1] + "…"


def _print_slowest(rows, n: int = 4) -> None:
    for sql, _params, secs in sorted(rows, key=lambda r: -r[2])[:n]:
        print(f"    {secs * 1000:9.1f} ms  {_short(sql)}")


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=5, help="re-drafts per chapter")
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL") or datagen.DEFAULT_URL)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("the settlement bench needs PostgreSQL: pass --database-url postgresql+psycopg://…")
    datagen.ensure_dataset(args.database_url, args.scale, args.seed)
    info = datagen.dataset_info(args.database_url)
    last_day = date.fromisoformat(info["today"])

    with datagen.app_for(args.database_url):
        import sqlalchemy as sa

        from clubplatform import dates
        from clubplatform.extensions import db
        from clubplatform.tenancy import unscoped
        from hq.points.models import SETTLES_AT_CHAPTER
        from hq.settlement import service

        latest = service.previous_month(last_day)          # the latest complete month
        history = service.previous_month(latest)           # the month before it
        latest_end = dates.month_end(latest)
        settles = (f"(({SETTLES_AT_CHAPTER}) OR (kind = 'redeem' AND venue = 'partner'))")
        before = db.session.execute(sa.text(
            "SELECT (SELECT count(*) FROM settlement_lines), "
            "(SELECT count(*) FROM chapter_statements), "
            "(SELECT count(*) FROM partner_statements)")).one()
        entries, effect, chapters, partners = db.session.execute(sa.text(
            f"SELECT count(*), count(*) FILTER (WHERE {settles}), "
            "(SELECT count(*) FROM chapters), (SELECT count(*) FROM partners) "
            "FROM point_entries")).one()
        per_chapter = db.session.execute(sa.text(
            f"SELECT chapter_id, count(*) AS n FROM point_entries WHERE {SETTLES_AT_CHAPTER} "
            "GROUP BY chapter_id ORDER BY n DESC, chapter_id")).all()
        print(f"\nsettlement (data up to {last_day}; cores: {os.cpu_count()})")
        print(f"dataset: {entries:,} point entries, {chapters:,} chapters, {partners:,} partners; "
              f"{effect:,} entries with a settlement effect ({effect - sum(n for _, n in per_chapter):,}"
              f" at partners)")
        largest, largest_n = per_chapter[0]
        median, median_n = per_chapter[len(per_chapter) // 2]

        log = SqlLog(db.engine)
        results: dict[str, tuple[float, float]] = {}
        try:
            with unscoped("bench: HQ drafts every chapter's statement"):
                for label, month in (("first draft", history), ("next month", latest)):
                    (res, took, rows) = log.run(service.draft_month, month)
                    print(f"draft_month {month:%Y-%m} ({label}): {res.chapter_statements:,} chapter "
                          f"+ {res.partner_statements:,} partner statements, {res.lines:,} lines, "
                          f"{took:.2f} s ({len(rows)} statements; slowest:)")
                    _print_slowest(rows)
                    results[label] = took
                month_rows = rows  # the steady-state month's statements, explained below

                one: dict[int, list[float]] = {}
                captured = None
                for cid, n in ((largest, largest_n), (median, median_n)):
                    times, rows = [], []
                    for _ in range(args.repeat):
                        # each run drafts the statement afresh: its lines and its watermark
                        # taken out first (untimed), so that it reads what a first draft of
                        # the month reads (from the previous month's watermark on)
                        db.session.execute(sa.text(
                            "DELETE FROM settlement_lines WHERE chapter_statement_id IN "
                            "(SELECT id FROM chapter_statements WHERE chapter_id = :c AND "
                            "month = :m)"), {"c": cid, "m": latest})
                        db.session.execute(sa.text(
                            "UPDATE chapter_statements SET entries_through = NULL "
                            "WHERE chapter_id = :c AND month = :m"), {"c": cid, "m": latest})
                        st, took, rows = log.run(service.draft_chapter, cid, latest)
                        times.append(took)
                    one[cid] = times
                    print(f"draft_chapter {cid} {latest:%Y-%m} ({'largest' if cid == largest else 'median'}"
                          f" chapter, {n:,} entries settle at it, {st.entry_count:,} in this "
                          f"statement): median {statistics.median(times) * 1000:.1f} ms of "
                          f"{args.repeat} (min {min(times) * 1000:.1f}, max "
                          f"{max(times) * 1000:.1f}); slowest statements of the last:")
                    _print_slowest(rows, 3)
                    if cid == largest:
                        inserts = [(secs, sql, p) for sql, p, secs in rows
                                   if sql.lstrip().upper().startswith(
                                       "INSERT INTO SETTLEMENT_LINES")]
                        # the slowest of the lines' INSERTs (the month's; the other reads
                        # only the entries posted since the previous month's watermark)
                        captured = max(inserts, key=lambda r: r[0])[1:] if inserts else None
                        largest_sid = st.id

                if captured is not None:
                    # explain the lines' INSERT as the draft ran it: after deleting the lines
                    sp = db.session.begin_nested()
                    conn = db.session.connection()
                    conn.execute(sa.text("DELETE FROM settlement_lines "
                                         "WHERE chapter_statement_id = :sid"),
                                 {"sid": largest_sid})
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + captured[0],
                                                captured[1]).scalars().all()
                    sp.rollback()
                    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the one-chapter query (chapter "
                          f"{largest}, {latest:%Y-%m}):")
                    print("  " + " ".join(captured[0].split()))
                    print(f"  params: {captured[1]}")
                    for line in plan:
                        print("  " + line)

                # the month draft's line INSERTs as they ran: after taking the month's lines
                # out again (a draft keeps its lines; this savepoint is rolled back)
                sp = db.session.begin_nested()
                conn = db.session.connection()
                conn.execute(sa.text(
                    "DELETE FROM settlement_lines WHERE chapter_statement_id IN (SELECT id "
                    "FROM chapter_statements WHERE month = :m) OR partner_statement_id IN "
                    "(SELECT id FROM partner_statements WHERE month = :m)"), {"m": latest})
                for sql, params, _secs in month_rows:
                    if sql.lstrip().upper().startswith("INSERT INTO SETTLEMENT_LINES"):
                        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql,
                                                    params).scalars().all()
                        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of draft_month {latest:%Y-%m}: "
                              f"{_short(sql, 80)}")
                        for line in plan:
                            print("  " + line)
                sp.rollback()

                print("\ninvariants:")
                ok_all = True
                for month in (history, latest):
                    tot = service.month_totals(month)
                    mism = service.month_mismatches(month)
                    ok = (not mism and tot["statements_hq_owes_fen"] == tot["entries_hq_owes_fen"]
                          and tot["statements_dealer_owes_fen"] == tot["entries_dealer_owes_fen"]
                          and tot["statements_entries"] == tot["entries"])
                    ok_all &= ok
                    print(f"  {month:%Y-%m}: statements HQ owes {tot['statements_hq_owes_fen']:,} fen, "
                          f"dealers owe {tot['statements_dealer_owes_fen']:,} fen over "
                          f"{tot['statements_entries']:,} entries; the entries: "
                          f"{tot['entries_hq_owes_fen']:,} / {tot['entries_dealer_owes_fen']:,} fen "
                          f"over {tot['entries']:,}; mismatches {len(mism)} -> {_verdict(ok)}")
                    for m in mism[:5]:
                        print(f"    {m}")
                twice = service.entries_settled_twice()
                unsettled = db.session.execute(sa.text(
                    f"SELECT count(*) FROM point_entries e WHERE {settles} "
                    "AND e.business_date <= :last AND NOT EXISTS "
                    "(SELECT 1 FROM settlement_lines l WHERE l.entry_id = e.id)"),
                    {"last": latest_end}).scalar()
                print(f"  entries in two statements: {twice} -> {_verdict(twice == 0)}")
                print(f"  entries with a settlement effect up to {latest_end} left unsettled: "
                      f"{unsettled:,} -> {_verdict(unsettled == 0)}")
                ok_all &= twice == 0 and unsettled == 0
        finally:
            db.session.rollback()

        print("\ngoals:")
        print(f"  all chapters, one month ({latest:%Y-%m}): {results['next month']:.2f} s "
              f"(goal ≤ {GOAL_ALL_S:.0f} s) -> {_verdict(results['next month'] <= GOAL_ALL_S)}")
        print(f"  (the backlog up to {history:%Y-%m}, every month since the dataset's start "
              f"drafted at once: {results['first draft']:.2f} s; no goal — in service the "
              "monthly job drafts each month as it ends)")
        for cid, times in one.items():
            med = statistics.median(times) * 1000
            print(f"  one chapter ({cid}, {'largest' if cid == largest else 'median'}): "
                  f"{med:.1f} ms (goal ≤ {GOAL_ONE_MS:.0f} ms) -> {_verdict(med <= GOAL_ONE_MS)}")
        print(f"  invariants -> {_verdict(ok_all)}")
        after = db.session.execute(sa.text(
            "SELECT (SELECT count(*) FROM settlement_lines), "
            "(SELECT count(*) FROM chapter_statements), "
            "(SELECT count(*) FROM partner_statements)")).one()
        print(f"rolled back: {after[0]:,} lines, {after[1]:,} chapter and {after[2]:,} partner "
              f"statements, as before ({_verdict(tuple(after) == tuple(before))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
