"""The daily care list: generation (with catch-up), greetings, working the list, reports.

Every function runs inside the chapter's tenant scope (a staff member's request, or a
job's ``chapter_scope``); Core SQL adds ``chapter_id`` itself. Services only flush.

Public for other capabilities:

- :func:`add_task` puts an ad-hoc item on a chapter's care list, idempotently
  (unique by ``source_key``), e.g. a complaint's promised call-back::

      from chapter.care import service as care
      care.add_task(chapter_id=c.id, owner_id=o.id, reason="complaint_callback",
                    due_on=promised_on, assignee_id=u.id,
                    source_key=f"complaint:{complaint.id}:callback:1",
                    note="Promised call-back", label="投诉回访")

  A second call with the same ``source_key`` returns the existing task unchanged.
- :class:`chapter.care.models.ServiceFeedback` holds the 3D/7D satisfaction per visit
  (``score`` 1–5, ``comment``, ``advisor_id``); :func:`satisfaction_by_advisor` sums it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from chapter.care import rules as care_rules
from chapter.care.models import (
    CANCELLED,
    CHANNELS,
    DONE,
    OPEN,
    OUTCOMES,
    CareRun,
    CareTask,
    ChapterCareRule,
    ServiceFeedback,
)
from chapter.owners.models import Owner, ServiceVisit, Vehicle
from clubplatform import dates
from clubplatform.auth.models import CHAPTER_ROLES, User
from clubplatform.db import insert, utcnow
from clubplatform.errors import NotFound, field_error
from clubplatform.extensions import db
from clubplatform.messaging import service as messaging
from clubplatform.tenancy import unscoped
from hq.members.models import ACTIVE, Member

#: how many missed days a run catches up at most
CATCH_UP_DAYS = 31
#: greetings go out from this Asia/Shanghai hour on the day
GREETING_HOUR = 10


# --- generation ------------------------------------------------------------------------

@dataclass
class DayResult:
    day: date
    tasks_added: int = 0
    greetings_queued: int = 0
    by_rule: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"day": self.day.isoformat(), "tasks_added": self.tasks_added,
                "greetings_queued": self.greetings_queued, "by_rule": self.by_rule}


def generate_day(chapter_id: int, day: date, *, greet: bool = True) -> DayResult:
    """Add the day's tasks from every active rule (set-based SQL) and queue greetings.

    Idempotent: a rerun adds nothing (unique per chapter, owner, reason and due date),
    and greetings are once per member, occasion and year.
    """
    result = DayResult(day)
    result.by_rule = care_rules.insert_all(chapter_id, day, care_rules.effective_rules(chapter_id))
    result.tasks_added = sum(result.by_rule.values())
    if greet:
        result.greetings_queued = queue_greetings(chapter_id, day)
    _record_run(chapter_id, result)
    return result


def _record_run(chapter_id: int, result: DayResult) -> None:
    """Note the day as generated (a concurrent run of the same day only adds its counts)."""
    r = CareRun.__table__
    added = db.session.execute(
        insert(r).values(chapter_id=chapter_id, day=result.day, tasks_added=result.tasks_added,
                         greetings_queued=result.greetings_queued, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["chapter_id", "day"])).rowcount
    if not added and (result.tasks_added or result.greetings_queued):
        db.session.execute(
            sa.update(r).where(r.c.chapter_id == chapter_id, r.c.day == result.day)
            .values(tasks_added=r.c.tasks_added + result.tasks_added,
                    greetings_queued=r.c.greetings_queued + result.greetings_queued))


def last_generated_day(chapter_id: int) -> date | None:
    return db.session.execute(
        sa.select(sa.func.max(CareRun.day)).where(CareRun.chapter_id == chapter_id)).scalar()


def days_to_generate(chapter_id: int, today: date) -> list[date]:
    """The missed days since the last run (at most :data:`CATCH_UP_DAYS`), then today."""
    last = last_generated_day(chapter_id)
    start = today if last is None or last >= today else max(
        last + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS - 1))
    if last is not None and last >= today:
        return [today]  # a rerun of today: adds nothing, but harmless
    return [start + timedelta(days=i) for i in range((today - start).days + 1)]


# --- greetings through the outbox ---------------------------------------------------------

GREETING_TEMPLATES = {"birthday": "chapter/care/messages/birthday",
                      "car_birthday": "chapter/care/messages/car_birthday"}


def _greeting_channel(member) -> tuple[str, str] | None:
    """The first channel the member consented to and can be reached on."""
    if member.consent_sms and member.mobile:
        return "sms", member.mobile
    if member.consent_email and member.email:
        return "email", member.email
    if member.consent_portal and member.user_id:
        return "portal", str(member.user_id)
    return None


def queue_greetings(chapter_id: int, day: date) -> int:
    """Queue the day's birthday and car-birthday greetings (consented members only)."""
    m, o, v = Member.__table__, Owner.__table__, Vehicle.__table__
    live = sa.and_(m.c.chapter_id == chapter_id, m.c.status == ACTIVE,
                   m.c.anonymised_at.is_(None))
    cols = (m.c.id, m.c.name, m.c.mobile, m.c.email, m.c.user_id, m.c.locale, m.c.consent_sms,
            m.c.consent_email, m.c.consent_portal)
    not_before = datetime.combine(day, time(GREETING_HOUR), dates.SHANGHAI)
    queued = 0
    birthdays = db.session.execute(
        sa.select(*cols).where(live, m.c.birthday.is_not(None),
                               care_rules._md_match(m.c.birthday, day))).all()
    sent = _greeted(chapter_id, [messaging.dedupe_key("birthday", r.id, f"{day.year}")
                                 for r in birthdays])
    for row in birthdays:
        if messaging.dedupe_key("birthday", row.id, f"{day.year}") in sent:
            continue
        queued += _greet(chapter_id, row, "birthday", f"{day.year}", {"name": row.name},
                         not_before)
    cars = db.session.execute(
        sa.select(*cols, v.c.id.label("vehicle_id"), v.c.model, v.c.delivery_date)
        .select_from(m.join(o, sa.and_(o.c.chapter_id == m.c.chapter_id, o.c.id == m.c.owner_id))
                     .join(v, sa.and_(v.c.chapter_id == o.c.chapter_id, v.c.owner_id == o.c.id)))
        .where(live, o.c.anonymised_at.is_(None), v.c.delivery_date.is_not(None),
               v.c.delivery_date < date(day.year, 1, 1),
               care_rules._md_match(v.c.delivery_date, day))).all()
    sent = _greeted(chapter_id, [messaging.dedupe_key("car_birthday", r.id,
                                                      f"{day.year}:v{r.vehicle_id}") for r in cars])
    for row in cars:
        if messaging.dedupe_key("car_birthday", row.id, f"{day.year}:v{row.vehicle_id}") in sent:
            continue
        years = day.year - row.delivery_date.year
        queued += _greet(chapter_id, row, "car_birthday", f"{day.year}:v{row.vehicle_id}",
                         {"name": row.name, "years": years, "model": row.model or ""},
                         not_before)
    return queued


