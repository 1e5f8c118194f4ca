"""HQ's points rules: new values from a date, no overlaps, past rules never change."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.errors import DomainError
from clubplatform.extensions import db
from hq.points import ledger, rules
from hq.points.models import PointRule
from tests.hq.points.factories import make_rule

TODAY = date(2026, 6, 15)


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PointRule))


def test_a_new_value_closes_the_rule_in_force_and_applies_from_its_date(app):
    old = make_rule("join", 1000, effective_from=date(2025, 1, 1))
    new = rules.set_rule("join", "", 1500, date(2026, 7, 1), today=TODAY)
    db.session.commit()
    db.session.refresh(old)
    assert old.effective_to == date(2026, 7, 1)
    assert new.effective_to is None
    assert ledger.rule_value("join", on=date(2026, 6, 30)) == 1000
    assert ledger.rule_value("join", on=date(2026, 7, 1)) == 1500


def test_a_rule_applied_by_date_explains_past_entries(app):
    first = make_rule("birthday", 300, effective_from=date(2024, 1, 1))
    rules.set_rule("birthday", "", 500, date(2026, 7, 1), today=TODAY)
    db.session.commit()
    assert ledger.rule_at("birthday", on=date(2025, 3, 3)).id == first.id


def test_a_new_value_cannot_start_today_or_earlier(app):
    make_rule("join", 1000, effective_from=date(2025, 1, 1))
    with pytest.raises(DomainError) as err:
        rules.set_rule("join", "", 1500, TODAY, today=TODAY)
    assert "effective_from" in err.value.fields
    db.session.rollback()
    assert _count() == 1


def test_a_value_overlapping_a_planned_rule_is_refused_and_nothing_is_written(app):
    make_rule("join", 1000, effective_from=date(2025, 1, 1), effective_to=date(2026, 9, 1))
    make_rule("join", 2000, effective_from=date(2026, 9, 1))
    with pytest.raises(DomainError) as err:
        rules.set_rule("join", "", 1500, date(2026, 8, 1), today=TODAY)
    assert "effective_from" in err.value.fields
    db.session.rollback()
    assert _count() == 2
    assert ledger.rule_value("join", on=date(2026, 8, 15)) == 1000


def test_a_value_on_the_same_start_date_as_a_planned_rule_is_refused(app):
    make_rule("join", 2000, effective_from=date(2026, 9, 1))
    with pytest.raises(DomainError):
        rules.set_rule("join", "", 1500, date(2026, 9, 1), today=TODAY)


def test_a_keyed_rule_needs_a_known_key(app):
    with pytest.raises(DomainError) as err:
        rules.set_rule("service_rate", "car_wash", 1, date(2026, 7, 1), today=TODAY)
    assert "key" in err.value.fields
    with pytest.raises(DomainError) as err:
        rules.set_rule("join", "gold", 1, date(2026, 7, 1), today=TODAY)
    assert "key" in err.value.fields


def test_a_negative_value_is_refused(app):
    with pytest.raises(DomainError) as err:
        rules.set_rule("join", "", -5, date(2026, 7, 1), today=TODAY)
    assert "value" in err.value.fields


def test_rules_of_different_keys_do_not_overlap_each_other(app):
    make_rule("service_rate", 1, key="maintenance", effective_from=date(2025, 1, 1))
    rules.set_rule("service_rate", "accessories", 3, date(2026, 7, 1), today=TODAY)
    db.session.commit()
    assert ledger.rule_value("service_rate", "maintenance", on=date(2026, 8, 1)) == 1
    assert ledger.rule_value("service_rate", "accessories", on=date(2026, 8, 1)) == 3


def test_a_rule_whose_period_has_started_cannot_be_changed(app):
    rule = make_rule("join", 1000, effective_from=date(2025, 1, 1))
    with pytest.raises(DomainError):
        rules.change_future_rule(rule, 2000, today=TODAY)
    db.session.rollback()
    db.session.refresh(rule)
    assert rule.value == 1000


def test_a_planned_rule_can_still_be_changed(app):
    rule = make_rule("join", 1000, effective_from=date(2026, 9, 1))
    rules.change_future_rule(rule, 1200, today=TODAY)
    db.session.commit()
    assert ledger.rule_value("join", on=date(2026, 9, 1)) == 1200


def test_installing_the_default_rules_twice_adds_them_once(app):
    added = rules.install_default_rules(date(2020, 1, 1))
    db.session.commit()
    assert added == len(rules.DEFAULT_RULES)
    assert rules.install_default_rules(date(2021, 1, 1)) == 0
    assert _count() == len(rules.DEFAULT_RULES)
    assert ledger.rule_value("service_rate", "accessories", on=TODAY) == 2
    assert ledger.rule_value("tier_threshold", "gold", on=TODAY) == 5000


def test_installing_defaults_leaves_a_rule_hq_set_alone(app):
    make_rule("join", 777, effective_from=date(2019, 1, 1))
    rules.install_default_rules(date(2020, 1, 1))
    db.session.commit()
    assert ledger.rule_value("join", on=TODAY) == 777


def test_the_rule_table_shows_the_rule_in_force_and_the_next_one(app):
    make_rule("join", 1000, effective_from=date(2025, 1, 1), effective_to=date(2026, 9, 1))
    make_rule("join", 2000, effective_from=date(2026, 9, 1))
    row = next(r for r in rules.rules_in_force(TODAY) if r.kind == "join")
    assert row.current.value == 1000
    assert row.upcoming.value == 2000


def test_the_install_rules_command_is_idempotent(runner):
    first = runner.invoke(args=["points", "install-rules", "--from", "2020-01-01"])
    second = runner.invoke(args=["points", "install-rules"])
    assert first.exit_code == 0, first.output
    assert f"{len(rules.DEFAULT_RULES)} rules added" in first.output
    assert "0 rules added" in second.output
