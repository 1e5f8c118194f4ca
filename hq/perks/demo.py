"""Demo data of partner perks: three partners (two with a login) and a few perks.

Idempotent: partners are keyed by code, perks by (partner, title), logins by username.
The car-wash login ``partner.wash`` is made by the organisation's demo; it is linked here.
"""

from __future__ import annotations

from datetime import timedelta

#: code, name, category, contact, login (username, display name) or None
PARTNERS = (
    ("WASH", "洁宝洗车", "car_wash", "400-820-1234", ("partner.wash", "洁宝洗车 合作商户")),
    ("FUEL", "中能加油站", "fuel", "400-610-5678", ("partner.fuel", "中能加油 合作商户")),
    ("HOTEL", "悦途酒店", "hotel", "400-930-2468", None),
)
#: partner code, title, description, tiers, points, days valid, stock, limit per member
PERKS = (
    ("WASH", "精致洗车一次", "任一门店精致洗车一次（轿车/SUV）。",
     ("silver", "gold", "platinum", "diamond"), 0, 180, 500, 2),
    ("WASH", "内饰深度清洁", "含座椅与顶棚清洁，需提前预约。",
     ("gold", "platinum", "diamond"), 800, 180, 100, 1),
    ("FUEL", "加油立减 50 元", "单笔加油满 300 元立减 50 元。",
     ("silver", "gold", "platinum", "diamond"), 500, 90, None, 3),
    ("HOTEL", "高级客房一晚", "全国悦途酒店高级客房一晚（含双早）。",
     ("platinum", "diamond"), 6000, 365, 20, 1),
)
PASSWORD = "Demo-2026-club"
#: logins the organisation's demo already prints
SHOWN_BY_ORGANISATION = ("partner.wash",)


def load(seed: int = 20261124) -> list[tuple[str, str, str]]:
    """Partners, their logins and published perks; return the partner logins made here."""
    import sqlalchemy as sa

    from clubplatform import dates
    from clubplatform.auth import service as auth
    from clubplatform.extensions import db
    from hq.perks import service
    from hq.points.models import Partner, Perk

    today = dates.today()
    logins = []
    partners = {}
    for code, name, category, contact, login in PARTNERS:
        partner = db.session.execute(
            sa.select(Partner).where(Partner.code == code)).scalar_one_or_none()
        if partner is None:
            partner = service.create_partner({"code": code, "name": name, "category": category,
                                              "contact": contact, "active": True})
        partners[code] = partner
        if login is not None:
            username, display_name = login
            user = auth.find_user(username)
            if user is None:
                user = auth.create_user(username=username, display_name=display_name,
                                        password=PASSWORD, role="partner")
            if username not in SHOWN_BY_ORGANISATION:
                logins.append(("partner", username, PASSWORD))
            service.link_partner_user(partner, user)
    for code, title, description, tiers, cost, days, stock, limit in PERKS:
        partner = partners[code]
        exists = db.session.execute(sa.select(Perk.id).where(
            Perk.partner_id == partner.id, Perk.title == title)).scalar()
        if exists is None:
            perk = service.create_perk({
                "partner_id": partner.id, "title": title, "description": description,
                "tiers": list(tiers), "points_cost": cost,
                "valid_from": today - timedelta(days=30), "valid_to": today + timedelta(days=days),
                "stock": stock, "per_member_limit": limit})
            service.publish_perk(perk)
    db.session.commit()
    return logins