def _greeted(chapter_id: int, keys: list[str]) -> set[str]:
    """The keys already in the outbox: a rerun skips rendering them (the unique key decides)."""
    from clubplatform.messaging.models import OutboxMessage

    if not keys:
        return set()
    o = OutboxMessage.__table__
    return set(db.session.execute(
        sa.select(o.c.dedupe_key).where(o.c.chapter_id == chapter_id,
                                        o.c.dedupe_key.in_(keys))).scalars())


def _greet(chapter_id, member, kind, occasion, context, not_before) -> int:
    channel = _greeting_channel(member)
    if channel is None:
        return 0
    msg = messaging.queue_message(
        chapter_id=chapter_id, member_id=member.id, channel=channel[0], kind=kind,
        dedupe_key=messaging.dedupe_key(kind, member.id, occasion), recipient=channel[1],
        language=member.locale, template=GREETING_TEMPLATES[kind], context=context,
        not_before=not_before)
    return 1 if msg is not None else 0


# --- ad-hoc items ------------------------------------------------------------------------------

def add_task(*, chapter_id: int, owner_id: int, reason: str, due_on: date,
             source_key: str, assignee_id: int | None = None, note: str | None = None,
             label: str | None = None, channel: str = "phone",
             vehicle_id: int | None = None, visit_id: int | None = None) -> CareTask:
    """Put an item on the care list; idempotent by ``source_key`` (returns the existing one).

    ``assignee_id`` defaults to the owner's advisor; ``label`` is the reason's text.
    """
    source_key = (source_key or "").strip()
    if not source_key:
        raise field_error("source_key", _l("A source key is required."))
    if channel not in CHANNELS:
        raise field_error("channel", _l("Choose a channel."))
    if not reason or len(reason) > 48:
        raise field_error("reason", _l("A reason of at most 48 characters is required."))
    existing = db.session.execute(
        sa.select(CareTask).where(CareTask.chapter_id == chapter_id,
                                  CareTask.source_key == source_key)).scalar_one_or_none()
    if existing is not None:
        return existing
    owner = db.session.execute(
        sa.select(Owner).where(Owner.chapter_id == chapter_id, Owner.id == owner_id)
    ).scalar_one_or_none()
    if owner is None:
        raise field_error("owner_id", _l("No such owner."), NotFound)
    if assignee_id is not None:
        _check_staff(chapter_id, assignee_id)
    task = CareTask(chapter_id=chapter_id, owner_id=owner_id, reason=reason, due_on=due_on,
                    scheduled_on=due_on, channel=channel,
                    assignee_id=assignee_id if assignee_id is not None else owner.advisor_id,
                    source_key=source_key, note=note, label=label, vehicle_id=vehicle_id,
                    visit_id=visit_id, status=OPEN)
    with db.session.begin_nested():
        db.session.add(task)
    return task


