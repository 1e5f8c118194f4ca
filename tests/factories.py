"""Factories: each makes one valid object, committed, and takes its chapter explicitly."""

from __future__ import annotations

import itertools
import random
from datetime import date

import sqlalchemy as sa

from clubplatform.auth import service as auth
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.org.models import Chapter, Dealer, Region

PASSWORD = "Test-pass-123"
_seq = itertools.count(1)


def make_region(code: str | None = None, name_zh: str | None = None) -> Region:
    code = code or f"R{chr(65 + next(_seq) % 26)}{chr(65 + next(_seq) % 26)}"
    region = db.session.execute(sa.select(Region).filter_by(code=code)).scalar_one_or_none()
    if region is None:
        region = Region(code=code, name_zh=name_zh or f"区域{code}", name_en=f"Region {code}")
        db.session.add(region)
        db.session.commit()
    return region


def make_dealer(region: Region | None = None, *, code: str | None = None,
                full_after_sales_since: date | None = date(2020, 1, 1), **fields) -> Dealer:
    region = region or make_region("BJ")
    dealer = Dealer(code=code or f"D-{next(_seq):04d}", name=fields.pop("name", "测试经销商"),
                    region_id=region.id, city=fields.pop("city", "北京市"),
                    full_after_sales_since=full_after_sales_since, **fields)
    db.session.add(dealer)
    db.session.commit()
    return dealer


def make_chapter(dealer: Dealer | None = None, *, founded_on: date = date(2022, 1, 1),
                 name: str | None = None) -> Chapter:
    dealer = dealer or make_dealer()
    chapter = Chapter(dealer_id=dealer.id, founded_on=founded_on,
                      name=name or f"{dealer.code} 车友会")
    db.session.add(chapter)
    db.session.commit()
    return chapter


def make_user(role: str = "hq_admin", *, chapter: Chapter | None = None,
              username: str | None = None, password: str = PASSWORD, **fields) -> User:
    user = auth.create_user(
        username=username or f"{role.replace('_', '')}{next(_seq)}",
        display_name=fields.pop("display_name", f"{role} user"),
        password=password, role=role, chapter_id=chapter.id if chapter else None, **fields)
    db.session.commit()
    return user


def make_owner(chapter: Chapter, **fields):
    """An individual owner of ``chapter`` with a valid mobile (and the given fields).

    Returned loaded in the chapter's scope; read its attributes inside
    ``chapter_scope(chapter.id)`` if they may have expired.
    """
    from chapter.owners import service as owners
    from clubplatform.tenancy import chapter_scope
    from clubplatform.validators import make_mobile

    data = {"name": f"车主{next(_seq)}", "mobile": make_mobile(random.Random(next(_seq)))}
    data.update(fields)
    with chapter_scope(chapter.id):
        owner = owners.create_owner(chapter.id, data)
        db.session.commit()
        db.session.refresh(owner)
    return owner


def make_member(chapter: Chapter, owner=None, *, by: User | None = None, **owner_fields):
    """A member of ``chapter``: an owner who applied (showroom) and was approved."""
    from chapter.recruitment import service as recruitment
    from clubplatform.tenancy import chapter_scope

    owner = owner or make_owner(chapter, **owner_fields)
    by = by or make_user("chapter_manager", chapter=chapter)
    with chapter_scope(chapter.id):
        application = recruitment.submit_application(owner, source="showroom", actor=by)
        member = recruitment.approve_application(application, actor=by)
        db.session.commit()
        db.session.refresh(member)
    return member
