"""The monthly points expiry over the national dataset, run twice; nothing is kept.

On the dataset (``bench/datagen.py``, built at ``--scale`` if the database does not hold
it), the real service ``hq.points.expiry.expire_month(on)`` runs for the last month end of
the data (the month before the data's last day: its expiry is the one the dataset leaves
to the job; every earlier month end is expired already), which is well over 24 months
after the first points were earned. Prints the entries the job reads (the ledger), the
entries it wrote, the points it took off balances and the time, then checks the result
(each written entry is the FIFO amount the ledger said was due; every balance is still
the sum of its entries and not negative), then runs it a second time for the same month
end, which must write nothing.

Both runs happen in one transaction that is rolled back at the end, so the dataset stays
as ``datagen --reuse`` expects it (only the id sequence of ``point_entries`` moves on).
The job itself commits after each member range; here the whole run is one transaction.

Usage::

    .venv/bin/python bench/expiry.py                  # full scale (builds it if missing)
    .venv/bin/python bench/expiry.py --scale 0.01
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=datagen.DEFAULT_SEED)
    parser.add_argument("--database-url",
                        default=os.environ.get("DATABASE_URL") or datagen.DEFAULT_URL)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        sys.exit("the expiry bench needs PostgreSQL: pass --database-url postgresql+psycopg://…")
    datagen.ensure_dataset(args.database_url, args.scale, args.seed)
    info = datagen.dataset_info(args.database_url)
    last_day = date.fromisoformat(info["today"])

    with datagen.app_for(args.database_url):
        import sqlalchemy as sa

        from clubplatform.extensions import db
        from hq.points import expiry, ledger

        on = expiry.last_month_end(last_day)
        first_earn, entries, members = db.session.execute(sa.text(
            "SELECT min(business_date) FILTER (WHERE kind = 'earn'), count(*), "
            "count(DISTINCT member_id) FROM point_entries")).one()
        print(f"\nexpiry for the month end {on} (data up to {last_day}; first points earned "
              f"{first_earn}, {(on.year - first_earn.year) * 12 + on.month - first_earn.month} "
              "months before)")
        print(f"ledger: {entries:,} entries of {members:,} members; cores: {os.cpu_count()}")
        amt = ledger.expiring_amount_sql(on).subquery()
        due_members, due_points = db.session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(amt.c.amount), 0))).one()
        try:
            t0 = time.perf_counter()
            first = expiry.expire_month(on)
            db.session.flush()
            took = time.perf_counter() - t0
            print(f"first run:  scanned {entries:,} entries, wrote {first.entries:,} entries, "
                  f"expired {first.points:,} points, {took:.1f} s")
            ok = first.entries == due_members and first.points == int(due_points)
            print(f"  due before the run (expiring_amount_sql): {due_members:,} members, "
                  f"{int(due_points):,} points -> {'PASS' if ok else 'FAIL'}")
            bad = db.session.execute(sa.text(
                "SELECT count(*) FROM members m LEFT JOIN (SELECT member_id, sum(points) AS s "
                "FROM point_entries GROUP BY member_id) e ON e.member_id = m.id "
                "WHERE m.points_balance <> coalesce(e.s, 0) OR m.points_balance < 0")).scalar()
            print(f"  balances that are not the sum of their entries, or negative: {bad} -> "
                  f"{'PASS' if bad == 0 else 'FAIL'}")
            t0 = time.perf_counter()
            second = expiry.expire_month(on)
            db.session.flush()
            took2 = time.perf_counter() - t0
            print(f"second run: wrote {second.entries:,} entries, expired {second.points:,} "
                  f"points, {took2:.1f} s -> {'PASS' if second.entries == 0 else 'FAIL'} "
                  "(nothing to write)")
        finally:
            db.session.rollback()
        left = db.session.execute(sa.text("SELECT count(*) FROM point_entries")).scalar()
        print(f"rolled back: {left:,} entries, as before "
              f"({'PASS' if left == entries else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