def cancel_tasks(*, chapter_id: int, source_prefix: str, keep: str | None = None) -> int:
    """Cancel the open ad-hoc items whose ``source_key`` starts with ``source_prefix``.

    For the capability that put them there (e.g. a closed complaint's call-backs);
    ``keep`` spares one key (the promise that replaces the others). Done items stay.
    """
    if not source_prefix:
        raise field_error("source_key", _l("A source key is required."))
    t = CareTask.__table__
    stmt = (sa.update(t).where(t.c.chapter_id == chapter_id, t.c.status == OPEN,
                               t.c.source_key.startswith(source_prefix, autoescape=True))
            .values(status=CANCELLED))
    if keep:
        stmt = stmt.where(t.c.source_key != keep)
    return db.session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def _check_staff(chapter_id: int, user_id: int) -> User:
    user = db.session.execute(
        sa.select(User).where(User.id == user_id, User.chapter_id == chapter_id,
                              User.role.in_(CHAPTER_ROLES))).scalar_one_or_none()
    if user is None:
        raise field_error("assignee_id", _l("Choose a staff member of the chapter."))
    return user


# --- working the list --------------------------------------------------------------------

def get_task(task_id: int) -> CareTask:
    task = db.session.get(CareTask, task_id)
    if task is None:
        raise NotFound(_l("No such care task."))
    return task


def task_query(*, status: str | None = OPEN, assignee_id: int | None = None,
               until: date | None = None, reason: str | None = None,
               due_from: date | None = None, due_to: date | None = None) -> sa.Select:
    """The chapter's tasks: open ones planned until ``until`` (today's list + rolled over)."""
    q = sa.select(CareTask)
    if status:
        q = q.where(CareTask.status == status)
    if assignee_id is not None:
        q = q.where(CareTask.assignee_id == assignee_id)
    if until is not None:
        q = q.where(CareTask.scheduled_on <= until)
    if reason:
        q = q.where(CareTask.reason == reason)
    if due_from is not None:
        q = q.where(CareTask.due_on >= due_from)
    if due_to is not None:
        q = q.where(CareTask.due_on <= due_to)
    return q.order_by(CareTask.scheduled_on, CareTask.reason, CareTask.id)


@dataclass
class TodayItem:
    task: CareTask
    owner: Owner
    text: str
    age: int  # days since it was due


def today_list(*, assignee_id: int | None, today: date | None = None,
               limit: int = 500) -> OrderedDict[str, list[TodayItem]]:
    """The open items planned for today or before, grouped by reason text, oldest first."""
    today = today or dates.today()
    rows = db.session.execute(
        task_query(assignee_id=assignee_id, until=today)
        .add_columns(Owner).join(Owner, sa.and_(Owner.chapter_id == CareTask.chapter_id,
                                                Owner.id == CareTask.owner_id))
        .limit(limit)).all()
    groups: OrderedDict[str, list[TodayItem]] = OrderedDict()
    for task, owner in sorted(rows, key=lambda r: (r[0].reason, r[0].due_on, r[0].id)):
        text = care_rules.reason_text(task.reason, task.number, task.label)
        groups.setdefault(_group_title(task), []).append(
            TodayItem(task, owner, text, (today - task.due_on).days))
    return groups


