"""``flask points …``: install the default rules, run expiry, tiers and birthdays by hand.

The commands hang on the points pages blueprint's CLI group (``cli_group="points"``),
so they are registered with the blueprint by the app factory. The jobs commands
submit the same tracked jobs the schedule runs (inline without ``REDIS_URL``).
"""

from __future__ import annotations

import sys
from datetime import date

import click

from hq.points.views import bp


def _month(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        year, mon = (int(p) for p in value.split("-"))
        date(year, mon, 1)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM") from exc
    return f"{year:04d}-{mon:02d}"


def _submit(func, name: str, *args) -> None:
    """Run the job now (a new run each time: the data makes a repeat harmless)."""
    from clubplatform import jobs
    from clubplatform.extensions import db

    run = jobs.submit(func, *args, name=name, chapter_id=None)
    db.session.refresh(run)
    click.echo(f"{run.id}: {run.status} {run.message}")
    if run.status == "failed":
        sys.exit(1)


@bp.cli.command("install-rules")
@click.option("--from", "effective_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First business date of the default rules (default: today).")
def install_rules(effective_from) -> None:
    """Add the default points rules for every kind that has none (idempotent)."""
    from clubplatform import dates
    from clubplatform.extensions import db
    from hq.points import rules

    start = effective_from.date() if effective_from else dates.today()
    added = rules.install_default_rules(start)
    db.session.commit()
    click.echo(f"{added} rules added from {start.isoformat()}")


@bp.cli.command("expire")
@click.option("--month", default=None, help="YYYY-MM (default: the month just ended).")
def expire(month: str | None) -> None:
    """Expire the points that expire at the end of a month."""
    from hq.points import jobs
    from hq.points.expiry import last_month_end

    month = _month(month) or f"{last_month_end():%Y-%m}"
    _submit(jobs.expire_points, "points-expire", month)


@bp.cli.command("tiers")
@click.option("--month", default=None, help="YYYY-MM (default: the month just ended).")
def tiers(month: str | None) -> None:
    """Recompute members' tiers for a month."""
    from hq.points import jobs
    from hq.points.expiry import last_month_end

    month = _month(month) or f"{last_month_end():%Y-%m}"
    _submit(jobs.recompute_tiers, "points-tiers", month)


@bp.cli.command("birthdays")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="YYYY-MM-DD (default: today, Asia/Shanghai).")
def birthdays(day) -> None:
    """Give the birthday gifts of a day."""
    from clubplatform import dates
    from hq.points import jobs

    on = day.date() if day else dates.today()
    _submit(jobs.give_birthday_points, "points-birthdays", on.isoformat())
