"""Self sign-up in the member portal: an owner applies online to a chapter."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest
import sqlalchemy as sa

from chapter.owners.models import Owner
from chapter.portal import service
from chapter.recruitment import service as recruitment
from chapter.recruitment.models import Application
from clubplatform.auth.models import User
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope
from clubplatform.validators import make_mobile
from hq.members.models import Member
from hq.members.service import AlreadyMember
from tests.chapter.portal.factories import make_applicant
from tests.chapter.recruitment.factories import id_number
from tests.factories import make_chapter, make_member, make_owner, make_user

ENGLISH = {"Accept-Language": "en"}
GOOD_PASSWORD = "Club-member-2026"
_rng = random.Random(7)


@pytest.fixture
def chapter(db):
    return make_chapter(name="望京车友会")


def _form(chapter, **over):
    data = {"chapter_id": str(chapter.id), "name": "张三", "mobile": make_mobile(_rng),
            "password": GOOD_PASSWORD, "id_number": ""}
    data.update(over)
    return data


def _owners(chapter, mobile):
    db.session.expire_all()
    with chapter_scope(chapter.id):
        return db.session.execute(sa.select(Owner).where(Owner.mobile == mobile)).scalars().all()


def test_signing_up_lands_on_the_portal_home_logged_in(client, chapter):
    resp = client.post("/portal/signup", data=_form(chapter))
    assert resp.headers["Location"].endswith("/portal/")


def test_after_signing_up_the_home_page_shows_the_pending_application(client, chapter):
    client.post("/portal/signup", data=_form(chapter), headers=ENGLISH)
    html = client.get("/portal/", headers=ENGLISH).get_data(as_text=True)
    assert "Pending" in html and "望京车友会" in html


def test_signing_up_creates_a_member_account_named_by_the_mobile(client, chapter):
    form = _form(chapter)
    client.post("/portal/signup", data=form)
    user = db.session.execute(sa.select(User).where(User.username == form["mobile"])).scalar_one()
    assert (user.role, user.chapter_id, user.display_name) == ("member", None, "张三")


def test_signing_up_creates_an_online_application(client, chapter):
    form = _form(chapter)
    client.post("/portal/signup", data=form)
    owner = _owners(chapter, form["mobile"])[0]
    with chapter_scope(chapter.id):
        app = db.session.execute(
            sa.select(Application).where(Application.owner_id == owner.id)).scalar_one()
        assert (app.source, app.status, app.created_by_id) == ("online", "pending", None)


def test_signing_up_links_the_chapters_owner_with_that_mobile(client, chapter):
    owner = make_owner(chapter, name="车主张三")
    client.post("/portal/signup", data=_form(chapter, mobile=owner.mobile))
    owners = _owners(chapter, owner.mobile)
    assert [(o.id, o.user_id is not None) for o in owners] == [(owner.id, True)]


def test_signing_up_keeps_the_application_staff_already_registered(client, chapter):
    owner = make_owner(chapter)
    with chapter_scope(chapter.id):
        recruitment.submit_application(owner, source="showroom")
        db.session.commit()
    resp = client.post("/portal/signup", data=_form(chapter, mobile=owner.mobile))
    with chapter_scope(chapter.id):
        sources = db.session.execute(sa.select(Application.source)).scalars().all()
    assert (resp.status_code, sources) == (302, ["showroom"])


def test_signing_up_with_an_id_number_stores_it_sealed_and_masked(client, chapter):
    form = _form(chapter, id_number=id_number(date(1990, 3, 4)))
    client.post("/portal/signup", data=form)
    owner = _owners(chapter, form["mobile"])[0]
    assert owner.id_number_masked == form["id_number"][:4] + "*" * 10 + form["id_number"][-4:]
    assert form["id_number"] not in (owner.id_number_enc or "")


def test_a_member_of_another_chapter_is_refused_without_naming_it(client, chapter):
    other = make_chapter(name="成都天府车友会")
    member = make_member(other)
    resp = client.post("/portal/signup", data=_form(chapter, mobile=member.mobile),
                       headers=ENGLISH)
    errors = " ".join(re.findall(r'data-field-error="mobile">([^<]*)<', resp.get_data(as_text=True)))
    assert resp.status_code == 422
    assert "already a member of the club" in errors and "成都" not in errors


def test_refusing_an_existing_member_creates_nothing(client, chapter):
    member = make_member(make_chapter())
    client.post("/portal/signup", data=_form(chapter, mobile=member.mobile))
    assert (_owners(chapter, member.mobile),
            db.session.execute(sa.select(User).where(User.username == member.mobile)).first()) \
        == ([], None)


def test_a_member_is_recognised_by_the_id_number_too(chapter):
    number = id_number(date(1980, 1, 2))
    make_member(make_chapter(), id_number=number)
    with chapter_scope(chapter.id), pytest.raises(AlreadyMember):
        service.sign_up(chapter_id=chapter.id, name="张三", mobile=make_mobile(_rng),
                        password=GOOD_PASSWORD, id_number=number)


@pytest.mark.parametrize("password", ["Short1", "onlyletterslong", "1234567890123"])
def test_a_weak_password_is_refused_next_to_the_field(client, chapter, password):
    resp = client.post("/portal/signup", data=_form(chapter, password=password))
    assert resp.status_code == 422
    assert 'data-field-error="password"' in resp.get_data(as_text=True)


def test_an_invalid_id_number_is_refused_next_to_the_field(client, chapter):
    resp = client.post("/portal/signup", data=_form(chapter, id_number="110105194912310021"))
    assert 'data-field-error="id_number"' in resp.get_data(as_text=True)


def test_an_invalid_mobile_is_refused_next_to_the_field(client, chapter):
    resp = client.post("/portal/signup", data=_form(chapter, mobile="2345"))
    assert 'data-field-error="mobile"' in resp.get_data(as_text=True)


def test_a_closed_chapter_cannot_be_chosen(client, chapter):
    closed = make_chapter()
    closed.closed_on = date(2023, 1, 1)
    db.session.commit()
    resp = client.post("/portal/signup", data=_form(closed))
    assert 'data-field-error="chapter_id"' in resp.get_data(as_text=True)


def test_the_signup_page_lists_open_chapters_by_region(client, chapter):
    closed = make_chapter(name="已关闭车友会")
    closed.closed_on = date(2023, 1, 1)
    db.session.commit()
    html = client.get("/portal/signup").get_data(as_text=True)
    assert "<optgroup" in html and "望京车友会" in html and "已关闭车友会" not in html


def test_a_mobile_with_an_account_is_told_to_log_in(client, chapter):
    applicant_mobile = make_mobile(_rng)
    make_applicant(chapter, mobile=applicant_mobile)
    resp = client.post("/portal/signup", data=_form(chapter, mobile=applicant_mobile))
    assert (resp.status_code, 'data-field-error="mobile"' in resp.get_data(as_text=True)) == \
        (422, True)


def test_signup_posts_are_rate_limited_like_logins(app, client, chapter):
    old = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    try:
        answers = [client.post("/portal/signup", data=_form(chapter, password="x")).status_code
                   for _ in range(3)]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = old
    assert answers == [422, 422, 429]


def test_a_logged_in_user_opening_signup_goes_to_their_console(client, login_as, chapter):
    login_as(make_user("chapter_staff", chapter=chapter))
    assert client.get("/portal/signup").headers["Location"].endswith("/chapter/")


def test_approving_an_online_application_makes_the_account_the_members(chapter):
    user = make_applicant(chapter)
    manager = make_user("chapter_manager", chapter=chapter)
    with chapter_scope(chapter.id):
        app = db.session.execute(sa.select(Application)).scalar_one()
        member = recruitment.approve_application(app, actor=manager)
        db.session.commit()
        linked = db.session.execute(sa.select(Member.user_id).where(Member.id == member.id))
        assert linked.scalar_one() == user.id