def _group_title(task: CareTask) -> str:
    if task.reason in ("delivery_day", "delivery_month"):
        return str(_l("After delivery"))
    if task.reason.startswith("follow_up_"):
        return str(_l("3D/7D follow-up"))
    return care_rules.reason_text(task.reason, task.number, task.label)


def record_outcome(task: CareTask, outcome: str, *, note: str | None = None, actor=None,
                   score: int | None = None, comment: str | None = None,
                   today: date | None = None) -> CareTask:
    """Record the contact's outcome; a 3D/7D follow-up may also record satisfaction (1–5)."""
    if outcome not in OUTCOMES:
        raise field_error("outcome", _l("Choose an outcome."))
    if task.status != OPEN:
        raise field_error("outcome", _l("This task is already closed."))
    if score is not None:
        if task.visit_id is None:
            raise field_error("score", _l("Satisfaction is recorded on a service follow-up."))
        if not 1 <= int(score) <= 5:
            raise field_error("score", _l("Give a score from 1 to 5."))
    task.status = DONE
    task.outcome = outcome
    task.note = (note or "").strip()[:1000] or task.note
    task.done_on = today or dates.today()
    task.done_at = utcnow()
    task.done_by_id = getattr(actor, "id", None)
    if score is not None:
        _record_feedback(task, int(score), comment, actor)
    db.session.flush()
    return task


def _record_feedback(task: CareTask, score: int, comment: str | None, actor) -> ServiceFeedback:
    fb = db.session.execute(
        sa.select(ServiceFeedback).where(ServiceFeedback.chapter_id == task.chapter_id,
                                         ServiceFeedback.visit_id == task.visit_id)
    ).scalar_one_or_none()
    advisor = db.session.execute(
        sa.select(Owner.advisor_id).where(Owner.chapter_id == task.chapter_id,
                                          Owner.id == task.owner_id)).scalar()
    if fb is None:  # the 7D follow-up after a 3D one keeps the latest word of the owner
        fb = ServiceFeedback(chapter_id=task.chapter_id, visit_id=task.visit_id,
                             owner_id=task.owner_id)
        db.session.add(fb)
    fb.task_id, fb.score = task.id, score
    fb.comment = (comment or "").strip()[:1000] or None
    fb.advisor_id = advisor if advisor is not None else task.assignee_id
    fb.recorded_by_id = getattr(actor, "id", None)
    fb.recorded_at = utcnow()
    return fb


def reschedule(task: CareTask, on: date, *, today: date | None = None) -> CareTask:
    if task.status != OPEN:
        raise field_error("scheduled_on", _l("This task is already closed."))
    if on is None or on < (today or dates.today()):
        raise field_error("scheduled_on", _l("Choose today or a later day."))
    task.scheduled_on = on
    db.session.flush()
    return task


def reassign(task: CareTask, assignee_id: int) -> CareTask:
    if task.status != OPEN:
        raise field_error("assignee_id", _l("This task is already closed."))
    _check_staff(task.chapter_id, assignee_id)
    task.assignee_id = assignee_id
    db.session.flush()
    return task


def staff_of(chapter_id: int) -> list[User]:
    return list(db.session.execute(
        sa.select(User).where(User.chapter_id == chapter_id, User.role.in_(CHAPTER_ROLES),
                              User.is_active_user.is_(True))
        .order_by(User.display_name)).scalars())


def owners_by_id(ids) -> dict[int, Owner]:
    ids = list(set(ids))
    if not ids:
        return {}
    return {o.id: o for o in db.session.execute(sa.select(Owner).where(Owner.id.in_(ids))).scalars()}


# --- managers --------------------------------------------------------------------------------

@dataclass
class AdvisorLine:
    assignee_id: int | None
    open_today: int = 0
    overdue: int = 0
    done_today: int = 0

    @property
    def completion(self) -> int:
        total = self.open_today + self.done_today
        return 100 if total == 0 else round(self.done_today * 100 / total)


def team_completion(chapter_id: int, today: date | None = None) -> list[AdvisorLine]:
    """Per advisor: open items planned until today, of which overdue, and done today."""
    today = today or dates.today()
    t = CareTask.__table__
    rows = db.session.execute(
        sa.select(t.c.assignee_id,
                  sa.func.sum(sa.case((sa.and_(t.c.status == OPEN, t.c.scheduled_on <= today), 1),
                                      else_=0)),
                  sa.func.sum(sa.case((sa.and_(t.c.status == OPEN, t.c.due_on < today), 1),
                                      else_=0)),
                  sa.func.sum(sa.case((sa.and_(t.c.status == DONE, t.c.done_on == today), 1),
                                      else_=0)))
        .where(t.c.chapter_id == chapter_id)
        .group_by(t.c.assignee_id)).all()
    return [AdvisorLine(a, int(o or 0), int(v or 0), int(d or 0)) for a, o, v, d in rows
            if (o or 0) + (d or 0) + (v or 0) > 0]


