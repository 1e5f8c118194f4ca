"""``flask ops``: backups and restores around ``pg_dump`` / ``pg_restore``.

- ``flask ops backup [PATH]`` writes a custom-format dump of ``DATABASE_URL`` (PostgreSQL:
  ``pg_dump -Fc``, consistent snapshot while the app runs; SQLite: the online backup API)
  to ``PATH``, by default ``instance/backups/clubplatform-<UTC time>.dump``.
- ``flask ops restore PATH --yes`` replaces the whole database with the dump: it drops the
  schema, then restores in one transaction (``pg_restore --single-transaction``). Stop the
  app servers and workers first; if the restore fails the database is left empty and the
  dump is untouched, so run it again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

ops_cli = AppGroup("ops", help="Operations: backup and restore.")


def _libpq(url: sa.engine.URL) -> tuple[list[str], dict]:
    """Connection options for the PostgreSQL client tools, the password in the environment."""
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    host = url.query.get("host")  # ...?host=/var/run/postgresql (Unix socket)
    if host and not url.host:
        args += ["-h", host if isinstance(host, str) else host[0]]
    return args, env


def _tool(name: str) -> str:
    """The client tool matching the newest server binaries, else the one on PATH."""
    root = Path("/usr/lib/postgresql")
    if root.exists():
        for ver in sorted((p.name for p in root.iterdir() if p.name.isdigit()), key=int,
                          reverse=True):
            candidate = root / ver / "bin" / name
            if candidate.exists():
                return str(candidate)
    found = shutil.which(name)
    if not found:
        raise click.ClickException(f"{name} is not installed (apt-get install postgresql-client)")
    return found


def _url() -> sa.engine.URL:
    return sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def backup(path: Path) -> Path:
    """Write a dump of the app's database to ``path`` and return it."""
    url = _url()
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as src, sqlite3.connect(path) as dst:
            src.backup(dst)
        return path
    args, env = _libpq(url)
    cmd = [_tool("pg_dump"), *args, "-Fc", "--no-owner", "--no-privileges", "-f", str(path),
           url.database]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"pg_dump failed: {done.stderr.strip()}")
    return path


def restore(path: Path) -> None:
    """Replace the app's database with the dump at ``path``."""
    from clubplatform.extensions import db

    url = _url()
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold a lock on what is dropped
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(path) as src, sqlite3.connect(url.database) as dst:
            src.backup(dst)
        return
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    db.engine.dispose()
    args, env = _libpq(url)
    cmd = [_tool("pg_restore"), *args, "--no-owner", "--no-privileges", "--exit-on-error",
           "--single-transaction", "-d", url.database, str(path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"pg_restore failed: {done.stderr.strip()}")


@ops_cli.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path | None) -> None:
    """Dump the database (pg_dump custom format) to PATH (default: instance/backups/)."""
    if path is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = Path(current_app.instance_path) / "backups" / f"clubplatform-{stamp}.dump"
    out = backup(path)
    click.echo(f"backup written: {out} ({out.stat().st_size} bytes)")


@ops_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: replace the database.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the WHOLE database with the dump at PATH (stop app and workers first)."""
    if not yes:
        click.confirm(f"Replace database {_url().database} with {path}?", abort=True)
    restore(path)
    click.echo(f"restored {path} into {_url().database}")
