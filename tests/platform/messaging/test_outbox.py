"""The outbox: queue once, send exactly once per channel, retry with backoff, portal inbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.messaging import service as messaging
from clubplatform.messaging.jobs import dispatch, dispatch_chapter
from clubplatform.messaging.models import OutboxMessage
from clubplatform.messaging.senders import client_ref
from clubplatform.tenancy import chapter_scope
from tests.factories import make_chapter, make_member


@pytest.fixture
def chapter(db):
    c = make_chapter()
    return SimpleNamespace(id=c.id, obj=c)


@pytest.fixture
def member(chapter):
    m = make_member(chapter.obj)
    return SimpleNamespace(id=m.id)


def _queue(chapter, member, channel="email", key="birthday:m1:2026-05-01", **kw):
    recipient = {"email": "owner@example.com", "sms": "13800138000",
                 "portal": str(member.id)}[channel]
    with chapter_scope(chapter.id):
        msg = messaging.queue_message(
            chapter_id=chapter.id, member_id=member.id, channel=channel, kind="birthday",
            dedupe_key=key, recipient=recipient, subject=kw.pop("subject", "生日快乐"),
            body=kw.pop("body", "祝您生日快乐！"), **kw)
        db.session.commit()
        return msg.id if msg else None


def _dispatch(chapter, now=None):
    with chapter_scope(chapter.id):
        counts = dispatch_chapter(chapter.id, now=now)
    db.session.remove()
    return counts


def _message(chapter, message_id) -> OutboxMessage:
    db.session.remove()
    with chapter_scope(chapter.id):
        return db.session.get(OutboxMessage, message_id)


def test_queueing_the_same_key_twice_keeps_one_message(chapter, member):
    first = _queue(chapter, member)
    again = _queue(chapter, member, body="another text")

    assert first is not None and again is None
    with chapter_scope(chapter.id):
        assert db.session.execute(sa.select(sa.func.count()).select_from(OutboxMessage)).scalar() == 1


def test_dedupe_key_is_one_per_member_kind_and_due_date():
    from datetime import date

    assert messaging.dedupe_key("birthday", 12, date(2026, 5, 1)) == "birthday:m12:2026-05-01"


def test_an_email_goes_out_over_smtp_once(chapter, member, smtp_server, no_quiet_hours):
    mid = _queue(chapter, member, "email")

    first = _dispatch(chapter)
    second = _dispatch(chapter)

    assert first["sent"] == 1 and second["sent"] == 0
    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["to"] == ["owner@example.com"]
    assert mail["subject"] == "生日快乐"
    assert mail["body"] == "祝您生日快乐！"
    msg = _message(chapter, mid)
    assert msg.status == "sent" and msg.attempts == 1 and msg.sent_at is not None
    assert client_ref(msg) in mail["message_id"]


def test_an_sms_goes_out_through_the_gateway_once(chapter, member, sms_provider, no_quiet_hours):
    mid = _queue(chapter, member, "sms")

    _dispatch(chapter)
    _dispatch(chapter)

    assert len(sms_provider.received) == 1
    call = sms_provider.received[0]
    assert call["auth_ok"] and call["to"] == "13800138000" and call["text"] == "祝您生日快乐！"
    msg = _message(chapter, mid)
    assert msg.status == "sent" and msg.provider_ref == f"sms-{client_ref(msg)}"


def test_the_dispatch_job_run_twice_sends_once(chapter, member, smtp_server, no_quiet_hours):
    _queue(chapter, member, "email")

    dispatch(chapter.id)
    dispatch(chapter.id)

    assert len(smtp_server.messages) == 1


def test_a_message_claimed_by_another_worker_is_not_sent_again(chapter, member, smtp_server,
                                                               no_quiet_hours):
    mid = _queue(chapter, member, "email")
    with chapter_scope(chapter.id):  # a duplicated job claimed it a moment ago
        assert messaging.claim(mid)
        db.session.commit()

    counts = _dispatch(chapter)

    assert counts["sent"] == 0 and smtp_server.messages == []
    assert _message(chapter, mid).status == "claimed"


def test_a_crash_after_the_claim_stays_visible_and_is_sent_once_after_the_timeout(
        chapter, member, smtp_server, no_quiet_hours):
    mid = _queue(chapter, member, "email")
    with chapter_scope(chapter.id):  # the worker claimed, committed, then died
        messaging.claim(mid)
        db.session.commit()

    soon = _dispatch(chapter, now=utcnow() + timedelta(minutes=5))
    assert soon["sent"] == 0 and _message(chapter, mid).status == "claimed"

    later = _dispatch(chapter, now=utcnow() + timedelta(minutes=11))
    again = _dispatch(chapter, now=utcnow() + timedelta(minutes=30))

    assert later["sent"] == 1 and again["sent"] == 0
    assert len(smtp_server.messages) == 1
    msg = _message(chapter, mid)
    assert msg.status == "sent" and msg.attempts == 2


def test_a_failing_send_is_retried_with_backoff_then_marked_failed(chapter, member, sms_provider,
                                                                   no_quiet_hours):
    sms_provider.fail_with = 503
    mid = _queue(chapter, member, "sms")
    now = utcnow()

    first = _dispatch(chapter, now=now)
    msg = _message(chapter, mid)
    assert first["retrying"] == 1 and msg.status == "queued" and msg.attempts == 1
    assert msg.not_before == now + timedelta(seconds=60)
    assert _dispatch(chapter, now=now + timedelta(seconds=30))["retrying"] == 0  # backing off

    at = now
    for _ in range(4):
        at += timedelta(hours=3)
        _dispatch(chapter, now=at)

    msg = _message(chapter, mid)
    assert msg.status == "failed" and msg.attempts == 5
    assert "503" in msg.last_error
    assert len(sms_provider.received) == 5
    assert _dispatch(chapter, now=at + timedelta(days=1))["sent"] == 0


def test_a_refused_request_fails_at_once(chapter, member, sms_provider, no_quiet_hours):
    sms_provider.fail_with = 400
    mid = _queue(chapter, member, "sms")

    _dispatch(chapter)

    msg = _message(chapter, mid)
    assert msg.status == "failed" and msg.attempts == 1


def test_a_manager_can_send_a_failed_message_again(chapter, member, sms_provider, no_quiet_hours):
    sms_provider.fail_with = 400
    mid = _queue(chapter, member, "sms")
    _dispatch(chapter)
    sms_provider.fail_with = None
    with chapter_scope(chapter.id):
        messaging.retry_failed(db.session.get(OutboxMessage, mid))
        db.session.commit()

    _dispatch(chapter)

    assert _message(chapter, mid).status == "sent"
    assert len(sms_provider.delivered) == 1


def test_sms_and_email_wait_for_the_end_of_the_quiet_hours(chapter, member):
    mid = _queue(chapter, member, "sms")
    # 23:30 Shanghai → 09:00 the next morning
    late = datetime(2026, 5, 1, 15, 30, tzinfo=UTC)
    assert messaging.outside_quiet_hours(late, "sms") == datetime(2026, 5, 2, 1, 0, tzinfo=UTC)
    # 07:00 Shanghai → 09:00 the same day; noon is fine; the portal never waits
    early = datetime(2026, 5, 1, 23, 0, tzinfo=UTC)
    assert messaging.outside_quiet_hours(early, "email") == datetime(2026, 5, 2, 1, 0, tzinfo=UTC)
    noon = datetime(2026, 5, 2, 4, 0, tzinfo=UTC)
    assert messaging.outside_quiet_hours(noon, "sms") == noon
    assert messaging.outside_quiet_hours(late, "portal") == late
    assert _message(chapter, mid).status == "queued"


def test_a_message_queued_in_the_quiet_hours_is_not_sent_before_they_end(chapter, member,
                                                                         sms_provider):
    late = datetime(2026, 5, 1, 15, 30, tzinfo=UTC)  # 23:30 Shanghai
    mid = _queue(chapter, member, "sms", not_before=late)

    assert _dispatch(chapter, now=late)["sent"] == 0
    assert _dispatch(chapter, now=datetime(2026, 5, 2, 1, 0, tzinfo=UTC))["sent"] == 1
    assert _message(chapter, mid).status == "sent"


def test_a_template_is_rendered_in_the_members_language(app, chapter, member, tmp_path):
    from jinja2 import ChoiceLoader, DictLoader

    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "t/hello.zh.txt": "您好 {{ name }}\n欢迎！", "t/hello.en.txt": "Hello {{ name }}\nWelcome!",
    }), loader])
    try:
        with chapter_scope(chapter.id):
            msg = messaging.queue_message(
                chapter_id=chapter.id, member_id=member.id, channel="portal", kind="hello",
                dedupe_key="hello:1", recipient="1", language="en", template="t/hello",
                context={"name": "Li"})
            assert (msg.subject, msg.body, msg.language) == ("Hello Li", "Welcome!", "en")
    finally:
        app.jinja_env.loader = loader


def test_portal_notifications_show_once_sent_and_can_be_marked_read(chapter, member):
    mid = _queue(chapter, member, "portal")
    with chapter_scope(chapter.id):
        assert messaging.unread_count(member.id) == 0  # not delivered yet
    _dispatch(chapter)

    with chapter_scope(chapter.id):
        assert [m.id for m in messaging.notifications(member.id)] == [mid]
        assert messaging.unread_count(member.id) == 1
        assert messaging.mark_read(member.id, mid) == 1
        db.session.commit()
        assert messaging.unread_count(member.id) == 0


def test_another_chapters_outbox_is_invisible(chapter, member):
    mid = _queue(chapter, member, "portal")
    other = make_chapter()

    with chapter_scope(other.id):
        assert db.session.get(OutboxMessage, mid) is None
        assert messaging.due_message_ids(chapter.id) == []


@pytest.mark.postgres
def test_two_workers_dispatching_at_once_send_each_message_once(app, chapter, member,
                                                                sms_provider, no_quiet_hours):
    for i in range(20):
        _queue(chapter, member, "sms", key=f"k{i}")
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            with app.app_context():
                barrier.wait()
                _dispatch(chapter)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    assert len(sms_provider.received) == 20
    assert len({r["client_ref"] for r in sms_provider.received}) == 20


def test_the_fan_out_dispatches_each_chapter_with_due_messages_once(app, chapter, member,
                                                                   smtp_server, no_quiet_hours):
    from clubplatform import jobs
    from clubplatform.jobs.models import JobRun
    from clubplatform.messaging.jobs import dispatch_all

    _queue(chapter, member, "email")
    quiet = make_chapter().id  # nothing to send: no job

    dispatch_all(None)
    dispatch_all(None)  # rq cron fired twice within the same 5 minutes
    queue = jobs.get_queue(app)
    if queue.is_async:
        from rq import SimpleWorker

        SimpleWorker([queue], connection=queue.connection).work(burst=True)

    db.session.remove()
    runs = db.session.execute(sa.select(JobRun.chapter_id).where(
        JobRun.name == "messaging-dispatch")).scalars().all()
    assert runs == [chapter.id] and quiet not in runs
    assert len(smtp_server.messages) == 1
