"""``flask analytics …``: backfill and snapshot month-end figures."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

analytics_cli = AppGroup("analytics", help="Month-end figures: snapshots and backfill.")


def _month(text: str, name: str):
    from clubplatform.analytics import service
    from clubplatform.errors import DomainError

    try:
        return service.parse_month(text, field_name=name)
    except DomainError as exc:
        raise click.BadParameter(str(exc.message), param_hint=f"--{name}") from exc


@analytics_cli.command("backfill")
@click.option("--from", "first", required=True, help="First month, YYYY-MM.")
@click.option("--to", "last", required=True, help="Last month, YYYY-MM (a month that has ended).")
def backfill(first: str, last: str) -> None:
    """Snapshot every month end of the range that has no snapshot yet (runs as a job)."""
    from clubplatform.analytics import jobs as analytics_jobs
    from clubplatform.extensions import db

    run = analytics_jobs.submit_backfill(_month(first, "from"), _month(last, "to"))
    db.session.refresh(run)
    click.echo(f"{run.id}: {run.status} {run.message}")
    if run.status == "failed":
        sys.exit(1)


@analytics_cli.command("snapshot")
@click.option("--month", default=None, help="YYYY-MM (default: the month just ended).")
def snapshot(month: str | None) -> None:
    """Snapshot one month end now (kept as it is if it already has one)."""
    from clubplatform.analytics import jobs as analytics_jobs
    from clubplatform.extensions import db

    run = analytics_jobs.submit_snapshot(_month(month, "month") if month else None)
    db.session.refresh(run)
    click.echo(f"{run.id}: {run.status} {run.message}")
    if run.status == "failed":
        sys.exit(1)