def overdue_query(today: date | None = None) -> sa.Select:
    today = today or dates.today()
    return task_query(until=today).where(CareTask.due_on < today)


def daily_report(chapter_id: int, day: date) -> list[tuple]:
    """Tasks done on ``day`` per advisor and outcome: (assignee_id, outcome, count)."""
    t = CareTask.__table__
    return [tuple(r) for r in db.session.execute(
        sa.select(t.c.done_by_id, t.c.outcome, sa.func.count())
        .where(t.c.chapter_id == chapter_id, t.c.status == DONE, t.c.done_on == day)
        .group_by(t.c.done_by_id, t.c.outcome).order_by(t.c.done_by_id, t.c.outcome)).all()]


PLAN_COLUMNS = ("deliveries_last_month", "renewals_next_month", "birthdays_this_month",
                "owners_at_3_months", "vips")


def monthly_plan(chapter_id: int, month: date) -> dict[int | None, dict[str, int]]:
    """The PDCA plan per advisor for ``month`` (any day of it): counts of owners to work."""
    first = month.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    next_month = care_rules.add_months(first, 1)
    three_ago = care_rules.add_months(first, -3)
    o, v = Owner.__table__, Vehicle.__table__
    live = sa.and_(o.c.chapter_id == chapter_id, o.c.anonymised_at.is_(None))
    car = sa.and_(v.c.chapter_id == o.c.chapter_id, v.c.owner_id == o.c.id)

    def per_advisor(where, join=False):
        frm = o.join(v, car) if join else o
        return db.session.execute(
            sa.select(o.c.advisor_id, sa.func.count(sa.distinct(o.c.id))).select_from(frm)
            .where(live, where).group_by(o.c.advisor_id)).all()

    queries = {
        "deliveries_last_month": per_advisor(sa.and_(v.c.delivery_date >= last_month,
                                                     v.c.delivery_date < first), True),
        "renewals_next_month": per_advisor(sa.and_(
            v.c.insurance_expiry >= next_month,
            v.c.insurance_expiry < care_rules.add_months(next_month, 1)), True),
        "birthdays_this_month": per_advisor(sa.and_(
            o.c.birthday.is_not(None), sa.extract("month", o.c.birthday) == first.month)),
        "owners_at_3_months": per_advisor(sa.and_(
            v.c.delivery_date >= three_ago,
            v.c.delivery_date < care_rules.add_months(three_ago, 1)), True),
        "vips": per_advisor(o.c.is_vip.is_(True)),
    }
    plan: dict[int | None, dict[str, int]] = {}
    for name, rows in queries.items():
        for advisor, n in rows:
            plan.setdefault(advisor, dict.fromkeys(PLAN_COLUMNS, 0))[name] = int(n)
    return plan


def satisfaction_by_advisor(chapter_id: int, since: date | None = None) -> list[tuple]:
    """(advisor_id, answers, average score × 100) from the 3D/7D follow-ups."""
    f = ServiceFeedback.__table__
    q = sa.select(f.c.advisor_id, sa.func.count(), sa.func.avg(f.c.score)).where(
        f.c.chapter_id == chapter_id).group_by(f.c.advisor_id)
    if since is not None:
        q = q.where(f.c.recorded_at >= dates.day_start_utc(since))
    return [(a, int(n), round(float(avg or 0) * 100)) for a, n, avg in db.session.execute(q)]


def visits_by_id(ids) -> dict[int, ServiceVisit]:
    ids = [i for i in set(ids) if i is not None]
    if not ids:
        return {}
    return {v.id: v for v in db.session.execute(
        sa.select(ServiceVisit).where(ServiceVisit.id.in_(ids))).scalars()}


# --- a chapter's own rules ----------------------------------------------------------------------

