"""Read replica: with DATABASE_REPLICA_URL, reports read a real PostgreSQL streaming replica.

The fixture builds its own two small clusters in a temporary folder (never a copy of the
shared server, which holds every other database): a primary (initdb, wal_level=replica) and
a hot standby made from it with ``pg_basebackup -R`` on a second port. Both are stopped and
deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from clubplatform import config
from clubplatform.app import create_app
from clubplatform.db import read_replica
from clubplatform.extensions import db

pytestmark = pytest.mark.postgres


def _pg_bin() -> Path:
    root = Path("/usr/lib/postgresql")
    versions = sorted((p for p in root.iterdir() if (p / "bin" / "pg_ctl").exists()),
                      key=lambda p: int(p.name)) if root.exists() else []
    if not versions:
        pytest.fail("PostgreSQL server binaries (pg_ctl, initdb) are not installed")
    return versions[-1] / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Run PostgreSQL's tools as the postgres user when we are root (initdb refuses root)."""

    def __init__(self, folder: Path) -> None:
        self.bin = _pg_bin()
        self.folder = folder
        self.as_root = os.geteuid() == 0

    def run(self, tool: str, *args: str, timeout: int = 120) -> str:
        cmd = [str(self.bin / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, data: Path, port: int) -> None:
        self.run("pg_ctl", "-D", str(data), "-l", str(data.parent / f"{data.name}.log"),
                 "-o", f"-p {port} -c listen_addresses=127.0.0.1 "
                 f"-c unix_socket_directories={self.folder}", "-w", "-t", "60", "start")

    def stop(self, data: Path) -> None:
        if (data / "postmaster.pid").exists():
            try:
                self.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", timeout=60)
            except RuntimeError:
                pass


@pytest.fixture(scope="module")
def replica_urls():
    folder = Path(tempfile.mkdtemp(prefix="clubplatform-replica-"))
    cluster = Cluster(folder)
    if cluster.as_root:
        shutil.chown(folder, "postgres", "postgres")
    primary, standby = folder / "primary", folder / "standby"
    p1, p2 = _free_port(), _free_port()
    try:
        cluster.run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\n"
                       "full_page_writes = off\n"
                       "shared_buffers = 16MB\nmax_connections = 30\n")
        cluster.start(primary, p1)
        cluster.run("createdb", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres",
                    "clubplatform_test_replica")
        cluster.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres",
                    "-D", str(standby), "-R", "-X", "stream", "-c", "fast", "--no-sync")
        cluster.start(standby, p2)
        url = "postgresql+psycopg://postgres@127.0.0.1:{}/clubplatform_test_replica"
        yield url.format(p1), url.format(p2)
    finally:
        cluster.stop(standby)
        cluster.stop(primary)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def replica_app(replica_urls):
    primary_url, standby_url = replica_urls
    application = create_app(config.TestConfig(database_url=primary_url, replica_url=standby_url))
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def _wait_for_replay() -> None:
    """Until the standby has replayed everything the primary wrote so far."""
    with db.engines[None].connect() as p:
        target = p.execute(sa.text("SELECT pg_current_wal_insert_lsn()")).scalar()
    deadline = time.monotonic() + 60
    with db.engines["replica"].connect() as r:
        while time.monotonic() < deadline:
            behind = r.execute(sa.text("SELECT pg_wal_lsn_diff(:t, pg_last_wal_replay_lsn())"),
                               {"t": target}).scalar()
            if behind <= 0:
                return
            time.sleep(0.1)
    raise AssertionError("the standby did not catch up within 60 s")


def _set_replay(paused: bool) -> None:
    with db.engines["replica"].connect() as r:
        r.execute(sa.text("SELECT pg_wal_replay_pause()" if paused
                          else "SELECT pg_wal_replay_resume()"))


@pytest.fixture
def ctx(replica_app):
    with replica_app.app_context():
        yield
        db.session.remove()


@pytest.fixture(scope="module")
def ledger_data(replica_app):
    from tests.factories import make_chapter, make_member
    from tests.hq.points.factories import award

    with replica_app.app_context():
        a, b = make_chapter(), make_chapter()
        ma, mb = make_member(a), make_member(b)
        award(ma.id, a.id, 300, on=date(2026, 3, 5))
        award(ma.id, a.id, 200, on=date(2026, 3, 20))
        award(mb.id, b.id, 50, on=date(2026, 3, 9))
        out = {"a": a.id, "b": b.id, "ma": ma.id}
        db.session.remove()
    return out


def test_the_standby_is_a_read_only_streaming_replica(ctx, ledger_data):
    with db.engines["replica"].connect() as r:
        assert r.execute(sa.text("SELECT pg_is_in_recovery()")).scalar() is True
    with db.engines[None].connect() as p:
        assert p.execute(sa.text("SELECT pg_is_in_recovery()")).scalar() is False


def test_reads_inside_read_replica_go_to_the_replica_and_writes_to_the_primary(ctx):
    from hq.points.models import PointEntry

    table = PointEntry.__table__
    with read_replica():
        assert db.session.get_bind(clause=sa.select(table)) is db.engines["replica"]
        assert db.session.get_bind(clause=sa.insert(table)) is db.engines[None]
        assert db.session.get_bind(clause=sa.update(table)) is db.engines[None]
    assert db.session.get_bind(clause=sa.select(table)) is db.engines[None]


def test_a_write_goes_to_the_primary_and_reaches_the_replica_by_streaming(ctx, ledger_data):
    from tests.hq.points.factories import award

    entry_id = award(ledger_data["ma"], ledger_data["a"], 7, on=date(2026, 4, 1),
                     key="replica-write-1").id
    sql = sa.text("SELECT points FROM point_entries WHERE id = :i")
    with db.engines[None].connect() as p:
        assert p.execute(sql, {"i": entry_id}).scalar() == 7
    _wait_for_replay()
    with db.engines["replica"].connect() as r:
        assert r.execute(sql, {"i": entry_id}).scalar() == 7


def test_the_replica_refuses_a_write(ctx, ledger_data):
    with db.engines["replica"].connect() as r, pytest.raises(sa.exc.InternalError,
                                                              match="read-only"):
        r.execute(sa.text("UPDATE point_entries SET points = points + 1"))


def test_the_points_report_reads_the_replica(ctx, ledger_data):
    from hq.settlement.reports import points_report
    from tests.hq.points.factories import award

    _wait_for_replay()
    _set_replay(paused=True)
    try:
        award(ledger_data["ma"], ledger_data["a"], 1000, on=date(2026, 3, 25),
              key="replica-unseen")
        on_replica = points_report(date(2026, 3, 1), group="nation")
        on_primary = points_report.__wrapped__(date(2026, 3, 1), group="nation")
    finally:
        _set_replay(paused=False)

    assert on_replica.total.issued == 550          # the standby has not replayed the new entry
    assert on_primary.total.issued == 1550


def test_the_points_report_on_the_replica_is_correct(ctx, ledger_data):
    from hq.settlement.reports import points_report

    _wait_for_replay()

    rep = points_report(date(2026, 3, 1), group="chapter")
    direct = points_report.__wrapped__(date(2026, 3, 1), group="chapter")

    by_chapter = {r.key: r.issued for r in rep.rows}
    assert by_chapter[ledger_data["b"]] == 50
    assert by_chapter[ledger_data["a"]] == direct.rows[[r.key for r in direct.rows]
                                                       .index(ledger_data["a"])].issued
    assert [(r.key, r.issued, r.outstanding, r.outstanding_fen) for r in rep.rows] == \
           [(r.key, r.issued, r.outstanding, r.outstanding_fen) for r in direct.rows]
