"""Demo data: regions, dealers, chapters and accounts, with realistic Chinese names.

Idempotent: everything is keyed by a natural key (region code, dealer code,
username), so running it twice changes nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa

from clubplatform.auth import service as auth
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region

REGIONS = (
    ("BJ", "北京", "Beijing", ("北京市", "天津市", "石家庄市", "太原市")),
    ("SH", "上海", "Shanghai", ("上海市", "苏州市", "南京市", "无锡市")),
    ("CD", "成都", "Chengdu", ("成都市", "重庆市", "昆明市", "贵阳市")),
    ("JN", "济南", "Jinan", ("济南市", "青岛市", "烟台市", "潍坊市")),
    ("GZ", "广州", "Guangzhou", ("广州市", "深圳市", "佛山市", "东莞市")),
    ("HZ", "杭州", "Hangzhou", ("杭州市", "宁波市", "温州市", "绍兴市")),
)
DEALERS_PER_REGION = 5
DEMO_PASSWORD = "Demo-2026-club"
SUFFIXES = ("星徽", "众诚", "华通", "瑞丰", "博远")


def load(seed: int = 20261124) -> list[tuple[str, str, str]]:
    """Load the demo organisation and accounts; return the demo logins."""
    rng = random.Random(seed)
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    logins: list[tuple[str, str, str]] = []
    _user("hq.admin", "总部管理员 王敏", "hq_admin", None, logins)
    _user("hq.analyst", "总部分析师 刘洋", "hq_analyst", None, logins)
    _user("partner.wash", "洁宝洗车 合作商户", "partner", None, logins)
    founded_base = date(2023, 3, 1)
    for r_index, (code, zh, en, cities) in enumerate(REGIONS):
        region = db.session.execute(sa.select(Region).filter_by(code=code)).scalar_one_or_none()
        if region is None:
            region = Region(code=code, name_zh=zh, name_en=en)
            db.session.add(region)
            db.session.flush()
        for d_index in range(DEALERS_PER_REGION):
            dcode = f"{code}-{d_index + 1:03d}"
            city = cities[d_index % len(cities)]
            dealer = db.session.execute(sa.select(Dealer).filter_by(code=dcode)).scalar_one_or_none()
            full_after_sales = d_index < 4 or r_index % 2 == 0
            if dealer is None:
                since = founded_base - timedelta(days=rng.randint(200, 2000))
                dealer = Dealer(
                    code=dcode,
                    name=f"{city.rstrip('市')}{SUFFIXES[d_index]}汽车销售服务有限公司",
                    region_id=region.id, city=city,
                    full_after_sales_since=since if full_after_sales else None,
                )
                db.session.add(dealer)
                db.session.flush()
            # BJ and SH have four chapters, the other regions three: 20 in all; the
            # remaining dealers show full after-sales without a chapter, or neither
            wants_chapter = d_index < (4 if code in ("BJ", "SH") else 3)
            if wants_chapter and dealer.chapter is None:
                founded = founded_base + timedelta(days=rng.randint(0, 600))
                chapter = Chapter(dealer_id=dealer.id, founded_on=founded,
                                  name=f"{city.rstrip('市')}{SUFFIXES[d_index]}车友会")
                db.session.add(chapter)
                db.session.flush()
                dealer.chapter = chapter
            if dealer.chapter is not None:
                ch = dealer.chapter
                prefix = dcode.lower().replace("-", "")
                _user(f"{prefix}.manager", f"{fake.name()}（客户关爱总监）", "chapter_manager", ch.id,
                      logins, show=(code == "BJ" and d_index == 0))
                for s in range(1, 3):
                    _user(f"{prefix}.staff{s}", fake.name(), "chapter_staff", ch.id, logins,
                          show=(code == "BJ" and d_index == 0 and s == 1))
    db.session.commit()
    return logins


def _user(username: str, name: str, role: str, chapter_id: int | None,
          logins: list, show: bool = True) -> User:
    user = auth.find_user(username)
    if user is None:
        user = auth.create_user(username=username, display_name=name, password=DEMO_PASSWORD,
                                role=role, chapter_id=chapter_id)
    if show:
        logins.append((role, username, DEMO_PASSWORD))
    return user
