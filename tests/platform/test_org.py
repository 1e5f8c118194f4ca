"""Regions, dealers and chapters: HQ's rules, in the service, the database and the pages."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clubplatform.errors import Conflict, ValidationFailed
from clubplatform.org import service
from clubplatform.org.models import Chapter
from tests.factories import make_chapter, make_dealer, make_region, make_user


def _dealer_data(region, **over):
    data = {"code": "SH-100", "name": "上海测试汽车", "region_id": region.id, "city": "上海市",
            "full_after_sales_since": date(2021, 5, 1), "full_after_sales_until": None,
            "closed_on": None}
    data.update(over)
    return data


def test_duplicate_dealer_code_is_refused_naming_the_code_field(db):
    region = make_region("SH")
    service.save_dealer(_dealer_data(region))
    db.session.commit()
    with pytest.raises(Conflict) as err:
        service.save_dealer(_dealer_data(region, name="另一家"))
    assert "code" in err.value.fields


def test_dealer_code_is_normalised_to_capitals(db):
    dealer = service.save_dealer(_dealer_data(make_region("SH"), code="sh-7"))
    assert dealer.code == "SH-7"


def test_second_chapter_for_a_dealer_is_refused(db):
    chapter = make_chapter()
    with pytest.raises(Conflict) as err:
        service.open_chapter(dealer_id=chapter.dealer_id, name="第二个", founded_on=date(2023, 1, 1))
    assert "dealer_id" in err.value.fields


def test_chapter_at_a_dealer_without_full_after_sales_is_refused(db):
    dealer = make_dealer(full_after_sales_since=None)
    with pytest.raises(ValidationFailed) as err:
        service.open_chapter(dealer_id=dealer.id, name="无售后", founded_on=date(2023, 1, 1))
    assert "dealer_id" in err.value.fields


def test_chapter_founded_before_the_dealer_gained_full_after_sales_is_refused(db):
    dealer = make_dealer(full_after_sales_since=date(2024, 6, 1))
    with pytest.raises(ValidationFailed):
        service.open_chapter(dealer_id=dealer.id, name="太早", founded_on=date(2024, 5, 31))


def test_chapter_founded_on_the_day_full_after_sales_began_is_accepted(db):
    dealer = make_dealer(full_after_sales_since=date(2024, 6, 1))
    chapter = service.open_chapter(dealer_id=dealer.id, name="当天", founded_on=date(2024, 6, 1))
    assert chapter.id is not None


def test_database_refuses_a_chapter_at_a_dealer_without_full_after_sales(db):
    dealer = make_dealer(full_after_sales_since=None)
    db.session.add(Chapter(dealer_id=dealer.id, name="绕过服务", founded_on=date(2023, 1, 1)))
    with pytest.raises(sa.exc.DatabaseError):
        db.session.flush()
    db.session.rollback()


def test_database_refuses_a_second_chapter_at_a_dealer(db):
    chapter = make_chapter()
    db.session.add(Chapter(dealer_id=chapter.dealer_id, name="重复", founded_on=date(2023, 1, 1)))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_closing_a_chapter_before_its_founding_is_refused(db):
    chapter = make_chapter(founded_on=date(2023, 3, 1))
    with pytest.raises(ValidationFailed) as err:
        service.close_chapter(chapter, date(2023, 2, 1))
    assert "closed_on" in err.value.fields


def test_closed_chapter_is_audited(db):
    from clubplatform.audit.models import AuditLog

    chapter = make_chapter()
    service.close_chapter(chapter, date(2025, 1, 1))
    db.session.commit()
    entry = db.session.execute(sa.select(AuditLog).filter_by(action="chapter_closed")).scalar_one()
    assert entry.chapter_id == chapter.id and entry.details["closed_on"] == "2025-01-01"


def test_dealer_with_an_open_chapter_cannot_lose_full_after_sales(db):
    chapter = make_chapter()
    data = _dealer_data(chapter.dealer.region, code=chapter.dealer.code,
                        full_after_sales_since=None)
    with pytest.raises(ValidationFailed) as err:
        service.save_dealer(data, dealer=chapter.dealer)
    assert "full_after_sales_since" in err.value.fields


def test_hq_admin_founds_a_chapter_through_the_page(client, db, login_as):
    admin = make_user("hq_admin")
    dealer = make_dealer()
    login_as(admin)
    r = client.post("/hq/org/chapters/new", data={
        "dealer_id": dealer.id, "name": "望京车友会", "founded_on": "2024-02-01"})
    assert r.status_code == 302
    assert db.session.execute(sa.select(Chapter.name)).scalar_one() == "望京车友会"


def test_founding_a_second_chapter_through_the_page_shows_the_reason_in_chinese(
        client, db, login_as):
    admin = make_user("hq_admin")
    chapter = make_chapter()
    login_as(admin)
    r = client.post("/hq/org/chapters/new", data={
        "dealer_id": chapter.dealer_id, "name": "重复", "founded_on": "2024-02-01"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'data-field-error="dealer_id"' in page
    assert "已有分会" in page or "already has a chapter" in page


def test_hq_analyst_cannot_create_a_dealer(client, db, login_as):
    login_as(make_user("hq_analyst"))
    assert client.get("/hq/org/dealers").status_code == 200
    assert client.post("/hq/org/dealers/new", data={}).status_code == 403
