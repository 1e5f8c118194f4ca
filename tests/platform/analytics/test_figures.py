"""The figures as of month ends, against the hand-worked scenario (conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest

from clubplatform.analytics import figures
from tests.platform.analytics.conftest import APR, FEB, MAR


def _rows(first=FEB, last=APR):
    return {(r.month_end, r.level, r.scope_id): r for r in figures.compute(first, last)}


def _get(rows, month_end, level, scope_id=0):
    return rows[(month_end, level, scope_id)]


def test_members_count_as_of_each_month_end(scenario):
    rows = _rows()
    c1 = scenario["c1"].id
    # Feb: m1, the one who left on 1 March, the one who moved on 31 March, the suspended
    assert [_get(rows, m, "chapter", c1).members for m in (FEB, MAR, APR)] == [4, 3, 4]


def test_a_member_who_leaves_the_day_after_a_month_end_counts_for_that_month(scenario):
    rows = _rows(FEB, FEB)
    assert _get(rows, FEB, "chapter", scenario["c1"].id).members == 4


def test_a_transfer_on_a_month_end_counts_for_the_receiving_chapter(scenario):
    rows = _rows()
    assert _get(rows, MAR, "chapter", scenario["c2"].id).members == 2
    assert _get(rows, MAR, "chapter", scenario["c1"].id).members == 3


def test_a_chapter_founded_mid_month_counts_from_that_month_end(scenario):
    rows = _rows()
    assert (FEB, "chapter", scenario["c2"].id) not in rows
    assert _get(rows, MAR, "chapter", scenario["c2"].id).chapters == 1
    assert [_get(rows, m, "region", scenario["r1"].id).chapters for m in (FEB, MAR, APR)] == [1, 2, 2]


def test_a_chapter_closed_on_a_month_end_no_longer_counts_nor_its_owners(scenario):
    rows = _rows()
    r2 = scenario["r2"].id
    assert _get(rows, FEB, "chapter", scenario["c3"].id).members == 1
    assert (MAR, "chapter", scenario["c3"].id) not in rows
    mar = _get(rows, MAR, "region", r2)
    assert (mar.chapters, mar.members, mar.owners, mar.recruitment_rate_bp) == (0, 0, 0, None)


def test_dealers_with_full_after_sales_as_of_the_date(scenario):
    rows = _rows()
    r1 = scenario["r1"].id
    # D3 lost it after 10 March, D4 gained it on 20 April
    assert [_get(rows, m, "region", r1).dealers_full_after_sales for m in (FEB, MAR, APR)] == [3, 2, 3]
    assert [_get(rows, m, "nation").dealers_full_after_sales for m in (FEB, MAR, APR)] == [4, 3, 4]


def test_dealer_join_rate_is_chapters_over_dealers_with_full_after_sales(scenario):
    rows = _rows()
    r1 = scenario["r1"].id
    assert [_get(rows, m, "region", r1).join_rate_bp for m in (FEB, MAR, APR)] == [3333, 10000, 6667]
    assert [_get(rows, m, "nation").join_rate_bp for m in (FEB, MAR, APR)] == [5000, 6667, 5000]
    assert _get(rows, MAR, "region", scenario["r2"].id).join_rate_bp == 0


def test_an_application_pending_across_a_month_end_counts_until_decided(scenario):
    rows = _rows()
    c1 = scenario["c1"].id
    # Feb: applied 20 Feb, decided 2 March (the one decided on 29 Feb does not count)
    assert [_get(rows, m, "chapter", c1).pending_applications for m in (FEB, MAR, APR)] == [1, 1, 1]
    assert _get(rows, MAR, "chapter", scenario["c2"].id).pending_applications == 1


def test_individual_owners_count_from_becoming_customers_and_companies_never(scenario):
    rows = _rows()
    c1 = scenario["c1"].id
    assert [_get(rows, m, "chapter", c1).owners for m in (FEB, MAR, APR)] == [1, 2, 3]
    assert [_get(rows, m, "nation").owners for m in (FEB, MAR, APR)] == [2, 3, 4]


def test_member_recruitment_rate(scenario):
    rows = _rows()
    c1, r1 = scenario["c1"].id, scenario["r1"].id
    assert [_get(rows, m, "chapter", c1).recruitment_rate_bp for m in (FEB, MAR, APR)] == [
        50000, 20000, 16667]
    assert [_get(rows, m, "region", r1).recruitment_rate_bp for m in (FEB, MAR, APR)] == [
        50000, 23333, 20000]
    assert [_get(rows, m, "nation").recruitment_rate_bp for m in (FEB, MAR, APR)] == [
        30000, 23333, 20000]


def test_new_members_are_those_who_joined_in_the_month_not_transfers(scenario):
    rows = _rows()
    assert [_get(rows, m, "nation").new_members for m in (FEB, MAR, APR)] == [0, 2, 1]
    assert _get(rows, MAR, "chapter", scenario["c2"].id).new_members == 1


def test_referral_purchases_in_the_month_and_for_the_year(scenario):
    rows = _rows()
    nation = [_get(rows, m, "nation") for m in (FEB, MAR, APR)]
    assert [r.referral_purchases for r in nation] == [0, 1, 0]
    assert [r.referral_purchases_ytd for r in nation] == [1, 2, 2]


def test_one_month_alone_gives_the_same_figures_as_within_a_range(scenario):
    whole = _rows()
    for month_end in (FEB, MAR, APR):
        alone = _rows(month_end, month_end)
        assert {k: v for k, v in whole.items() if k[0] == month_end} == alone


def test_a_range_that_ends_before_it_starts_is_refused(app):
    with pytest.raises(ValueError):
        figures.figures_statement(date(2024, 3, 1), date(2024, 2, 1))


def test_the_member_services_history_feeds_the_figures(two_chapters):
    """Joining, leaving and a transfer recorded by the services count as of their dates."""
    from clubplatform import dates
    from clubplatform.extensions import db
    from clubplatform.tenancy import unscoped
    from hq.members import service as members
    from tests.chapter.recruitment.factories import make_member_of
    from tests.chapter.transfers.factories import load_member, make_member_since, make_transfer

    a, b = two_chapters["a"], two_chapters["b"]
    stays = make_member_of(a, by=two_chapters["manager_a"]).id
    moves = make_member_since(a, date(2024, 1, 10))
    leaves = make_member_since(a, date(2024, 1, 10))
    transfer = make_transfer(moves, b, by=two_chapters["manager_a"])
    with unscoped("test"):
        members.approve_transfer(transfer, two_chapters["manager_b"])
        members.change_status(load_member(leaves), "left", on=dates.today(), reason="搬家")
        db.session.commit()
    month_end = dates.month_end(dates.today())
    rows = {(r.level, r.scope_id): r for r in figures.compute(month_end, month_end)}
    assert rows[("chapter", a.id)].members == 1  # the one who joined today
    assert rows[("chapter", b.id)].members == 1  # the one who moved in today
    assert rows[("chapter", a.id)].new_members == 1
    last_year = date(dates.today().year - 1, 12, 31)
    before = {(r.level, r.scope_id): r for r in figures.compute(last_year, last_year)}
    assert before[("chapter", a.id)].members == 2 and stays
