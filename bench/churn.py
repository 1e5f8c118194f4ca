"""The churn matrix and RFM over the national dataset: one chapter, and every chapter.

On the dataset (``bench/datagen.py``, built at ``--scale`` if the database does not hold
it), the real service ``chapter.churn.service`` computes, as of the dataset's last day:

- for the chapter with the most owners with visits, and for the median chapter: the 3×3
  loyalty × value matrix (``chapter_matrix``) and the first page of the owners with
  their RFM scores (``owners_query`` + ``owners_page``: every owner is scored, sorted by
  spend, one page read), ``--repeat`` times each, median time;
- the matrices of every chapter summed per region and for the nation, live
  (``hq_matrices(group="region")``), once;
- the month-end snapshot job for every chapter (``write_snapshot``, in one transaction
  that is rolled back) and HQ's reads of them (nation by region, one region's chapters);
- the ``EXPLAIN (ANALYZE, BUFFERS)`` of the largest chapter's matrix statement.

Prints the dataset's size, the figures (the largest chapter's matrix and RFM spread,
the nation's matrix), the times and the goals with PASS/FAIL (one chapter's matrix and
RFM ≤ 200 ms each). Nothing is kept: the snapshots are rolled back.

Usage::

    .venv/bin/python bench/churn.py                  # full scale (builds it if missing)
    .venv/bin/python bench/churn.py --scale 0.01
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

GOAL_ONE_MS = 200.0

#: the indexes the churn statements read (migrations 0008_churn, 0012_person_keys); on a dataset built
#: before them, create them by hand (``psql -c "<statement>"``, about 10 s each)
CHURN_INDEXES = {
    "ix_service_visits_churn": "CREATE INDEX ix_service_visits_churn ON service_visits "
                               "(chapter_id, owner_id, visit_date, amount_fen)",
    "ix_owners_person_mobile": "CREATE INDEX ix_owners_person_mobile ON owners "
                               "(mobile COLLATE \"C\", chapter_id, id)",
    "ix_owners_person_id_digest": "CREATE INDEX ix_owners_person_id_digest ON owners "
                                  "(id_number_digest COLLATE \"C\", chapter_id, id)",
}


def _timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return result, statistics.median(times)


def _print_matrix(m) -> None:
    from chapter.churn.service import LOYALTIES, VALUES

    print(f"    {'':4}" + "".join(f"{v:>10}" for v in VALUES) + f"{'total':>10}")
    for a in LOYALTIES:
        print(f"    {a:4}" + "".join(f"{m.cell(a, v).owners:>10,}" for v in VALUES)
              + f"{m.loyalty_total(a):>10,}")
    print(f"    {'all':4}" + "".join(f"{m.value_total(v):>10,}" for v in VALUES)
          + f"{m.total:>10,}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=5, help="runs per chapter figure")
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL") or datagen.DEFAULT_URL)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("the churn bench needs PostgreSQL: pass --database-url postgresql+psycopg://…")
    datagen.ensure_dataset(args.database_url, args.scale, args.seed)
    info = datagen.dataset_info(args.database_url)
    as_of = date.fromisoformat(info["today"])

    with datagen.app_for(args.database_url):
        import sqlalchemy as sa

        from chapter.churn import service
        from clubplatform.extensions import db
        from clubplatform.tenancy import chapter_scope, unscoped

        owners, visits, chapters = db.session.execute(sa.text(
            "SELECT (SELECT count(*) FROM owners), (SELECT count(*) FROM service_visits), "
            "(SELECT count(*) FROM chapters)")).one()
        per_chapter = db.session.execute(sa.text(
            "SELECT chapter_id, count(DISTINCT owner_id) AS n FROM service_visits "
            "WHERE visit_date <= :d GROUP BY chapter_id ORDER BY n DESC, chapter_id"),
            {"d": as_of}).all()
        print(f"\nchurn (as of {as_of}; cores: {os.cpu_count()})")
        print(f"dataset: {owners:,} owners, {visits:,} service visits, {chapters:,} chapters; "
              f"owners with visits per chapter: max {per_chapter[0][1]:,}, "
              f"median {per_chapter[len(per_chapter) // 2][1]:,}")
        settings = service.get_settings()
        print(f"settings: {settings}")
        # the churn indexes of migration 0008 (a dataset built before them lacks them:
        # they were created by hand on clubplatform_bench, with the statements printed)
        present = set(db.session.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).scalars())
        for name, ddl in CHURN_INDEXES.items():
            print(f"index {name}: {'present' if name in present else 'MISSING, create it: ' + ddl}")

        results = {}
        for label, (chapter_id, n) in (("largest", per_chapter[0]),
                                       ("median", per_chapter[len(per_chapter) // 2])):
            with chapter_scope(chapter_id):
                matrix, t_matrix = _timed(
                    lambda cid=chapter_id: service.chapter_matrix(cid, as_of, settings),
                    args.repeat)
                page, t_rfm = _timed(lambda cid=chapter_id: service.owners_page(
                    cid, service.owners_query(cid, as_of, settings=settings), 1, 50),
                    args.repeat)
                rfm, t_spread = _timed(
                    lambda cid=chapter_id: service.rfm_distribution(cid, as_of, settings), 1)
                trend, t_trend = _timed(
                    lambda cid=chapter_id: service.churn_trend(cid, as_of.replace(day=1), 12,
                                                               settings), 1)
            db.session.rollback()
            results[label] = (t_matrix, t_rfm)
            print(f"\n{label} chapter {chapter_id} ({n:,} owners with visits):")
            _print_matrix(matrix)
            print(f"  RFM spread (score 1..5): R {list(rfm['r'].values())}, "
                  f"F {list(rfm['f'].values())}, M {list(rfm['m'].values())}")
            print("  lost share by month: "
                  + ", ".join(f"{p.month:%Y-%m} {p.lost_share}%" for p in trend[-6:]))
            print(f"  matrix {t_matrix:.1f} ms, RFM page (all scored, 50 read, {page.total:,} "
                  f"owners) {t_rfm:.1f} ms (median of {args.repeat}); RFM spread "
                  f"{t_spread:.1f} ms; 12-month trend {t_trend:.1f} ms")

        with unscoped("bench: HQ churn matrices"):
            (regions, nation), t_all = _timed(
                lambda: service.hq_matrices(as_of, group="region", settings=settings), 1)
        print(f"\nall chapters live ({len(regions)} regions, nation {nation.total:,} owners): "
              f"{t_all / 1000:.2f} s")
        _print_matrix(nation)
        db.session.rollback()

        # the monthly job for every chapter (one transaction, rolled back), then HQ's reads
        month = service.last_complete_month(as_of)
        ids = [cid for cid, _ in per_chapter]
        from chapter.churn.models import ChurnSnapshot

        if not sa.inspect(db.session.connection()).has_table("churn_snapshots"):
            # a dataset built before the table existed: create it in this transaction
            # (PostgreSQL DDL is transactional, so the rollback below removes it again)
            print("\n(churn_snapshots is missing in this dataset: created for this run only)")
            ChurnSnapshot.__table__.create(db.session.connection())
        t0 = time.perf_counter()
        for cid in ids:
            with chapter_scope(cid):
                service.write_snapshot(cid, month)
        t_job = time.perf_counter() - t0
        with unscoped("bench: HQ churn snapshots"):
            (snap_regions, snap_nation, kept), t_read = _timed(
                lambda: service.hq_snapshot_matrices(month, group="region"), args.repeat)
            region = snap_regions[0].key
            (snap_chapters, _, _), t_region = _timed(
                lambda: service.hq_snapshot_matrices(month, region_id=region), args.repeat)
        db.session.rollback()
        print(f"\nmonth-end snapshots of {month:%Y-%m}: {kept} chapters written in "
              f"{t_job:.1f} s ({t_job / len(ids) * 1000:.0f} ms per chapter; rolled back); "
              f"HQ reads the nation by region in {t_read:.1f} ms, region {region}'s "
              f"{len(snap_chapters)} chapters in {t_region:.1f} ms (median of {args.repeat})")
        _print_matrix(snap_nation)

        largest = per_chapter[0][0]
        c = service.classified(as_of, settings, chapter_id=largest)
        stmt = (sa.select(c.c.loyalty, c.c.value, sa.func.count())
                .group_by(c.c.loyalty, c.c.value))
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        service.no_jit()  # as the service runs it
        plan = db.session.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars()
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of chapter {largest}'s matrix:")
        for line in plan:
            print("  " + line)
        db.session.rollback()

        print("\ngoals:")
        ok = True
        for label, (t_matrix, t_rfm) in results.items():
            for what, t in (("matrix", t_matrix), ("RFM", t_rfm)):
                passed = t <= GOAL_ONE_MS
                ok &= passed
                print(f"  {label} chapter {what} {t:.1f} ms <= {GOAL_ONE_MS:.0f} ms: "
                      f"{'PASS' if passed else 'FAIL'}")
        print(f"  all chapters live: {t_all / 1000:.2f} s (no goal; HQ reads snapshots: "
              f"{t_read:.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