def save_chapter_rule(chapter_id: int, data: dict) -> ChapterCareRule:
    """Add a rule of a known kind or override HQ's rule of the same code for the chapter."""
    code = (data.get("code") or "").strip().lower()
    if not code or len(code) > 32:
        raise field_error("code", _l("A code of at most 32 characters is required."))
    kind = data.get("kind")
    defaults = {r.code: r for r in care_rules.effective_rules(None)}
    if kind is None and code in defaults:
        kind = defaults[code].kind
    if kind not in care_rules.DEFAULT_RULES and kind not in {r.kind for r in defaults.values()}:
        raise field_error("kind", _l("Choose a kind of rule."))
    params = data.get("params")
    if params is None:
        params = dict(defaults[code].params) if code in defaults else {}
    if not isinstance(params, dict):
        raise field_error("params", _l("Parameters must be an object."))
    channel = data.get("channel") or "phone"
    if channel not in CHANNELS:
        raise field_error("channel", _l("Choose a channel."))
    row = db.session.execute(
        sa.select(ChapterCareRule).where(ChapterCareRule.chapter_id == chapter_id,
                                         ChapterCareRule.code == code)).scalar_one_or_none()
    if row is None:
        row = ChapterCareRule(chapter_id=chapter_id, code=code)
        db.session.add(row)
    row.kind, row.params, row.channel = kind, params, channel
    row.active = bool(data.get("active", True))
    row.label = data.get("label") or None
    db.session.flush()
    return row


# --- HQ -------------------------------------------------------------------------------------------

def save_hq_rule(data: dict):
    """HQ changes a default rule (or adds one) for every chapter."""
    from chapter.care.models import CareRule

    code = (data.get("code") or "").strip().lower()
    if not code or len(code) > 32:
        raise field_error("code", _l("A code of at most 32 characters is required."))
    kind = data.get("kind") or care_rules.DEFAULT_RULES.get(code, {}).get("kind")
    if kind not in {s["kind"] for s in care_rules.DEFAULT_RULES.values()}:
        raise field_error("kind", _l("Choose a kind of rule."))
    channel = data.get("channel") or "phone"
    if channel not in CHANNELS:
        raise field_error("channel", _l("Choose a channel."))
    params = data.get("params")
    if params is None:
        params = dict(care_rules.DEFAULT_RULES.get(code, {}).get("params", {}))
    row = db.session.execute(sa.select(CareRule).where(CareRule.code == code)).scalar_one_or_none()
    if row is None:
        row = CareRule(code=code)
        db.session.add(row)
    row.kind, row.params, row.channel = kind, params, channel
    row.active = bool(data.get("active", True))
    row.label = data.get("label") or None
    db.session.flush()
    return row


def hq_completion(day_from: date, day_to: date) -> list[dict]:
    """Per chapter (with region): tasks due in the period, done, completion %, overdue open."""
    from clubplatform.org.models import Chapter, Dealer, Region

    t = CareTask.__table__
    with unscoped("HQ care completion across chapters"):
        rows = db.session.execute(
            sa.select(t.c.chapter_id, sa.func.count(),
                      sa.func.sum(sa.case((t.c.status == DONE, 1), else_=0)))
            .where(t.c.due_on >= day_from, t.c.due_on <= day_to, t.c.status != CANCELLED)
            .group_by(t.c.chapter_id)).all()
        names = {c.id: (c, d, r) for c, d, r in db.session.execute(
            sa.select(Chapter, Dealer, Region).join(Dealer, Dealer.id == Chapter.dealer_id)
            .join(Region, Region.id == Dealer.region_id)).all()}
    out = []
    for cid, total, done in rows:
        c, d, r = names.get(cid, (None, None, None))
        out.append({"chapter_id": cid, "chapter": getattr(c, "name", str(cid)),
                    "region": getattr(r, "code", ""), "region_name": getattr(r, "name_zh", ""),
                    "due": int(total), "done": int(done or 0),
                    "rate": round(int(done or 0) * 100 / total) if total else 100})
    return sorted(out, key=lambda x: (x["region"], x["chapter"]))


def hq_completion_by_region(lines: list[dict]) -> list[dict]:
    regions: dict[str, dict] = {}
    for line in lines:
        r = regions.setdefault(line["region"], {"region": line["region"],
                                                "region_name": line["region_name"],
                                                "due": 0, "done": 0})
        r["due"] += line["due"]
        r["done"] += line["done"]
    for r in regions.values():
        r["rate"] = round(r["done"] * 100 / r["due"]) if r["due"] else 100
    return sorted(regions.values(), key=lambda x: x["region"])
