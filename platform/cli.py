"""``flask`` commands: ``hq``, ``jobs``, ``demo``, ``org``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

hq_cli = AppGroup("hq", help="HQ administration.")
jobs_cli = AppGroup("jobs", help="Background jobs: worker and manual runs.")
demo_cli = AppGroup("demo", help="Demo data.")
org_cli = AppGroup("org", help="Organisation: regions, dealers, chapters.")


@hq_cli.command("create-admin")
@click.argument("username")
@click.option("--name", "display_name", default=None, help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--analyst", is_flag=True, help="Create a read-only HQ analyst instead.")
def create_admin(username: str, display_name: str | None, password: str, analyst: bool) -> None:
    """Create an HQ administrator (or analyst) account."""
    from clubplatform.auth import service
    from clubplatform.errors import DomainError
    from clubplatform.extensions import db

    try:
        user = service.create_user(username=username, display_name=display_name or username,
                                   password=password, role="hq_analyst" if analyst else "hq_admin")
        db.session.commit()
    except DomainError as exc:
        raise click.ClickException(f"{exc.message} {exc.field_messages()}") from exc
    click.echo(f"created {user.role} {user.username}")


@hq_cli.command("rotate-field-key")
@click.option("--batch", default=1000, show_default=True, help="Rows per committed batch.")
def rotate_field_key(batch: int) -> None:
    """Re-seal personal fields with the first key of FIELD_ENCRYPTION_KEY.

    Put the new key first (``new:secret,old:secret``), deploy, run this, then remove the
    old key. Safe to stop and run again.
    """
    from clubplatform import crypto
    from clubplatform.extensions import db

    for column, n in crypto.rotate_all(db, batch=batch).items():
        click.echo(f"{column}: {n} re-sealed")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--no-scheduler", is_flag=True, help="Do not run RQ's scheduler in this worker.")
@click.option("--maintenance-interval", default=60, show_default=True,
              help="Seconds between RQ's registry clean-ups: a job whose worker died is "
                   "retried this soon after its heartbeat expires (RQ's default is 600).")
def worker(burst: bool, no_scheduler: bool, maintenance_interval: int) -> None:
    """Run an RQ worker inside the app (needs REDIS_URL)."""
    from rq import Worker

    from clubplatform.extensions import db
    from clubplatform.jobs import redis_connection, requeue_pending

    conn = redis_connection(current_app)
    if conn is None:
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker is needed.")
    # runs submitted while Redis was unreachable: queue them now rather than at the next
    # minute of ``rq cron`` (the sweep enqueues each at most once, whoever runs it)
    requeued = requeue_pending()
    db.session.remove()
    db.engine.dispose()  # the work-horses connect on their own; hold no idle connection here
    if requeued:
        click.echo(f"enqueued {requeued} job runs that waited for the job queue")
    import os

    # its work-horses (one at a time) share this worker's metrics files (observability)
    os.environ.setdefault("CLUBPLATFORM_METRICS_ID", f"rqworker-{os.getpid()}")
    # an idle worker wakes up every worker_ttl - 15 s: make that the maintenance interval,
    # so the clean-up (which retries the job of a worker that died) really runs that often
    w = Worker([current_app.config["JOB_QUEUE"]], connection=conn,
               maintenance_interval=maintenance_interval,
               worker_ttl=max(maintenance_interval, 5) + 15)
    # each job runs in a forked work-horse: set the ORM up once here and freeze what is
    # already allocated, so a work-horse neither configures the mappers again nor walks
    # the app's objects in its first garbage collection (~0.5 s per job otherwise)
    import gc

    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    gc.collect()
    gc.freeze()
    w.work(burst=burst, with_scheduler=not no_scheduler)


@jobs_cli.command("run")
@click.argument("name")
@click.option("--chapter", "chapter_id", type=int, default=None, help="Run for one chapter.")
def run_job(name: str, chapter_id: int | None) -> None:
    """Submit a recurring job now (NAME as in ``flask jobs list``)."""
    from clubplatform import jobs

    registry = current_app.extensions["clubplatform_jobs"]
    if name not in registry:
        raise click.ClickException(f"unknown job {name!r}; known: {', '.join(sorted(registry))}")
    run = jobs.submit(registry[name], name=name, chapter_id=chapter_id)
    from clubplatform.extensions import db

    db.session.refresh(run)
    click.echo(f"{run.id}: {run.status} {run.message}")


@jobs_cli.command("list")
def list_jobs() -> None:
    """List the jobs ``flask jobs run`` knows."""
    for name in sorted(current_app.extensions["clubplatform_jobs"]):
        click.echo(name)


@demo_cli.command("load")
@click.option("--seed", default=20261124, help="Random seed (the same seed gives the same data).")
def demo_load(seed: int) -> None:
    """Load demo data (idempotent) and print the demo logins."""
    from clubplatform import demo

    logins = demo.load(seed=seed)
    for loader in current_app.extensions.get("demo_loaders", ()):
        logins.extend(loader(seed=seed))
    click.echo("Demo logins (username / password):")
    for role, username, password in logins:
        click.echo(f"  {role:<16} {username:<20} {password}")


@org_cli.command("import-dealers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_dealers(path: Path) -> None:
    """Import dealers from a CSV/XLSX file (runs as a job; prints its outcome)."""
    from clubplatform import jobs
    from clubplatform.extensions import db
    from clubplatform.org.jobs import import_dealers as job

    run = jobs.submit(job, name="org.import_dealers", chapter_id=None,
                      input_file=(path.name, "application/octet-stream", path.read_bytes()))
    db.session.refresh(run)
    click.echo(f"{run.id}: {run.status} {run.message}")
    if run.status == "failed":
        sys.exit(1)


def init_app(app: Flask) -> None:
    from clubplatform.jobs.tasks import RUNNABLE

    registry = app.extensions.setdefault("clubplatform_jobs", {})
    for name, func in RUNNABLE.items():
        registry.setdefault(name, func)
    for group in (hq_cli, jobs_cli, demo_cli, org_cli):
        app.cli.add_command(group)
    from clubplatform.ops import ops_cli

    app.cli.add_command(ops_cli)
