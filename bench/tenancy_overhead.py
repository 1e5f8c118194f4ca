"""What does automatic tenant scoping cost per query?

Compares the same ORM query run (a) inside ``chapter_scope(cid)`` with no explicit filter
(the ``do_orm_execute`` + ``with_loader_criteria`` listener adds ``chapter_id = cid``) and
(b) inside ``unscoped("bench")`` with a hand-written ``.where(chapter_id == cid)``.

The foundation has no chapter-owned business table yet, so the bench defines its own
tenant-scoped table (``bench_owners``, on a separate metadata), fills it, and drops it at
the end. Database: ``DATABASE_URL`` if set, else PostgreSQL ``clubplatform_bench`` on
127.0.0.1 as user postgres (created if missing, schema built by the Alembic revisions).
Prints figures; asserts nothing. Goal: ratio scoped/hand-written <= 1.05.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "clubplatform_bench"
DEFAULT_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"

CHAPTERS = int(os.environ.get("BENCH_CHAPTERS", "200"))
ROWS_PER_CHAPTER = int(os.environ.get("BENCH_ROWS_PER_CHAPTER", "2000"))
QUERIES = int(os.environ.get("BENCH_QUERIES", "2000"))  # per variant and per query shape
ROUNDS = 20
WARMUP = 100

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文博宇浩然子涵欣怡梓轩思远"
CITIES = ("北京市", "上海市", "成都市", "济南市", "广州市", "杭州市")


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if url == DEFAULT_URL:
        ensure_database(BENCH_DB)
    return url


def ensure_database(name: str) -> None:
    """Create the bench database on 127.0.0.1 (user postgres, no password) if missing."""
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
            print(f"created database {name}")
    except psycopg.OperationalError as exc:
        sys.exit(f"cannot reach PostgreSQL on 127.0.0.1:5432 as postgres ({exc}); "
                 "set DATABASE_URL to a database to use")


def main() -> int:
    url = database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("INSTANCE_DIR", tempfile.mkdtemp(prefix="clubplatform-bench-"))

    from flask_migrate import upgrade

    from clubplatform.app import create_app
    from clubplatform.config import Config
    from clubplatform.extensions import db
    from clubplatform.org.models import Chapter, Dealer, Region
    from clubplatform.tenancy import TenantScoped, chapter_scope, unscoped

    class BenchBase(DeclarativeBase):
        metadata = sa.MetaData()

    # a stub of the org table, only so that the foreign key resolves; never created here
    sa.Table("chapters", BenchBase.metadata, sa.Column("id", sa.Integer, primary_key=True))

    class BenchOwner(TenantScoped, BenchBase):
        """A chapter-owned row shaped like a car owner (bench only)."""

        __tablename__ = "bench_owners"
        __table_args__ = (sa.Index("ix_bench_owners_chapter_id_name", "chapter_id", "name"),)

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(64))
        phone: Mapped[str] = mapped_column(sa.String(20))
        city: Mapped[str] = mapped_column(sa.String(32))

    app = create_app(Config())
    with app.app_context():
        engine = db.engine
        dialect = engine.dialect.name
        print(f"database: {engine.url.render_as_string(hide_password=True)} ({dialect})")
        upgrade()
        chapter_ids = ensure_chapters(db, Region, Dealer, Chapter, CHAPTERS)
        table = BenchOwner.__table__
        table.drop(engine, checkfirst=True)
        BenchBase.metadata.create_all(engine, tables=[table])
        try:
            t0 = time.perf_counter()
            load_rows(engine, table, chapter_ids, ROWS_PER_CHAPTER)
            with engine.begin() as conn:
                conn.execute(sa.text("ANALYZE bench_owners"))
                total = conn.execute(sa.text("SELECT count(*) FROM bench_owners")).scalar_one()
                zhang = conn.execute(sa.text(
                    "SELECT count(*) FROM bench_owners WHERE name LIKE '张%'")).scalar_one()
            print(f"dataset: {len(chapter_ids)} chapters x {ROWS_PER_CHAPTER} rows = {total:,} "
                  f"rows ({zhang:,} named 张…), loaded + analyzed in {time.perf_counter() - t0:.1f}s")

            shapes = {
                "list": (
                    lambda: sa.select(BenchOwner).where(BenchOwner.name.like("张%"))
                    .order_by(BenchOwner.id).limit(20),
                    lambda cid: sa.select(BenchOwner).where(BenchOwner.name.like("张%"))
                    .where(BenchOwner.chapter_id == cid).order_by(BenchOwner.id).limit(20),
                    lambda s, stmt: s.execute(stmt).scalars().all(),
                ),
                "count": (
                    lambda: sa.select(sa.func.count()).select_from(BenchOwner),
                    lambda cid: sa.select(sa.func.count()).select_from(BenchOwner)
                    .where(BenchOwner.chapter_id == cid),
                    lambda s, stmt: s.execute(stmt).scalar_one(),
                ),
            }
            check_same_sql(db, engine, shapes, chapter_ids[0], chapter_scope, unscoped)
            rng = random.Random(7)
            cids = [rng.choice(chapter_ids) for _ in range(QUERIES)]
            print(f"timing {QUERIES} queries per variant and shape, {ROUNDS} alternating rounds")
            for shape, (scoped_stmt, manual_stmt, run) in shapes.items():
                report(shape, *time_variants(db, cids, scoped_stmt, manual_stmt, run,
                                             chapter_scope, unscoped))
        finally:
            db.session.remove()
            table.drop(engine, checkfirst=True)
            print("dropped bench_owners")
        engine.dispose()
    return 0


def ensure_chapters(db, Region, Dealer, Chapter, n: int) -> list[int]:  # noqa: N803
    """Get or create ``n`` bench chapters (region BN, dealers BENCH-0001…)."""
    region = db.session.execute(sa.select(Region).filter_by(code="BN")).scalar_one_or_none()
    if region is None:
        region = Region(code="BN", name_zh="压测区", name_en="Bench")
        db.session.add(region)
        db.session.flush()
    existing = {d.code: d for d in db.session.execute(
        sa.select(Dealer).where(Dealer.code.like("BENCH-%"))).scalars()}
    for i in range(1, n + 1):
        code = f"BENCH-{i:04d}"
        dealer = existing.get(code)
        if dealer is None:
            dealer = Dealer(code=code, name=f"压测经销商{i}", region_id=region.id,
                            city=CITIES[i % len(CITIES)], full_after_sales_since=date(2020, 1, 1))
            db.session.add(dealer)
            db.session.flush()
            db.session.add(Chapter(dealer_id=dealer.id, name=f"压测车友会{i}",
                                   founded_on=date(2022, 1, 1)))
    db.session.commit()
    ids = db.session.execute(
        sa.select(Chapter.id).join(Dealer).where(Dealer.code.like("BENCH-%"))
        .order_by(Chapter.id).limit(n)).scalars().all()
    db.session.remove()
    return list(ids)


def fake_rows(chapter_ids: list[int], per_chapter: int):
    rng = random.Random(20261124)
    for cid in chapter_ids:
        for _ in range(per_chapter):
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
            yield cid, name, phone, rng.choice(CITIES)


def load_rows(engine, table, chapter_ids: list[int], per_chapter: int) -> None:
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy("COPY bench_owners (chapter_id, name, phone, city) FROM STDIN") as cp:
                for row in fake_rows(chapter_ids, per_chapter):
                    cp.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    batch: list[dict] = []
    with engine.begin() as conn:
        for cid, name, phone, city in fake_rows(chapter_ids, per_chapter):
            batch.append({"chapter_id": cid, "name": name, "phone": phone, "city": city})
            if len(batch) >= 10_000:
                conn.execute(table.insert(), batch)
                batch.clear()
        if batch:
            conn.execute(table.insert(), batch)


def check_same_sql(db, engine, shapes, cid, chapter_scope, unscoped) -> None:
    """Print whether both variants send the same SQL, up to bind parameter names."""
    seen: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        text = re.sub(r"%\(\w+\)s|:\w+", "?", " ".join(statement.split()))
        seen.append(text)

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for shape, (scoped_stmt, manual_stmt, run) in shapes.items():
            seen.clear()
            with chapter_scope(cid):
                run(db.session, scoped_stmt())
            with unscoped("bench"):
                run(db.session, manual_stmt(cid))
            same = len(seen) == 2 and seen[0] == seen[1]
            print(f"  {shape}: same SQL for both variants: {'yes' if same else 'NO'}")
            if not same:
                for s in seen:
                    print(f"    {s}")
            db.session.rollback()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)


def time_variants(db, cids, scoped_stmt, manual_stmt, run, chapter_scope, unscoped):
    session = db.session

    def one_scoped(cid: int) -> float:
        with chapter_scope(cid):
            t0 = time.perf_counter()
            run(session, scoped_stmt())
            return time.perf_counter() - t0

    def one_manual(cid: int) -> float:
        with unscoped("bench"):
            t0 = time.perf_counter()
            run(session, manual_stmt(cid))
            return time.perf_counter() - t0

    for cid in cids[:WARMUP]:
        one_scoped(cid)
        one_manual(cid)
        session.expunge_all()
    scoped: list[float] = []
    manual: list[float] = []
    per_round = max(1, len(cids) // ROUNDS)
    for r in range(ROUNDS):
        chunk = cids[r * per_round:(r + 1) * per_round]
        order = ((one_scoped, scoped), (one_manual, manual))
        if r % 2:
            order = order[::-1]
        for fn, out in order:
            for cid in chunk:
                out.append(fn(cid))
                session.expunge_all()
        session.rollback()
    return scoped, manual


def report(shape: str, scoped: list[float], manual: list[float]) -> None:
    def stats(xs: list[float]) -> tuple[float, float, float]:
        qs = statistics.quantiles(xs, n=100)
        return statistics.fmean(xs) * 1e3, qs[49] * 1e3, qs[94] * 1e3

    sm, s50, s95 = stats(scoped)
    mm, m50, m95 = stats(manual)
    print(f"[{shape}] n={len(scoped)} per variant")
    print(f"  scoped (chapter_scope, automatic filter): mean {sm:.3f} ms  p50 {s50:.3f} ms  "
          f"p95 {s95:.3f} ms")
    print(f"  hand-written (unscoped + .where):         mean {mm:.3f} ms  p50 {m50:.3f} ms  "
          f"p95 {m95:.3f} ms")
    print(f"  difference: {(sm - mm) * 1e3:+.0f} µs per query on the mean, "
          f"{(s50 - m50) * 1e3:+.0f} µs on the median")
    verdict = "within" if sm / mm <= 1.05 else "ABOVE"
    print(f"  ratio scoped/hand-written: mean {sm / mm:.3f}  p50 {s50 / m50:.3f}  "
          f"p95 {s95 / m95:.3f}  ({verdict} the 1.05 goal on the mean)")


if __name__ == "__main__":
    sys.exit(main())
