"""Demo data of points at the chapters: visits earn, a campaign, some dealer redemptions.

Runs after the chapters' demo data (members joined then, earning their join bonus).
Idempotent: every entry has a fixed idempotency key, so a second load writes nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta


def load(seed: int = 20261124, *, chapters: int | None = None) -> list[tuple[str, str, str]]:
    """Award the demo chapters' service visits, start a campaign, redeem some points."""
    import sqlalchemy as sa

    from chapter.demo import _demo_chapters
    from chapter.points import service
    from clubplatform import dates
    from clubplatform.extensions import db
    from clubplatform.tenancy import chapter_scope
    from hq.members.models import ACTIVE, Member
    from hq.points import earning, ledger
    from hq.points.models import Campaign

    today = dates.today()
    db.session.remove()
    for number, chapter in enumerate(_demo_chapters()[:chapters]):
        rng = random.Random(f"{seed}/{chapter['code']}/points")
        with chapter_scope(chapter["id"]):
            if number % 3 == 0 and not db.session.execute(
                    sa.select(Campaign.id).where(Campaign.name == "春季保养双倍积分")).first():
                service.create_campaign(chapter["id"], {
                    "name": "春季保养双倍积分", "points_per_yuan": 1,
                    "visit_types": ["maintenance", "first_service"],
                    "starts_on": today - timedelta(days=400), "ends_on": today + timedelta(days=60),
                })
            service.award_visits(chapter["id"])
            rich = db.session.execute(
                sa.select(Member).where(Member.status == ACTIVE, Member.points_balance >= 200)
                .order_by(Member.id)).scalars().all()
            for member in rich:
                if rng.random() < 0.4:
                    try:
                        earning.redeem_at_dealer(
                            member, rng.randint(1, member.points_balance // 100) * 100,
                            rng.choice(earning.DEALER_REASONS), "演示", token="demo",
                            actor=None)
                    except ledger.InsufficientPoints:
                        pass
            db.session.commit()
        db.session.remove()
    return []
