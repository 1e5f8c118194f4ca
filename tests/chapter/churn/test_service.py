"""Churn figures on small hand-computed datasets (the same on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from chapter.churn import service
from chapter.churn.service import Settings
from clubplatform.errors import ValidationFailed
from clubplatform.tenancy import chapter_scope, unscoped
from tests.chapter.churn.factories import owner_with_visits
from tests.factories import make_chapter, make_dealer, make_region, make_user

AS_OF = date(2026, 6, 30)  # lost cut-off 2025-06-30, on schedule after 2025-12-30


def _by_owner(chapter_id, as_of=AS_OF, settings=None, **cell):
    q = service.owners_query(chapter_id, as_of, settings=settings or Settings(), **cell)
    with chapter_scope(chapter_id):
        from clubplatform.extensions import db

        return {r["owner_id"]: r for r in db.session.execute(q).mappings()}


def _spenders(chapter, amounts):
    return [owner_with_visits(chapter, [(date(2026, 3, 1), y)]).id for y in amounts]


def test_segments_take_the_top_15_percent_as_d_and_the_next_35_as_g(db):
    a = make_chapter()
    ids = _spenders(a, [2000, 1800, 1600, 1400, 1200, 1000, 800, 600, 400, 200,
                        190, 180, 170, 160, 150, 140, 130, 120, 110, 100])
    rows = _by_owner(a.id)
    assert [rows[i]["value"] for i in ids] == ["D"] * 3 + ["G"] * 7 + ["S"] * 10


def test_owners_tied_across_a_cut_off_share_the_lower_segment(db):
    a = make_chapter()
    # 10 owners: D is k <= 1.5, G is k <= 5 (k = owners who spent at least as much)
    ids = _spenders(a, [1000, 900, 900, 800, 700, 700, 500, 300, 200, 100])
    rows = _by_owner(a.id)
    assert [rows[i]["value"] for i in ids] == ["D", "G", "G", "G", "S", "S", "S", "S", "S", "S"]


def test_a_tie_at_the_top_straddling_the_d_cut_off_is_all_gold(db):
    a = make_chapter()
    ids = _spenders(a, [1000, 1000, 500, 400, 300, 200, 100, 90, 80, 70])
    rows = _by_owner(a.id, settings=Settings(d_share_pct=15))
    assert rows[ids[0]]["value"] == rows[ids[1]]["value"] == "G"
    rows = _by_owner(a.id, settings=Settings(d_share_pct=20))
    assert rows[ids[0]]["value"] == rows[ids[1]]["value"] == "D"


def test_spend_counts_only_the_last_24_months_up_to_the_date(db):
    a = make_chapter()
    old = owner_with_visits(a, [(date(2024, 6, 30), 9000), (date(2026, 1, 5), 100)]).id
    recent = owner_with_visits(a, [(date(2024, 7, 1), 300), (date(2026, 7, 1), 9000)]).id
    rows = _by_owner(a.id)
    assert rows[old]["spend"] == 10000 and rows[old]["visits"] == 1
    assert rows[recent]["spend"] == 30000 and rows[recent]["visits"] == 1


def test_owners_without_a_visit_by_the_date_are_not_counted(db):
    a = make_chapter()
    owner_with_visits(a, [(date(2026, 7, 2), 500)])
    owner_with_visits(a, [])
    assert _by_owner(a.id) == {}


@pytest.mark.parametrize(("last_visit", "loyalty"), [
    (date(2026, 6, 30), "A"),
    (date(2025, 12, 31), "A"),   # within the 6-month interval
    (date(2025, 12, 30), "B"),   # exactly 6 months: late
    (date(2025, 7, 1), "B"),
    (date(2025, 6, 30), "C"),    # exactly 12 months without a visit: lost
    (date(2023, 1, 1), "C"),
])
def test_loyalty_follows_the_last_visit(db, last_visit, loyalty):
    a = make_chapter()
    owner = owner_with_visits(a, [(date(2022, 1, 1), 100), (last_visit, 100)])
    assert _by_owner(a.id)[owner.id]["loyalty"] == loyalty


def test_an_owner_also_serviced_at_another_dealer_is_swinging(db):
    a, b = make_chapter(), make_chapter()
    here = owner_with_visits(a, [(date(2026, 5, 1), 500)], mobile="13912345678")
    owner_with_visits(b, [(date(2026, 1, 10), 300)], mobile="13912345678")
    row = _by_owner(a.id)[here.id]
    assert row["loyalty"] == "B" and row["elsewhere"]


def test_a_visit_elsewhere_more_than_12_months_ago_does_not_count(db):
    a, b = make_chapter(), make_chapter()
    here = owner_with_visits(a, [(date(2026, 5, 1), 500)], mobile="13912345679")
    owner_with_visits(b, [(date(2025, 5, 1), 300)], mobile="13912345679")
    row = _by_owner(a.id)[here.id]
    assert row["loyalty"] == "A" and not row["elsewhere"]


def _id_number(first17: str) -> str:
    from clubplatform.validators import id_number_check_char

    return first17 + id_number_check_char(first17)


def test_the_same_id_number_elsewhere_counts_even_with_another_mobile(db):
    a, b = make_chapter(), make_chapter()
    id_number = _id_number("11010519850317002")
    here = owner_with_visits(a, [(date(2026, 5, 1), 500)], id_number=id_number)
    owner_with_visits(b, [(date(2026, 2, 1), 300)], id_number=id_number)
    alone = owner_with_visits(a, [(date(2026, 5, 1), 400)])
    rows = _by_owner(a.id)
    assert rows[here.id]["loyalty"] == "B" and rows[here.id]["elsewhere"]
    assert rows[alone.id]["loyalty"] == "A" and not rows[alone.id]["elsewhere"]


def test_a_late_owner_is_swinging_without_being_flagged_elsewhere(db):
    a, b = make_chapter(), make_chapter()
    late = owner_with_visits(a, [(date(2025, 9, 1), 500)], mobile="13912345670")
    owner_with_visits(b, [(date(2026, 2, 1), 300)], mobile="13912345670")
    with chapter_scope(a.id):
        m = service.chapter_matrix(a.id, AS_OF, Settings())
    row = _by_owner(a.id)[late.id]
    assert row["loyalty"] == "B" and not row["elsewhere"]
    assert m.loyalty_total("B") == 1 and m.total == 1


def test_the_interval_and_lost_cut_off_come_from_the_settings(db):
    a = make_chapter()
    owner = owner_with_visits(a, [(date(2025, 10, 1), 100)]).id
    assert _by_owner(a.id)[owner]["loyalty"] == "B"
    assert _by_owner(a.id, settings=Settings(service_interval_months=12,
                                             lost_months=18))[owner]["loyalty"] == "A"
    assert _by_owner(a.id, settings=Settings(service_interval_months=3,
                                             lost_months=6))[owner]["loyalty"] == "C"


def test_rfm_scores_are_quintiles_and_ties_share_a_score(db):
    a = make_chapter()
    o1 = owner_with_visits(a, [(date(2024, 8, 1), 100)]).id
    o2 = owner_with_visits(a, [(date(2025, 2, 1), 200), (date(2025, 3, 1), 200)]).id
    o3 = owner_with_visits(a, [(date(2025, 8, 1), 300)] * 3).id
    o4 = owner_with_visits(a, [(date(2026, 1, 1), 500)] * 4).id
    o5 = owner_with_visits(a, [(date(2026, 6, 1), 2000)] * 5).id
    rows = _by_owner(a.id)
    assert [(rows[o]["r"], rows[o]["f"], rows[o]["m"]) for o in (o1, o2, o3, o4, o5)] == [
        (1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 4), (5, 5, 5)]
    # o2 and o3 spent 400 and 900: make a sixth owner tie with o5's 10000 over 2 visits
    o6 = owner_with_visits(a, [(date(2026, 6, 1), 5000)] * 2).id
    rows = _by_owner(a.id)
    # six owners: score = 1 + 5 * (rank - 1) // 6; o5 and o6 tie on recency and money
    assert rows[o5]["r"] == rows[o6]["r"] == 1 + 5 * 4 // 6
    assert rows[o5]["m"] == rows[o6]["m"] == 1 + 5 * 4 // 6
    assert rows[o1]["m"] == 1 and rows[o4]["m"] == 1 + 5 * 3 // 6


def test_the_matrix_counts_owners_per_cell_with_the_action(db):
    a = make_chapter()
    # values by spend (10 owners): D k<=1, G k<=5
    owner_with_visits(a, [(date(2026, 6, 1), 1000)])                     # A D
    owner_with_visits(a, [(date(2026, 5, 1), 900)])                      # A G
    owner_with_visits(a, [(date(2025, 9, 1), 800)])                      # B G
    owner_with_visits(a, [(date(2025, 3, 1), 700)])                      # C G
    owner_with_visits(a, [(date(2025, 1, 1), 600)])                      # C G
    owner_with_visits(a, [(date(2025, 1, 1), 100)])                      # C S
    owner_with_visits(a, [(date(2026, 2, 1), 90)])                       # A S
    owner_with_visits(a, [(date(2025, 8, 1), 80)])                       # B S
    owner_with_visits(a, [(date(2025, 8, 1), 70)])                       # B S
    owner_with_visits(a, [(date(2022, 1, 1), 5000)])                     # C S (spend 0)
    with chapter_scope(a.id):
        m = service.chapter_matrix(a.id, AS_OF, Settings())
    counts = {(c.loyalty, c.value): c.owners for c in m.as_list()}
    assert counts == {("A", "D"): 1, ("A", "G"): 1, ("A", "S"): 1,
                      ("B", "D"): 0, ("B", "G"): 1, ("B", "S"): 2,
                      ("C", "D"): 0, ("C", "G"): 2, ("C", "S"): 2}
    assert m.total == 10
    with force_locale("en"):
        assert str(m.cell("C", "G").action) == "High value: win back."
        assert str(m.cell("C", "S").action) == "Low value: no after-sales marketing spend."
        assert "marketing budget" in str(m.cell("B", "S").action)
        assert "low cost" in str(m.cell("A", "D").action)


def test_the_cell_list_holds_exactly_the_cells_owners(db):
    a = make_chapter()
    lost = owner_with_visits(a, [(date(2024, 1, 1), 100)]).id
    owner_with_visits(a, [(date(2026, 6, 1), 100)])
    assert set(_by_owner(a.id, loyalty="C", value="S")) == {lost}


def test_the_churn_trend_is_the_share_of_lost_owners_at_each_month_end(db):
    a = make_chapter()
    owner_with_visits(a, [(date(2025, 1, 15), 100)])   # lost from 2026-01-15 on
    owner_with_visits(a, [(date(2025, 3, 31), 100)])   # lost from 2026-03-31 on
    owner_with_visits(a, [(date(2026, 2, 10), 100)])   # a customer from February
    with chapter_scope(a.id):
        trend = service.churn_trend(a.id, date(2026, 3, 1), months=4, settings=Settings())
    assert [(p.month, p.owners, p.lost) for p in trend] == [
        (date(2025, 12, 1), 2, 0), (date(2026, 1, 1), 2, 1),
        (date(2026, 2, 1), 3, 1), (date(2026, 3, 1), 3, 2)]
    assert trend[-1].lost_share == 66.7


def test_the_trend_takes_the_last_visit_by_each_month_end(db):
    a = make_chapter()
    # two visits on one day, then back in February 2026: lost in Dec and Jan only
    owner_with_visits(a, [(date(2024, 12, 20), 100), (date(2024, 12, 20), 50),
                          (date(2026, 2, 5), 100)])
    # last visit 2025-02-28: lost from the end of February 2026 (exactly 12 months)
    owner_with_visits(a, [(date(2025, 1, 31), 100), (date(2025, 2, 28), 100)])
    owner_with_visits(a, [(date(2025, 1, 31), 100)])    # lost from 2026-01-31
    owner_with_visits(a, [(date(2026, 3, 10), 100)])    # a customer from March
    with chapter_scope(a.id):
        trend = service.churn_trend(a.id, date(2026, 3, 1), months=4, settings=Settings())
    assert [(p.month, p.owners, p.lost) for p in trend] == [
        (date(2025, 12, 1), 3, 1), (date(2026, 1, 1), 3, 2),
        (date(2026, 2, 1), 3, 2), (date(2026, 3, 1), 4, 2)]


def test_hq_sees_each_chapters_matrix_and_the_region_sums(db):
    region = make_region()
    a, b = make_chapter(make_dealer(region)), make_chapter(make_dealer(region))
    other = make_chapter()
    owner_with_visits(a, [(date(2026, 6, 1), 100)])
    owner_with_visits(b, [(date(2024, 6, 1), 100)])
    owner_with_visits(other, [(date(2026, 6, 1), 100)])
    with unscoped("test: HQ churn"):
        rows, total = service.hq_matrices(AS_OF, region_id=region.id, settings=Settings())
        regions, nation = service.hq_matrices(AS_OF, group="region", settings=Settings())
    assert [m.key for m in rows] == sorted([a.id, b.id], key=lambda i: [m.key for m in rows].index(i))
    assert {m.key: m.total for m in rows} == {a.id: 1, b.id: 1}
    assert total.loyalty_total("A") == 1 and total.loyalty_total("C") == 1
    assert {m.key: m.total for m in regions}[region.id] == 2
    assert nation.total == 3


def test_settings_default_until_hq_changes_them(db):
    assert service.get_settings() == Settings()
    hq = make_user("hq_admin")
    service.update_settings({"d_share_pct": "10", "lost_months": "18"}, actor=hq)
    db.session.commit()
    s = service.get_settings()
    assert (s.d_share_pct, s.g_share_pct, s.lost_months) == (10, 35, 18)
    service.update_settings({"d_share_pct": ""}, actor=hq)
    assert service.get_settings().d_share_pct == 15


@pytest.mark.parametrize(("data", "field"), [
    ({"d_share_pct": "0"}, "d_share_pct"),
    ({"g_share_pct": "abc"}, "g_share_pct"),
    ({"d_share_pct": "60", "g_share_pct": "40"}, "g_share_pct"),
    ({"lost_months": "61"}, "lost_months"),
    ({"service_interval_months": "12"}, "service_interval_months"),
])
def test_bad_settings_name_the_field(db, data, field):
    with pytest.raises(ValidationFailed) as exc:
        service.update_settings(data, actor=None)
    assert field in exc.value.fields


def test_months_before_clamps_to_the_month_end():
    assert service.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert service.months_before(date(2026, 6, 30), 12) == date(2025, 6, 30)
    assert service.months_before(date(2026, 1, 15), 24) == date(2024, 1, 15)


@pytest.mark.postgres
def test_person_indexes_compare_their_keys_byte_by_byte_on_postgresql(app, db):
    import sqlalchemy as sa

    defs = dict(db.session.execute(sa.text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'ix_owners_person_%'"
    )).all())

    assert 'mobile COLLATE "C"' in defs["ix_owners_person_mobile"]
    assert 'id_number_digest COLLATE "C"' in defs["ix_owners_person_id_digest"]
