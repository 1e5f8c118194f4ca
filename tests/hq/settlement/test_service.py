"""Monthly settlement: amounts, every entry settled once, re-drafts, closed months, workflow."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from clubplatform.audit.models import AuditLog
from clubplatform.db import utcnow
from clubplatform.errors import PermissionDenied, ValidationFailed
from clubplatform.extensions import db
from clubplatform.tenancy import unscoped
from hq.points.models import ChapterStatement, PartnerStatement, PointEntry, SettlementLine
from hq.settlement import service
from tests.factories import make_chapter, make_member, make_user
from tests.hq.points.factories import award, make_rule
from tests.hq.settlement.factories import adjust, make_partner, redeem

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)


@pytest.fixture
def world(app):
    make_rule("point_value", 150)  # 100 points = 1.50 CNY
    a, b = make_chapter(), make_chapter()
    ma, mb = make_member(a), make_member(b)
    return {"a": a, "b": b, "ma": ma, "mb": mb}


def _statement(chapter_id, month=MARCH) -> ChapterStatement:
    with unscoped("test"):
        return db.session.execute(sa.select(ChapterStatement).where(
            ChapterStatement.chapter_id == chapter_id,
            ChapterStatement.month == month)).scalar_one()


def _draft(month=MARCH):
    with unscoped("test"):
        result = service.draft_month(month)
        db.session.commit()
    return result


def _lines() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SettlementLine))


def test_hq_owes_the_dealer_the_value_of_points_redeemed_there(world):
    award(world["ma"].id, world["a"].id, 10_000, on=date(2025, 3, 2))
    redeem(world["ma"].id, world["a"].id, 3_333, on=date(2025, 3, 5))
    _draft()
    st = _statement(world["a"].id)
    assert st.redeemed_points == 3_333
    assert st.hq_owes_fen == 5_000  # 3,333 × 1.5 fen, rounded half up
    assert st.dealer_owes_fen == 0
    assert st.net_fen == 5_000


def test_the_dealer_owes_hq_the_value_of_chapter_funded_points_it_issued(world):
    award(world["ma"].id, world["a"].id, 2_000, on=date(2025, 3, 2), funder="chapter",
          reason="campaign")
    award(world["ma"].id, world["a"].id, 5_000, on=date(2025, 3, 2))  # HQ-funded: not here
    adjust(world["ma"].id, world["a"].id, -200, on=date(2025, 3, 3))
    redeem(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 9))
    _draft()
    st = _statement(world["a"].id)
    assert st.chapter_funded_points == 1_800
    assert st.dealer_owes_fen == 2_700
    assert st.hq_owes_fen == 1_500
    assert st.net_fen == 1_500 - 2_700
    assert st.entry_count == 3


def test_points_redeemed_at_a_partner_go_to_the_partners_statement(world):
    partner = make_partner()
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2))
    redeem(world["ma"].id, world["a"].id, 400, on=date(2025, 3, 3), venue="partner",
           partner_id=partner.id)
    _draft()
    ps = db.session.execute(sa.select(PartnerStatement)
                            .where(PartnerStatement.partner_id == partner.id)).scalar_one()
    assert (ps.redeemed_points, ps.hq_owes_fen, ps.entry_count) == (400, 600, 1)
    assert _statement(world["a"].id).entry_count == 0
    assert [s.id for s in service.partner_statements(partner.id)] == [ps.id]


def test_entries_after_the_months_end_wait_for_their_own_month(world):
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2))
    redeem(world["ma"].id, world["a"].id, 100, on=date(2025, 4, 1))
    _draft()
    assert _statement(world["a"].id).entry_count == 0


def test_every_chapter_gets_a_statement_even_without_entries(world):
    result = _draft()
    assert result.chapter_statements == 2
    assert _statement(world["b"].id).net_fen == 0


def test_redrafting_a_month_is_idempotent(world):
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2), funder="chapter")
    redeem(world["ma"].id, world["a"].id, 300, on=date(2025, 3, 3))
    _draft()
    before = (_statement(world["a"].id).net_fen, _lines())
    _draft()
    _draft()
    assert (_statement(world["a"].id).net_fen, _lines()) == before
    assert service.entries_settled_twice() == 0


def test_a_redraft_takes_in_entries_posted_since_the_last_draft(world):
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2))
    _draft()
    redeem(world["ma"].id, world["a"].id, 300, on=date(2025, 3, 20))
    _draft()
    assert _statement(world["a"].id).redeemed_points == 300


def test_unsettled_entries_of_earlier_months_fall_into_the_month_drafted(world):
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 1, 2))
    redeem(world["ma"].id, world["a"].id, 100, on=date(2025, 2, 3))
    redeem(world["ma"].id, world["a"].id, 200, on=date(2025, 3, 3))
    _draft()
    assert _statement(world["a"].id).redeemed_points == 300


def _close(month, manager_a, manager_b, admin, world):
    for chapter, manager in ((world["a"], manager_a), (world["b"], manager_b)):
        st = _statement(chapter.id, month)
        with unscoped("test"):
            service.confirm(st, manager)
            service.approve(st, admin)
            db.session.commit()


def test_a_closed_month_never_changes_and_a_late_entry_goes_into_the_next_open_month(world):
    manager_a = make_user("chapter_manager", chapter=world["a"])
    manager_b = make_user("chapter_manager", chapter=world["b"])
    admin = make_user("hq_admin")
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2))
    redeem(world["ma"].id, world["a"].id, 100, on=date(2025, 3, 3))
    _draft(MARCH)
    _close(MARCH, manager_a, manager_b, admin, world)
    with unscoped("test"):
        assert service.month_closed(MARCH)
    late = redeem(world["ma"].id, world["a"].id, 40, on=date(2025, 3, 28))  # a late correction
    assert _draft(MARCH).closed
    march = _statement(world["a"].id, MARCH)
    assert (march.redeemed_points, march.entry_count, march.status) == (100, 1, "approved")
    _draft(APRIL)
    april = _statement(world["a"].id, APRIL)
    assert april.redeemed_points == 40
    line = db.session.get(SettlementLine, late.id)
    assert line.chapter_statement_id == april.id


# --- the watermark: what bounds a draft's reading ------------------------------------------

def _age(*entries, hours=2):
    """Make entries look posted ``hours`` ago (older than the watermark's lag)."""
    pe = PointEntry.__table__
    db.session.execute(pe.update().where(pe.c.id.in_([e.id for e in entries]))
                       .values(created_at=utcnow() - timedelta(hours=hours)))
    db.session.commit()


def test_a_draft_records_as_covered_only_entries_older_than_the_lag(world):
    old = award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2), funder="chapter")
    recent = redeem(world["ma"].id, world["a"].id, 300, on=date(2025, 3, 3))
    _age(old)
    _draft()
    assert service.WATERMARK_LAG < timedelta(hours=2)
    assert _statement(world["a"].id).entries_through == old.id < recent.id


