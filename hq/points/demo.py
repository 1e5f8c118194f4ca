"""Demo data of points: HQ's default rules, in force since before the demo's story begins."""

from __future__ import annotations

from datetime import date

#: the demo's three-year story starts later than this
DEMO_RULES_FROM = date(2020, 1, 1)


def load(seed: int = 20261124) -> list[tuple[str, str, str]]:
    """Install the default points rules (idempotent); no extra logins."""
    from clubplatform.extensions import db
    from hq.points.rules import install_default_rules

    install_default_rules(DEMO_RULES_FROM)
    db.session.commit()
    return []
