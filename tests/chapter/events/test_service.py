"""Events from the chapter's side: creating, RSVPs and the waitlist, check-in, points, feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from chapter.events import audience, service
from chapter.events.models import Event, EventFeedback, EventInvitation, EventRegistration
from clubplatform.db import utcnow
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope, unscoped
from hq.points.models import PointEntry
from tests.chapter.events.factories import (
    event_data,
    load_event,
    load_registration,
    make_event,
    make_event_today,
    register,
    segmented_members,
)
from tests.factories import make_member
from tests.hq.points.factories import make_rule


def _count(model, *where):
    with unscoped("test"):
        return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def _error(fn, *args, **kwargs) -> DomainError:
    """The domain error ``fn`` raises; ``.en`` holds its field messages in English."""
    with force_locale("en"):
        with pytest.raises(DomainError) as info:
            fn(*args, **kwargs)
        info.value.en = info.value.field_messages()
    db.session.rollback()
    return info.value


# --- creating ------------------------------------------------------------------------------

def test_a_manager_creates_an_event_with_titles_in_both_languages(two_chapters):
    chapter = two_chapters["a"]
    event = load_event(chapter, make_event(chapter, title_en="Spring car care"))
    assert (event.title(False), event.title(True), event.status) == \
        ("爱车课堂", "Spring car care", "scheduled")
    assert event.rsvp_deadline == event.starts_at  # RSVPs close at the start by default


@pytest.mark.parametrize("field,value", [
    ("type", "party"), ("title_zh", ""), ("place", ""), ("capacity", 0),
    ("max_guests", 11), ("attendance_points", -1)])
def test_bad_event_fields_are_named_and_nothing_is_written(two_chapters, field, value):
    chapter = two_chapters["a"]
    with chapter_scope(chapter.id):
        err = _error(service.create_event, chapter.id, event_data(**{field: value}))
    assert field in err.fields
    assert _count(Event) == 0


def test_an_event_must_end_after_it_starts_and_close_rsvps_before(two_chapters):
    chapter = two_chapters["a"]
    start = utcnow() + timedelta(days=3)
    with chapter_scope(chapter.id):
        err = _error(service.create_event, chapter.id,
                     event_data(starts_at=start, ends_at=start - timedelta(hours=1),
                                rsvp_deadline=start + timedelta(hours=1)))
    assert set(err.fields) >= {"ends_at", "rsvp_deadline"}


def test_a_monthly_series_creates_n_events_a_month_apart(two_chapters):
    chapter = two_chapters["a"]
    with chapter_scope(chapter.id):
        series, events = service.create_series(chapter.id, event_data(), frequency="monthly",
                                               occurrences=6)
        db.session.commit()
        starts = [service.dates.local(e.starts_at) for e in events]
    assert len(events) == 6 and {e.series_id for e in events} == {series.id}
    assert [(s.month - starts[0].month) % 12 for s in starts] == [0, 1, 2, 3, 4, 5]
    assert {(s.hour, s.minute) for s in starts} == {(starts[0].hour, starts[0].minute)}


def test_an_event_from_an_hq_template_takes_its_fields(two_chapters):
    chapter = two_chapters["a"]
    template = service.save_template({"type": "self_drive", "title_zh": "周末自驾游",
                                      "duration_minutes": 600, "capacity": 40, "max_guests": 2,
                                      "attendance_points": 100, "published": True})
    db.session.commit()
    start = utcnow() + timedelta(days=10)
    with chapter_scope(chapter.id):
        event = service.create_event(chapter.id, {"starts_at": start, "place": "郊外"},
                                     template_id=template.id)
        db.session.commit()
        assert (event.type, event.title_zh, event.capacity, event.max_guests,
                event.template_id) == ("self_drive", "周末自驾游", 40, 2, template.id)
        assert event.ends_at - event.starts_at == timedelta(minutes=600)


def test_an_unpublished_template_is_not_offered_to_chapters(two_chapters):
    chapter = two_chapters["a"]
    template = service.save_template({"type": "gala", "title_zh": "草稿", "published": False})
    db.session.commit()
    with chapter_scope(chapter.id):
        err = _error(service.create_event, chapter.id, event_data(),
                     template_id=template.id)
    assert err.status == 404


def test_capacity_cannot_go_below_the_seats_taken(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=3, max_guests=1)
    register(chapter, event_id, make_member(chapter).id, guests=1)
    register(chapter, event_id, make_member(chapter).id)
    with chapter_scope(chapter.id):
        err = _error(service.update_event, event_id, {"capacity": 2})
    assert "capacity" in err.fields
    assert load_event(chapter, event_id).capacity == 3


# --- RSVP and the waitlist -------------------------------------------------------------------

def test_when_full_members_join_the_waitlist_in_arrival_order(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=2)
    ids = [register(chapter, event_id, make_member(chapter).id) for _ in range(4)]
    regs = [load_registration(chapter, i) for i in ids]
    assert [r.status for r in regs] == ["registered", "registered", "waitlisted", "waitlisted"]
    with chapter_scope(chapter.id):
        assert [service.waitlist_position(r) for r in regs[2:]] == [1, 2]


def test_guests_take_seats_and_are_limited_by_the_event(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=3, max_guests=2)
    first = register(chapter, event_id, make_member(chapter).id, guests=2)
    second = register(chapter, event_id, make_member(chapter).id)
    assert load_registration(chapter, first).status == "registered"
    assert load_registration(chapter, second).status == "waitlisted"
    member = make_member(chapter)
    with chapter_scope(chapter.id):
        err = _error(service.rsvp, event_id, member.id, guests=3)
    assert "guests" in err.fields


def test_rsvp_twice_keeps_the_first_place(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter)
    member = make_member(chapter)
    first = register(chapter, event_id, member.id)
    assert register(chapter, event_id, member.id) == first
    assert _count(EventRegistration) == 1


@pytest.mark.postgres
def test_rsvp_again_is_answered_while_newcomers_hold_the_events_lock(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter)
    member = make_member(chapter)
    first = register(chapter, event_id, member.id)
    with db.engine.connect() as newcomer:  # another request is placing a newcomer
        newcomer.execute(sa.text("SELECT id FROM events WHERE id = :e FOR UPDATE"),
                         {"e": event_id})
        with chapter_scope(chapter.id):
            db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            again = service.rsvp(event_id, member.id)
            answered = (again.registration.id, again.created)
            db.session.rollback()
        newcomer.rollback()
    assert answered == (first, False)


def test_rsvp_after_the_deadline_is_refused_and_nothing_is_written(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, rsvp_deadline=utcnow() + timedelta(days=1))
    member = make_member(chapter)
    with chapter_scope(chapter.id):
        err = _error(service.rsvp, event_id, member.id, now=utcnow() + timedelta(days=2))
    assert "rsvp_deadline" in err.fields
    assert _count(EventRegistration) == 0


def test_rsvp_to_another_chapters_event_is_not_found(two_chapters):
    event_id = make_event(two_chapters["b"])
    member = make_member(two_chapters["a"])
    with chapter_scope(two_chapters["a"].id):
        err = _error(service.rsvp, event_id, member.id)
    assert err.status == 404
    assert _count(EventRegistration) == 0


def test_a_cancellation_promotes_the_first_waiting_member_and_notifies_them(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=1)
    first = register(chapter, event_id, make_member(chapter).id)
    second = register(chapter, event_id, make_member(chapter).id)
    third = register(chapter, event_id, make_member(chapter).id)
    with chapter_scope(chapter.id):
        _, changed = service.cancel_registration(first)
        db.session.commit()
    assert changed
    assert [load_registration(chapter, i).status for i in (first, second, third)] == \
        ["cancelled", "registered", "waitlisted"]
    assert load_registration(chapter, second).promoted_at is not None
    from clubplatform.messaging.models import OutboxMessage

    with unscoped("test"):
        kinds = db.session.execute(sa.select(OutboxMessage.kind, OutboxMessage.member_id)
                                   ).all()
    assert kinds == [("event_promoted", load_registration(chapter, second).member_id)]


def test_cancelling_twice_changes_nothing(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=1)
    first = register(chapter, event_id, make_member(chapter).id)
    second = register(chapter, event_id, make_member(chapter).id)
    third = register(chapter, event_id, make_member(chapter).id)
    with chapter_scope(chapter.id):
        service.cancel_registration(first)
        db.session.commit()
        _, changed = service.cancel_registration(first)
        db.session.commit()
    assert not changed
    assert [load_registration(chapter, i).status for i in (second, third)] == \
        ["registered", "waitlisted"]


def test_a_member_who_cancelled_joins_again_at_the_end(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=1)
    member = make_member(chapter)
    first = register(chapter, event_id, member.id)
    other = register(chapter, event_id, make_member(chapter).id)
    with chapter_scope(chapter.id):
        service.cancel_registration(first)
        db.session.commit()
    register(chapter, event_id, member.id)
    assert load_registration(chapter, other).status == "registered"
    assert load_registration(chapter, first).status == "waitlisted"


def test_more_seats_move_the_waitlist_up(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, capacity=1)
    register(chapter, event_id, make_member(chapter).id)
    waiting = register(chapter, event_id, make_member(chapter).id)
    with chapter_scope(chapter.id):
        service.update_event(event_id, {"capacity": 2})
        db.session.commit()
    assert load_registration(chapter, waiting).status == "registered"


# --- check-in and points ---------------------------------------------------------------------

def _checked_in(chapter, event_id, registration_id):
    with chapter_scope(chapter.id):
        event = service.get_event(event_id)
        registration = service.find_by_code(event, load_registration(chapter, registration_id)
                                            .code)
        result = service.check_in(event, registration)
        db.session.commit()
        return result


def test_check_in_by_code_awards_attendance_points_once(two_chapters):
    make_rule("attendance", 80)
    chapter = two_chapters["a"]
    member = make_member(chapter)
    event_id = make_event_today(chapter)
    registration_id = register(chapter, event_id, member.id,
                               now=utcnow() - timedelta(days=3))
    first = _checked_in(chapter, event_id, registration_id)
    again = _checked_in(chapter, event_id, registration_id)
    assert (first.newly, first.points, again.newly, again.points) == (True, 80, False, 0)
    assert _count(PointEntry, PointEntry.reason == "attendance") == 1


def test_the_closing_job_run_twice_neither_double_awards_nor_double_marks(two_chapters):
    make_rule("attendance", 80)
    chapter = two_chapters["a"]
    starts = utcnow() - timedelta(hours=5)
    event_id = make_event(chapter, starts_at=starts, ends_at=starts + timedelta(hours=2),
                          rsvp_deadline=starts - timedelta(days=1))
    came = register(chapter, event_id, make_member(chapter).id, now=starts - timedelta(days=2))
    stayed_home = register(chapter, event_id, make_member(chapter).id,
                           now=starts - timedelta(days=2))
    with chapter_scope(chapter.id):
        event = service.get_event(event_id)
        # checked in at the door, but the ledger hand-off was lost (e.g. a crash)
        load_registration(chapter, came).checked_in_at = starts
        db.session.commit()
        del event
    from chapter.events import jobs

    first = jobs.close_chapter_events(chapter.id)
    with chapter_scope(chapter.id):
        load_event(chapter, event_id).closed_at = None  # a retried job
        db.session.commit()
    second = jobs.close_chapter_events(chapter.id)
    assert (first["no_shows"], first["points_awarded"]) == (1, 1)
    assert (second["no_shows"], second["points_awarded"]) == (0, 0)
    assert load_registration(chapter, stayed_home).no_show
    assert _count(PointEntry, PointEntry.reason == "attendance") == 1


def test_a_code_of_another_event_is_refused_at_check_in(two_chapters):
    chapter = two_chapters["a"]
    other_event = make_event_today(chapter)
    registration_id = register(chapter, other_event, make_member(chapter).id,
                               now=utcnow() - timedelta(days=3))
    event_id = make_event_today(chapter)
    code = load_registration(chapter, registration_id).code
    with chapter_scope(chapter.id):
        err = _error(service.find_by_code, service.get_event(event_id), code)
    assert err.en["code"] == ["This code is for another event."]


def test_a_code_of_another_chapter_is_unknown_at_check_in(two_chapters):
    a, b = two_chapters["a"], two_chapters["b"]
    b_event = make_event_today(b)
    code = load_registration(b, register(b, b_event, make_member(b).id,
                                         now=utcnow() - timedelta(days=3))).code
    event_id = make_event_today(a)
    with chapter_scope(a.id):
        err = _error(service.find_by_code, service.get_event(event_id), code)
    assert err.en["code"] == ["No registration has this code."]
    assert load_registration(b, _only_registration(b)).checked_in_at is None


def _only_registration(chapter):
    with chapter_scope(chapter.id):
        return db.session.execute(sa.select(EventRegistration.id)).scalar_one()


def test_walk_ins_are_added_and_checked_in(two_chapters):
    chapter = two_chapters["a"]
    member = make_member(chapter)
    event_id = make_event_today(chapter)
    with chapter_scope(chapter.id):
        as_member = service.add_walk_in(event_id, member_number_or_mobile=member.member_number)
        guest = service.add_walk_in(event_id, name="路人甲", mobile="13800138000")
        db.session.commit()
        summary = service.summary(service.get_event(event_id))
    assert as_member.registration.member_id == member.id and as_member.newly
    assert guest.registration.member_id is None and guest.registration.walk_in
    assert (summary.attended, summary.walk_ins) == (2, 2)


def test_check_in_before_the_event_day_is_refused(two_chapters):
    chapter = two_chapters["a"]
    event_id = make_event(chapter, starts_at=utcnow() + timedelta(days=5))
    registration_id = register(chapter, event_id, make_member(chapter).id)
    with chapter_scope(chapter.id):
        event = service.get_event(event_id)
        err = _error(service.check_in, event, load_registration(chapter, registration_id))
    assert "event_id" in err.fields


# --- feedback and the summary ----------------------------------------------------------------

def test_feedback_once_per_attendee_and_not_before_the_event(two_chapters):
    chapter = two_chapters["a"]
    member = make_member(chapter)
    event_id = make_event_today(chapter)
    registration_id = register(chapter, event_id, member.id, now=utcnow() - timedelta(days=3))
    with chapter_scope(chapter.id):
        early = _error(service.give_feedback, event_id, member.id, 5,
                       now=utcnow() - timedelta(days=1))
    _checked_in(chapter, event_id, registration_id)
    with chapter_scope(chapter.id):
        bad = _error(service.give_feedback, event_id, member.id, 6)
        service.give_feedback(event_id, member.id, 4, "不错")
        db.session.commit()
        twice = _error(service.give_feedback, event_id, member.id, 5)
    assert "event_id" in early.fields and "rating" in bad.fields
    assert twice.status == 409 and "event_id" in twice.fields
    assert _count(EventFeedback) == 1


def test_only_attendees_give_feedback(two_chapters):
    chapter = two_chapters["a"]
    member = make_member(chapter)
    event_id = make_event_today(chapter)
    register(chapter, event_id, member.id, now=utcnow() - timedelta(days=3))
    with chapter_scope(chapter.id):
        err = _error(service.give_feedback, event_id, member.id, 5)
    assert err.en["event_id"] == ["Only members who attended can give feedback."]


def test_the_summary_counts_invited_registered_attended_and_recruits(two_chapters):
    from tests.chapter.recruitment.factories import make_application
    from tests.factories import make_owner

    chapter = two_chapters["a"]
    event_id = make_event_today(chapter, capacity=2)
    members = [make_member(chapter) for _ in range(3)]
    regs = [register(chapter, event_id, m.id, now=utcnow() - timedelta(days=3))
            for m in members]
    _checked_in(chapter, event_id, regs[0])
    with chapter_scope(chapter.id):
        service.give_feedback(event_id, members[0].id, 4)
        db.session.add(EventInvitation(chapter_id=chapter.id, event_id=event_id,
                                       member_id=members[1].id))
        db.session.commit()
    application = make_application(chapter, make_owner(chapter), source="showroom")
    with chapter_scope(chapter.id):
        from chapter.recruitment.models import Application

        db.session.execute(sa.update(Application).where(Application.id == application.id)
                           .values(source="event", event_id=event_id))
        db.session.commit()
        s = service.summary(service.get_event(event_id))
    assert (s.invited, s.registered, s.waitlisted, s.attended, s.attendance_rate,
            s.average_rating, s.new_members) == (1, 2, 1, 1, 0.5, 4.0, 1)


def test_an_application_from_an_event_names_the_chapters_event(two_chapters):
    from chapter.recruitment import service as recruitment
    from tests.factories import make_owner

    a, b = two_chapters["a"], two_chapters["b"]
    own = make_event(a)
    foreign = make_event(b)
    owner = make_owner(a)
    with chapter_scope(a.id):
        err = _error(recruitment.submit_application, owner, source="event", event_id=foreign)
        application = recruitment.submit_application(owner, source="event", event_id=own)
        db.session.commit()
        assert application.event_id == own
    assert "event_id" in err.fields


# --- audience and invitations ----------------------------------------------------------------

def _consenting(chapter, **fields):
    from hq.members.models import Member

    member = make_member(chapter, **fields)
    with chapter_scope(chapter.id):
        row = db.session.execute(sa.select(Member).where(Member.id == member.id)).scalar_one()
        row.consent_email, row.email = True, f"m{member.id}@example.com"
        db.session.commit()
    return member


def test_the_audience_counts_consenting_members_matching_the_filters(two_chapters):
    from hq.members.models import Member

    chapter = two_chapters["a"]
    gold = _consenting(chapter)
    _consenting(chapter)
    make_member(chapter)  # no consent
    _consenting(two_chapters["b"])  # another chapter
    with chapter_scope(chapter.id):
        db.session.execute(sa.update(Member).where(Member.id == gold.id)
                           .values(tier="gold", hobbies=["自驾", "摄影"]))
        db.session.commit()
    event_id = make_event(chapter)
    with chapter_scope(chapter.id):
        event = service.get_event(event_id)
        everyone = audience.audience_count(event, {})
        gold_only = audience.audience_count(event, {"tiers": ["gold"]})
        hobby = audience.audience_count(event, {"hobby": "摄影"})
        nobody = audience.audience_count(event, {"joined_to": "2000-01-01"})
        err = _error(audience.audience_count, event, {"tiers": ["bronze"]})
    assert (everyone["matching"], gold_only["matching"], hobby["matching"],
            nobody["matching"]) == (2, 1, 1, 0)
    assert "tiers" in err.fields


def test_inviting_twice_invites_each_member_once_through_the_outbox(two_chapters):
    from clubplatform.messaging.models import OutboxMessage

    chapter = two_chapters["a"]
    members = [_consenting(chapter) for _ in range(2)]
    event_id = make_event(chapter)
    with chapter_scope(chapter.id):
        first = audience.invite(service.get_event(event_id), {})
        db.session.commit()
    members.append(_consenting(chapter))
    with chapter_scope(chapter.id):
        second = audience.invite(service.get_event(event_id), {})
        db.session.commit()
        keys = sorted(db.session.execute(sa.select(OutboxMessage.dedupe_key)).scalars())
    assert (first["invited"], second["invited"]) == (2, 1)
    assert keys == sorted(f"event-invite:{event_id}:{m.id}" for m in members)
    assert _count(EventInvitation) == 3


def test_each_invitation_greets_its_member_by_name_in_their_language(two_chapters):
    from clubplatform.messaging.models import OutboxMessage
    from hq.members.models import Member

    chapter = two_chapters["a"]
    zh, en = _consenting(chapter, name="王芳"), _consenting(chapter, name="Li Lei")
    with chapter_scope(chapter.id):
        db.session.execute(sa.update(Member).where(Member.id == en.id).values(locale="en"))
        db.session.commit()
    event_id = make_event(chapter)
    with chapter_scope(chapter.id):
        audience.invite(service.get_event(event_id), {})
        db.session.commit()
        bodies = dict(db.session.execute(
            sa.select(OutboxMessage.member_id, OutboxMessage.body)).all())
    assert bodies[zh.id].startswith("王芳，") and "Li Lei" not in bodies[zh.id]
    assert bodies[en.id].startswith("Li Lei, you are invited") and "王芳" not in bodies[en.id]


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, {"DA", "GC", "GB", "SA", "no_visits"}),
    ({"value_segments": ["D"]}, {"DA"}),
    ({"value_segments": ["G"]}, {"GC", "GB"}),
    ({"value_segments": ["D", "G"]}, {"DA", "GC", "GB"}),
    ({"value_segments": ["S"]}, {"SA"}),
    ({"loyalties": ["A"]}, {"DA", "SA"}),
    ({"loyalties": ["B", "C"]}, {"GC", "GB"}),
    ({"value_segments": ["G"], "loyalties": ["B"]}, {"GB"}),
    ({"value_segments": ["S"], "loyalties": ["C"]}, set()),
    ({"value_segments": "d,g", "loyalties": "a"}, {"DA"}),
    ({"value_segments": ["D", "G", "S"], "tiers": ["silver"]}, {"DA", "GC", "GB", "SA"}),
])
def test_value_segment_and_loyalty_filters_select_the_owners_in_those_cells(
        two_chapters, filters, expected):
    chapter = two_chapters["a"]
    ids = segmented_members(chapter)
    segmented_members(two_chapters["b"])  # the same cells in another chapter
    event_id = make_event(chapter)
    with chapter_scope(chapter.id):
        event = service.get_event(event_id)
        count = audience.audience_count(event, filters)
        clean = audience.clean_filters(filters)
        selected = set(db.session.execute(
            audience.audience_query(clean, chapter.id)).scalars())
    assert selected == {ids[k] for k in expected}
    assert (count["matching"], count["new"]) == (len(expected), len(expected))


def test_inviting_by_segment_invites_exactly_the_members_counted(two_chapters):
    chapter = two_chapters["a"]
    ids = segmented_members(chapter)
    segmented_members(two_chapters["b"])
    event_id = make_event(chapter)
    filters = {"value_segments": ["D", "G"], "loyalties": ["B", "C"]}
    with chapter_scope(chapter.id):
        before = audience.audience_count(service.get_event(event_id), filters)
        sent = audience.invite(service.get_event(event_id), filters)
        db.session.commit()
        after = audience.audience_count(service.get_event(event_id), filters)
        invited = set(db.session.execute(sa.select(EventInvitation.member_id)).scalars())
        stored = load_event(chapter, event_id).audience
    assert (before["matching"], sent["invited"], after["new"]) == (2, 2, 0)
    assert invited == {ids["GC"], ids["GB"]}
    assert (stored["value_segments"], stored["loyalties"]) == (["D", "G"], ["B", "C"])
    assert _count(EventInvitation) == 2


def test_an_unknown_value_segment_or_loyalty_is_named_and_nothing_is_sent(two_chapters):
    chapter = two_chapters["a"]
    segmented_members(chapter)
    event_id = make_event(chapter)
    with chapter_scope(chapter.id):
        err = _error(audience.invite, service.get_event(event_id),
                     {"value_segments": ["D", "X"], "loyalties": ["Z"]})
    assert {"value_segments", "loyalties"} <= set(err.fields)
    assert "Unknown value segment: X." in str(err.en["value_segments"])
    assert _count(EventInvitation) == 0


def test_the_calendar_puts_events_on_their_shanghai_day(two_chapters):
    from datetime import datetime

    from clubplatform.dates import SHANGHAI

    chapter = two_chapters["a"]
    # 00:30 in Shanghai on the 1st is still the day before in UTC
    start = datetime(2026, 5, 1, 0, 30, tzinfo=SHANGHAI)
    make_event(chapter, starts_at=start, ends_at=start + timedelta(hours=2))
    with chapter_scope(chapter.id):
        weeks = service.month_calendar(2026, 5)
    days = {d.day.isoformat(): len(d.events) for w in weeks for d in w if d.events}
    assert days == {"2026-05-01": 1}