def test_a_late_correction_below_a_watermarked_month_goes_into_the_next_month(world):
    manager_a = make_user("chapter_manager", chapter=world["a"])
    manager_b = make_user("chapter_manager", chapter=world["b"])
    admin = make_user("hq_admin")
    _age(award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 2, 2), funder="chapter"),
         redeem(world["ma"].id, world["a"].id, 100, on=date(2025, 3, 3)))
    _draft(MARCH)
    assert _statement(world["a"].id, MARCH).entries_through is not None
    _close(MARCH, manager_a, manager_b, admin, world)
    late = redeem(world["ma"].id, world["a"].id, 40, on=date(2025, 2, 27))  # older than March
    _age(late)  # even once it is older than the lag, its id is above March's watermark
    _draft(APRIL)
    april = _statement(world["a"].id, APRIL)
    assert (april.redeemed_points, april.entry_count) == (40, 1)
    assert db.session.get(SettlementLine, late.id).chapter_statement_id == april.id
    with unscoped("test"):
        assert service.month_mismatches(APRIL) == []
    assert april.entries_through == late.id


def test_a_draft_trusts_its_watermark_and_does_not_read_settled_history_again(world):
    # An entry below the watermark is settled by construction; were its line gone, the
    # next draft would not look for it: that is the bound (the history is not re-read).
    first = award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 1, 2), funder="chapter")
    second = redeem(world["ma"].id, world["a"].id, 100, on=date(2025, 1, 3))
    _age(first, second)
    _draft(date(2025, 2, 1))
    db.session.execute(sa.delete(SettlementLine).where(SettlementLine.entry_id == second.id))
    db.session.commit()
    _draft(MARCH)
    assert _statement(world["a"].id, MARCH).entry_count == 0
    assert db.session.get(SettlementLine, second.id) is None


