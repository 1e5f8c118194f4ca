"""Snapshots: written once, kept when data change, re-snapshotted only on request."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.analytics import figures, service
from clubplatform.analytics.models import AnalyticsMonth, AnalyticsSnapshot
from clubplatform.audit.models import AuditLog
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.org import service as org
from clubplatform.org.models import Dealer
from tests.factories import make_user
from tests.platform.analytics import factories as f
from tests.platform.analytics.conftest import APR, FEB, MAR


def _snapshot_rows(month_end):
    return {(r.level, r.scope_id): r.figures() for r in service.read_snapshot(month_end)}


def _live_rows(month_end):
    return {(r.level, r.scope_id): r.figures()
            for r in figures.compute(month_end, month_end)}


def test_snapshot_and_live_view_agree(scenario):
    service.snapshot_months(FEB, APR)
    db.session.commit()
    for month_end in (FEB, MAR, APR):
        assert _snapshot_rows(month_end) == _live_rows(month_end)
        rows, source = service.figures_for(month_end)
        assert source == "snapshot"
        live_rows, live_source = service.figures_for(month_end, live=True)
        assert live_source == "live"
        assert sorted((r.level, r.scope_id, tuple(r.figures().values())) for r in rows) == \
            sorted((r.level, r.scope_id, tuple(r.figures().values())) for r in live_rows)


def test_a_past_snapshot_does_not_change_when_data_change(scenario):
    service.snapshot_month(MAR, source="job")
    db.session.commit()
    before = _snapshot_rows(MAR)
    f.member(scenario["c1"], joined=date(2024, 3, 3))  # a late entry for March
    service.snapshot_month(MAR, source="job")  # the job runs again: nothing is rewritten
    db.session.commit()
    assert _snapshot_rows(MAR) == before
    assert _live_rows(MAR)[("nation", 0)]["members"] == before[("nation", 0)]["members"] + 1


def test_a_dealer_losing_full_after_sales_later_leaves_past_figures_as_they_were(scenario):
    d1 = db.session.execute(sa.select(Dealer).where(Dealer.code == "D1")).scalar_one()
    before = _live_rows(MAR)[("region", scenario["r1"].id)]["dealers_full_after_sales"]
    # the chapter closes and the dealer loses the function in May: March keeps both
    org.close_chapter(scenario["c1"], date(2024, 5, 1))
    org.save_dealer({"code": "D1", "name": d1.name, "region_id": d1.region_id,
                     "full_after_sales_since": d1.full_after_sales_since,
                     "full_after_sales_until": date(2024, 5, 1)}, dealer=d1)
    db.session.commit()
    assert _live_rows(MAR)[("region", scenario["r1"].id)]["dealers_full_after_sales"] == before
    may = figures.compute(date(2024, 5, 31), date(2024, 5, 31), level="region",
                          scope_id=scenario["r1"].id)[0]
    assert may.dealers_full_after_sales == before  # D4 gained it in April, D1 lost it in May


def test_backfill_keeps_months_already_there_and_writes_the_others(scenario):
    service.snapshot_month(MAR)
    db.session.commit()
    result = service.snapshot_months(FEB, APR)
    db.session.commit()
    assert result.written == [FEB, APR]
    assert result.kept == [MAR]
    counts = dict(db.session.execute(sa.select(AnalyticsSnapshot.month_end, sa.func.count())
                                     .group_by(AnalyticsSnapshot.month_end)).all())
    assert counts[FEB] == 1 + 2 + 2  # the nation, two regions, chapters C1 and C3
    assert set(counts) == {FEB, MAR, APR}


def test_the_running_month_cannot_be_snapshotted(app):
    from clubplatform import dates

    with pytest.raises(DomainError):
        service.snapshot_month(dates.today())


def test_resnapshot_recomputes_one_month_and_writes_the_audit_log(scenario):
    admin = make_user("hq_admin")
    service.snapshot_months(FEB, MAR)
    db.session.commit()
    f.member(scenario["c1"], joined=date(2024, 3, 3))  # a corrected March record
    month = service.resnapshot(MAR, actor=admin, reason="补录 3 月入会", ip="127.0.0.1")
    db.session.commit()
    assert month.revision == 2
    assert _snapshot_rows(MAR) == _live_rows(MAR)
    assert _snapshot_rows(FEB)[("nation", 0)]["members"] == 5  # February untouched
    entry = db.session.execute(sa.select(AuditLog).where(
        AuditLog.action == "analytics_resnapshot")).scalar_one()
    assert entry.actor_id == admin.id
    assert entry.details["nation_changed"]["members"] == [5, 6]
    assert entry.details["reason"] == "补录 3 月入会"


def test_resnapshot_needs_a_reason(scenario):
    with pytest.raises(DomainError) as err:
        service.resnapshot(MAR, actor=make_user("hq_admin"), reason=" ")
    assert "reason" in err.value.fields


def test_trend_reads_snapshots_and_computes_missing_months(scenario):
    service.snapshot_month(FEB)
    db.session.commit()
    rows = service.trend(FEB, APR)
    assert [r.month_end for r in rows] == [FEB, MAR, APR]
    assert [r.members for r in rows] == [5, 5, 6]
    region = service.trend(FEB, APR, level="region", scope_id=scenario["r1"].id)
    assert [r.chapters for r in region] == [1, 2, 2]


def test_regions_and_chapters_are_ranked_best_first(scenario):
    board = service.dashboard(FEB, rank_by="recruitment_rate_bp")
    assert [r.recruitment_rate_bp for r in board.regions] == [50000, 10000]
    assert board.regions[0].scope_id == scenario["r1"].id
    by_members = service.dashboard(APR, rank_by="members")
    assert [r.members for r in by_members.chapters] == [4, 2]


def test_snapshot_months_table_records_the_source(scenario):
    service.snapshot_months(FEB, FEB, source="backfill")
    db.session.commit()
    month = db.session.get(AnalyticsMonth, FEB)
    assert (month.source, month.revision) == ("backfill", 1)
