"""The monthly job, the backfill command, and the dealers' after-sales history."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from clubplatform.analytics import figures
from clubplatform.analytics import jobs as analytics_jobs
from clubplatform.analytics.models import AnalyticsMonth
from clubplatform.extensions import db
from clubplatform.org import service as org
from clubplatform.org.models import DealerAfterSalesPeriod
from tests.factories import make_dealer, make_region


def work(app):
    """Run queued jobs (with Redis; without it they ran inline already)."""
    from clubplatform import jobs

    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_the_monthly_job_snapshots_the_month_just_ended_once(app):
    first = analytics_jobs.submit_snapshot()
    work(app)
    again = analytics_jobs.submit_snapshot()
    work(app)
    db.session.expire_all()
    assert first.id == again.id
    month = db.session.get(AnalyticsMonth, figures.last_complete_month_end())
    assert month is not None and month.source == "job"


def test_the_monthly_job_is_scheduled_with_rq_cron():
    import importlib

    from rq import cron

    cron._job_data_registry.clear()
    importlib.reload(importlib.import_module("clubplatform.schedule"))
    table = {d["name"]: d for d in cron._job_data_registry}
    # 00:30 Asia/Shanghai on the 1st = 16:30 UTC on the last day of the month before
    assert table["analytics-snapshot"]["cron"] == "30 16 L * *"


def test_backfill_command_snapshots_past_months(app, scenario, runner):
    result = runner.invoke(args=["analytics", "backfill", "--from", "2024-01", "--to", "2024-04"])
    assert result.exit_code == 0, result.output
    assert "analytics_backfill-hq-2024-01-31_2024-04-30" in result.output
    work(app)
    db.session.expire_all()
    months = sorted(db.session.execute(sa.select(AnalyticsMonth.month_end)).scalars())
    assert months == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]


def test_backfill_command_refuses_a_bad_month(app, runner):
    result = runner.invoke(args=["analytics", "backfill", "--from", "2024-13", "--to", "2024-04"])
    assert result.exit_code != 0


def _periods(dealer):
    return [(p.valid_from, p.valid_to) for p in db.session.execute(
        sa.select(DealerAfterSalesPeriod).where(DealerAfterSalesPeriod.dealer_id == dealer.id)
        .order_by(DealerAfterSalesPeriod.valid_from)).scalars()]


def _save(dealer, **changes):
    data = {"code": dealer.code, "name": dealer.name, "region_id": dealer.region_id,
            "full_after_sales_since": dealer.full_after_sales_since,
            "full_after_sales_until": dealer.full_after_sales_until}
    data.update(changes)
    org.save_dealer(data, dealer=dealer)
    db.session.commit()


def test_a_dealer_keeps_every_period_of_full_after_sales(app):
    dealer = make_dealer(make_region("BJ"), full_after_sales_since=date(2020, 1, 1))
    assert _periods(dealer) == [(date(2020, 1, 1), None)]
    _save(dealer, full_after_sales_until=date(2022, 6, 30))  # lost it
    assert _periods(dealer) == [(date(2020, 1, 1), date(2022, 7, 1))]
    _save(dealer, full_after_sales_since=date(2024, 2, 1), full_after_sales_until=None)  # regained
    assert _periods(dealer) == [(date(2020, 1, 1), date(2022, 7, 1)), (date(2024, 2, 1), None)]
    _save(dealer, full_after_sales_since=date(2024, 3, 1))  # a correction of the new start
    assert _periods(dealer) == [(date(2020, 1, 1), date(2022, 7, 1)), (date(2024, 3, 1), None)]


def test_a_dealer_without_full_after_sales_has_no_period(app):
    dealer = make_dealer(make_region("BJ"), full_after_sales_since=None)
    assert _periods(dealer) == []
    _save(dealer, full_after_sales_since=date(2023, 5, 1))
    assert _periods(dealer) == [(date(2023, 5, 1), None)]
    _save(dealer, full_after_sales_since=None)  # entered by mistake
    assert _periods(dealer) == []


def test_a_regained_dealer_counts_in_both_periods_and_not_between(app):
    region = make_region("BJ")
    dealer = make_dealer(region, full_after_sales_since=date(2020, 1, 1))
    _save(dealer, full_after_sales_until=date(2022, 6, 30))
    _save(dealer, full_after_sales_since=date(2024, 2, 1), full_after_sales_until=None)
    rows = {r.month_end: r.dealers_full_after_sales for r in figures.compute(
        date(2022, 6, 1), date(2024, 2, 1), level="region", scope_id=region.id)}
    assert rows[date(2022, 6, 30)] == 1
    assert rows[date(2022, 7, 31)] == 0
    assert rows[date(2024, 1, 31)] == 0
    assert rows[date(2024, 2, 29)] == 1