def test_partner_statements_are_bounded_by_their_watermark_too(world):
    partner = make_partner()
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 1))
    spent = redeem(world["ma"].id, world["a"].id, 200, on=date(2025, 3, 2), venue="partner",
                   partner_id=partner.id)
    _age(spent)
    _draft(MARCH)
    with unscoped("test"):
        st = db.session.execute(sa.select(PartnerStatement).where(
            PartnerStatement.partner_id == partner.id, PartnerStatement.month == MARCH)
        ).scalar_one()
    assert (st.redeemed_points, st.entries_through) == (200, spent.id)
    late = redeem(world["ma"].id, world["a"].id, 50, on=date(2025, 3, 9), venue="partner",
                  partner_id=partner.id)
    _draft(APRIL)
    with unscoped("test"):
        april = db.session.execute(sa.select(PartnerStatement).where(
            PartnerStatement.partner_id == partner.id, PartnerStatement.month == APRIL)
        ).scalar_one()
    assert db.session.get(SettlementLine, late.id).partner_statement_id == april.id
    assert april.redeemed_points == 50


def test_a_confirmed_statement_is_not_redrafted(world):
    manager_a = make_user("chapter_manager", chapter=world["a"])
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2))
    redeem(world["ma"].id, world["a"].id, 100, on=date(2025, 3, 3))
    _draft()
    with unscoped("test"):
        service.confirm(_statement(world["a"].id), manager_a)
        db.session.commit()
    redeem(world["ma"].id, world["a"].id, 50, on=date(2025, 3, 4))
    _draft()
    st = _statement(world["a"].id)
    assert (st.redeemed_points, st.status) == (100, "confirmed")


def test_the_months_statements_sum_to_the_entries_they_cover_to_the_fen(world):
    partner = make_partner()
    for i in range(1, 8):
        award(world["ma"].id, world["a"].id, 997 * i, on=date(2025, 3, i), funder="chapter")
        award(world["mb"].id, world["b"].id, 1_001 * i, on=date(2025, 3, i))
        redeem(world["ma"].id, world["a"].id, 333 * i, on=date(2025, 3, i + 1))
        redeem(world["mb"].id, world["b"].id, 77 * i, on=date(2025, 3, i + 1), venue="partner",
               partner_id=partner.id)
    _draft()
    with unscoped("test"):
        totals = service.month_totals(MARCH)
        assert service.month_mismatches(MARCH) == []
    assert totals["statements_hq_owes_fen"] == totals["entries_hq_owes_fen"]
    assert totals["statements_dealer_owes_fen"] == totals["entries_dealer_owes_fen"]
    assert totals["statements_entries"] == totals["entries"] == 7 * 3


