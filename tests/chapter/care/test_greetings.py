"""Automatic greetings: consented members only, outside quiet hours, exactly once per year."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.messaging.jobs import dispatch_chapter
from clubplatform.messaging.models import OutboxMessage
from clubplatform.tenancy import chapter_scope
from hq.members.models import Member
from tests.chapter.care.factories import generate, vehicle
from tests.chapter.recruitment.factories import make_member_of
from tests.factories import make_chapter

BIRTHDAY = date(1985, 6, 1)
DAY = date(2026, 6, 1)
#: 10:00 Asia/Shanghai on DAY, when greetings may go out
SEND_AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def _member(chapter, consents, **fields):
    m = make_member_of(chapter, consents=consents, **fields)
    with chapter_scope(chapter.id):
        row = db.session.get(Member, m.id)
        row.birthday = fields.get("birthday", BIRTHDAY)
        for k, v in fields.get("member", {}).items():
            setattr(row, k, v)
        db.session.commit()
        return row.id, row.owner_id


def _outbox(chapter_id):
    with chapter_scope(chapter_id):
        rows = db.session.execute(
            sa.select(OutboxMessage.member_id, OutboxMessage.kind, OutboxMessage.channel,
                      OutboxMessage.language, OutboxMessage.subject)
            .order_by(OutboxMessage.id)).all()
    db.session.remove()
    return [tuple(r) for r in rows]


def _send(chapter_id, now=SEND_AT):
    with chapter_scope(chapter_id):
        counts = dispatch_chapter(chapter_id, now=now)
    db.session.remove()
    return counts


def test_a_consented_member_gets_one_birthday_sms(db, sms_provider):
    chapter = make_chapter()
    cid = chapter.id
    mid, _ = _member(chapter, {"sms": True})

    generate(cid, DAY, greet=True)
    generate(cid, DAY, greet=True)  # the job ran twice
    _send(cid)
    _send(cid)

    assert _outbox(cid) == [(mid, "birthday", "sms", "zh_Hans_CN", _outbox(cid)[0][4])]
    assert len(sms_provider.received) == 1
    assert "生日快乐" in sms_provider.received[0]["text"]


def test_a_member_without_consent_gets_nothing(db):
    chapter = make_chapter()
    cid = chapter.id
    _member(chapter, {"sms": False, "email": False})

    generate(cid, DAY, greet=True)

    assert _outbox(cid) == []


def test_an_anonymised_member_never_appears(db):
    from clubplatform.db import utcnow

    chapter = make_chapter()
    cid = chapter.id
    _member(chapter, {"sms": True}, member={"anonymised_at": utcnow()})

    generate(cid, DAY, greet=True)

    assert _outbox(cid) == []


def test_the_greeting_waits_for_the_morning(db, sms_provider):
    chapter = make_chapter()
    cid = chapter.id
    _member(chapter, {"sms": True})
    generate(cid, DAY, greet=True)

    assert _send(cid, now=datetime(2026, 5, 31, 20, 0, tzinfo=UTC))["sent"] == 0  # 04:00
    assert _send(cid, now=SEND_AT)["sent"] == 1


def test_an_english_speaking_member_gets_an_english_email(db, smtp_server):
    chapter = make_chapter()
    cid = chapter.id
    _member(chapter, {"email": True}, email="li@example.com", member={"locale": "en"})

    generate(cid, DAY, greet=True)
    _send(cid)

    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["subject"].startswith("Happy birthday")
    assert smtp_server.messages[0]["to"] == ["li@example.com"]


def test_a_car_birthday_greeting_names_the_years_once_a_year(db):
    chapter = make_chapter()
    cid = chapter.id
    mid, owner_id = _member(chapter, {"portal": True}, birthday=date(1985, 1, 1))
    with chapter_scope(cid):
        db.session.get(Member, mid).user_id = None
        db.session.commit()
    from tests.factories import make_user

    with chapter_scope(cid):
        m = db.session.get(Member, mid)
        m.user_id = make_user("member").id
        db.session.commit()
    vehicle(cid, owner_id, delivery_date=date(2023, 6, 1), model="星辰 S7")

    generate(cid, DAY, greet=True)
    generate(cid, DAY, greet=True)

    rows = _outbox(cid)
    assert [(r[1], r[2]) for r in rows] == [("car_birthday", "portal")]
    assert "3" in rows[0][4]