def test_drafting_one_chapter_settles_only_its_entries(world):
    redeem_at = date(2025, 3, 3)
    award(world["ma"].id, world["a"].id, 1_000, on=date(2025, 3, 2))
    award(world["mb"].id, world["b"].id, 1_000, on=date(2025, 3, 2))
    redeem(world["ma"].id, world["a"].id, 100, on=redeem_at)
    redeem(world["mb"].id, world["b"].id, 200, on=redeem_at)
    with unscoped("test"):
        st = service.draft_chapter(world["a"].id, MARCH)
        db.session.commit()
    assert (st.redeemed_points, st.hq_owes_fen) == (100, 150)
    assert _lines() == 1


# --- workflow ---------------------------------------------------------------------------

def test_the_workflow_runs_draft_confirmed_approved_paid_and_is_audited(world):
    manager = make_user("chapter_manager", chapter=world["a"])
    admin = make_user("hq_admin")
    _draft()
    st = _statement(world["a"].id)
    with unscoped("test"):
        service.confirm(st, manager)
        service.approve(st, admin)
        service.record_payment(st, admin, payment_ref="TX-001", paid_on=date(2025, 4, 10))
        db.session.commit()
    assert (st.status, st.payment_ref) == ("paid", "TX-001")
    actions = db.session.scalars(sa.select(AuditLog.action).where(
        AuditLog.target_type == "chapter_statement", AuditLog.target_id == str(st.id))).all()
    assert {"settlement.confirm", "settlement.approve", "settlement.pay"} <= set(actions)


def test_hq_cannot_approve_a_statement_the_chapter_has_not_confirmed(world):
    _draft()
    with unscoped("test"), pytest.raises(service.WrongStatus):
        service.approve(_statement(world["a"].id), make_user("hq_admin"))


def test_a_payment_needs_an_approved_statement_and_a_reference(world):
    manager = make_user("chapter_manager", chapter=world["a"])
    admin = make_user("hq_admin")
    _draft()
    st = _statement(world["a"].id)
    with unscoped("test"):
        service.confirm(st, manager)
        with pytest.raises(service.WrongStatus):
            service.record_payment(st, admin, payment_ref="X", paid_on=None)
        service.approve(st, admin)
        with pytest.raises(ValidationFailed):
            service.record_payment(st, admin, payment_ref="  ", paid_on=None)


def test_only_the_chapters_own_manager_confirms_its_statement(world):
    _draft()
    st = _statement(world["a"].id)
    for user in (make_user("chapter_staff", chapter=world["a"]),
                 make_user("chapter_manager", chapter=world["b"]), make_user("hq_admin")):
        with unscoped("test"), pytest.raises(PermissionDenied):
            service.confirm(st, user)


def test_an_hq_analyst_cannot_approve(world):
    _draft()
    st = _statement(world["a"].id)
    with unscoped("test"):
        service.confirm(st, make_user("chapter_manager", chapter=world["a"]))
        with pytest.raises(PermissionDenied):
            service.approve(st, make_user("hq_analyst"))


def test_confirming_twice_is_refused(world):
    manager = make_user("chapter_manager", chapter=world["a"])
    _draft()
    st = _statement(world["a"].id)
    with unscoped("test"):
        service.confirm(st, manager)
        with pytest.raises(service.WrongStatus):
            service.confirm(st, manager)


# --- PostgreSQL -------------------------------------------------------------------------

@pytest.mark.postgres
def test_parallel_drafts_of_a_month_settle_every_entry_once(app, world):
    for i in range(1, 21):
        award(world["ma"].id, world["a"].id, 500 + i, on=date(2025, 3, 1), funder="chapter")
        redeem(world["ma"].id, world["a"].id, 13 * i, on=date(2025, 3, 2))
    errors = []

    def run():
        try:
            with app.app_context():
                with unscoped("test"):
                    service.draft_month(MARCH)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with unscoped("test"):
        assert service.month_mismatches(MARCH) == []
        totals = service.month_totals(MARCH)
    assert totals["entries"] == 40 == _lines()
    assert totals["statements_hq_owes_fen"] == totals["entries_hq_owes_fen"]
