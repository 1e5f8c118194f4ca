"""The care rules: defaults, how HQ and a chapter change them, and one SQL statement each.

A rule is data: ``code``, ``kind``, ``params``, ``channel``, ``active``. The built-in
:data:`DEFAULT_RULES` are what HQ starts with; an HQ row (:class:`CareRule`) with the
same code replaces one; a chapter's row (:class:`ChapterCareRule`) replaces HQ's for
that chapter or adds a rule of a known kind under a new code.

Each kind turns into set-based ``INSERT … SELECT … ON CONFLICT DO NOTHING`` statements
for one chapter and one business day (:func:`statements`), never a loop over owners.
The key ``(chapter_id, owner_id, reason, due_on, source_key='')`` makes a rerun add
nothing.

Dates: a birthday on 29 February is kept on 28 February in common years; "month N
after delivery" is the delivery date N months on, clamped to the month's last day
(31 January + 1 month = 28/29 February).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from chapter.care.models import BIGINT, CareRule, CareTask, ChapterCareRule
from chapter.owners.models import Owner, ServiceVisit, Vehicle
from clubplatform.auth.models import CHAPTER_MANAGER, User
from clubplatform.db import insert, utcnow
from clubplatform.extensions import db

#: the after-delivery schedule of DOMAIN.md: day 2, week 2, months 1, 2, 4, 9, then every
#: 3 months to month 36, every 2 months from 36 to 48, monthly after 48
AFTER_DELIVERY = {"days": [2, 14], "months": [1, 2, 4, 9],
                  "every": [[3, 9, 36], [2, 36, 48], [1, 48, None]]}
#: the after-delivery day whose contact is the manager's own ("week 2: thanks from the
#: manager"); the other contacts go to the owner's advisor
MANAGER_THANKS_DAY = 14

DEFAULT_RULES: dict[str, dict] = {
    "birthday": {"kind": "birthday", "params": {}, "channel": "phone"},
    "car_birthday": {"kind": "car_birthday", "params": {}, "channel": "phone"},
    "after_delivery": {"kind": "after_delivery", "params": AFTER_DELIVERY, "channel": "phone"},
    "vip": {"kind": "vip", "params": {"every_days": 30}, "channel": "phone"},
    "insurance": {"kind": "insurance", "params": {"days_before": 30}, "channel": "phone"},
    "inspection": {"kind": "inspection", "params": {"days_before": 30}, "channel": "phone"},
    "maintenance": {"kind": "maintenance", "params": {"days_since_visit": 180},
                    "channel": "phone"},
    "follow_up": {"kind": "follow_up", "params": {"days": [3, 7]}, "channel": "phone"},
}


@dataclass
class Rule:
    code: str
    kind: str
    params: dict = field(default_factory=dict)
    channel: str = "phone"
    active: bool = True
    label: str | None = None
    #: ``default``, ``hq`` or ``chapter``: where the effective rule comes from
    origin: str = "default"


def effective_rules(chapter_id: int | None = None) -> list[Rule]:
    """The rules that apply to a chapter: defaults ← HQ rows ← the chapter's rows."""
    rules = {code: Rule(code=code, **spec) for code, spec in DEFAULT_RULES.items()}
    for row in db.session.execute(sa.select(CareRule).order_by(CareRule.code)).scalars():
        rules[row.code] = Rule(row.code, row.kind, dict(row.params or {}), row.channel,
                               row.active, row.label, "hq")
    if chapter_id is not None:
        own = db.session.execute(
            sa.select(ChapterCareRule).where(ChapterCareRule.chapter_id == chapter_id)
            .order_by(ChapterCareRule.code)).scalars()
        for row in own:
            rules[row.code] = Rule(row.code, row.kind, dict(row.params or {}), row.channel,
                                   row.active, row.label, "chapter")
    return list(rules.values())


# -- dates ----------------------------------------------------------------------------------

def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months, clamped to the month's last day."""
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def anniversary_in(d: date, year: int) -> date:
    """The anniversary of ``d`` in ``year`` (29 February → 28 February in a common year)."""
    if d.month == 2 and d.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return d.replace(year=year)


def after_delivery_month_due(months: int, params: dict | None = None) -> bool:
    """Is month ``months`` after delivery a care contact in the schedule?"""
    p = params or AFTER_DELIVERY
    if months in p.get("months", []):
        return True
    for step, start, end in p.get("every", []):
        if months > start and (end is None or months <= end) and (months - start) % step == 0:
            return True
    return False


def after_delivery_dates(delivery: date, until: date, params: dict | None = None) -> list[date]:
    """Every after-delivery contact date from ``delivery`` to ``until`` (for the plan/tests)."""
    p = params or AFTER_DELIVERY
    out = [delivery + timedelta(days=n) for n in p.get("days", [])]
    m = 1
    while add_months(delivery, m) <= until:
        if after_delivery_month_due(m, p):
            out.append(add_months(delivery, m))
        m += 1
    return sorted(d for d in out if d <= until)


# -- reasons ----------------------------------------------------------------------------------

def reason_text(reason: str, number: int | None = None, label: str | None = None) -> str:
    """The reason in the user's language, e.g. "交车后第4个月回访", "车辆生日 3 周年"."""
    n = number if number is not None else 0
    if reason == "birthday":
        return _("Owner's birthday")
    if reason == "car_birthday":
        return _("Car birthday, %(years)s years", years=n)
    if reason == "delivery_day":
        if n == 14:
            return _("Week 2 after delivery: thanks from the manager")
        return _("Day %(days)s after delivery", days=n)
    if reason == "delivery_month":
        return _("Month %(months)s after delivery", months=n)
    if reason == "vip":
        return _("VIP monthly contact")
    if reason == "insurance":
        return _("Insurance expires in %(days)s days", days=n)
    if reason == "inspection":
        return _("Inspection due in %(days)s days", days=n)
    if reason == "maintenance":
        return _("Maintenance due: %(days)s days since the last visit", days=n)
    if reason.startswith("follow_up_"):
        return _("%(days)s-day follow-up after a service visit", days=n)
    return label or reason


# -- SQL ----------------------------------------------------------------------------------------

def _md_match(col, day: date):
    """SQL: the month/day of ``col`` is ``day`` (29 Feb on 28 Feb in a common year)."""
    month, dom = sa.extract("month", col), sa.extract("day", col)
    same = sa.and_(month == day.month, dom == day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        return sa.or_(same, sa.and_(month == 2, dom == 29))
    return same


def _months_between(col, day: date):
    return (day.year * 12 + day.month) - (sa.extract("year", col) * 12 + sa.extract("month", col))


def _same_day_of_month(col, day: date):
    """SQL: ``col`` + whole months lands on ``day`` (a later day-of-month clamps to month end)."""
    dom = sa.extract("day", col)
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return dom >= day.day
    return dom == day.day


def _months_in_schedule(m, params: dict):
    conds = [m.in_([int(x) for x in params.get("months", [])] or [-1])]
    for step, start, end in params.get("every", []):
        c = sa.and_(m > int(start), (m - int(start)) % int(step) == 0)
        if end is not None:
            c = sa.and_(c, m <= int(end))
        conds.append(c)
    return sa.or_(*conds)


COLUMNS = ("chapter_id", "owner_id", "vehicle_id", "visit_id", "reason", "rule_code", "number",
           "due_on", "scheduled_on", "channel", "assignee_id", "status", "source_key",
           "created_at", "updated_at")


def _row(chapter_id, day, rule: Rule, reason, owner_id, *, vehicle_id=None, visit_id=None,
         number=None, assignee=None):
    now = utcnow()
    # typed NULLs: the rules' SELECTs are also joined by UNION ALL (insert_all), whose
    # column types PostgreSQL resolves pair by pair (two untyped NULLs would make text)
    return [sa.literal(chapter_id), owner_id,
            vehicle_id if vehicle_id is not None else sa.cast(sa.null(), BIGINT),
            visit_id if visit_id is not None else sa.cast(sa.null(), BIGINT),
            sa.literal(reason), sa.literal(rule.code),
            number if number is not None else sa.cast(sa.null(), sa.Integer),
            sa.literal(day, sa.Date), sa.literal(day, sa.Date), sa.literal(rule.channel),
            assignee, sa.literal("open"), sa.literal(""),
            sa.literal(now, CareTask.__table__.c.created_at.type),
            sa.literal(now, CareTask.__table__.c.updated_at.type)]


def _chapter_manager(chapter_id: int):
    """The chapter's first active manager (lowest id), as a scalar subquery."""
    u = User.__table__
    return (sa.select(sa.func.min(u.c.id))
            .where(u.c.chapter_id == chapter_id, u.c.role == CHAPTER_MANAGER,
                   u.c.is_active_user.is_(True))
            .scalar_subquery())


def statements(chapter_id: int, day: date, rule: Rule) -> list[sa.Select]:
    """The SELECTs producing the rule's task rows for one chapter and day (columns: COLUMNS)."""
    o, v, sv = Owner.__table__, Vehicle.__table__, ServiceVisit.__table__
    t = CareTask.__table__
    live = sa.and_(o.c.chapter_id == chapter_id, o.c.anonymised_at.is_(None))
    car = sa.and_(v.c.chapter_id == o.c.chapter_id, v.c.owner_id == o.c.id)
    p = rule.params or {}
    k = rule.kind
    out: list[sa.Select] = []

    def owners_select(cols, *where, frm=o):
        return sa.select(*cols).select_from(frm).where(live, *where)

    if k == "birthday":
        out.append(owners_select(_row(chapter_id, day, rule, "birthday", o.c.id,
                                      assignee=o.c.advisor_id),
                                 o.c.birthday.is_not(None), _md_match(o.c.birthday, day)))
    elif k == "car_birthday":
        years = day.year - sa.extract("year", v.c.delivery_date)
        out.append(owners_select(
            _row(chapter_id, day, rule, "car_birthday", o.c.id, vehicle_id=v.c.id,
                 number=sa.cast(years, sa.Integer), assignee=o.c.advisor_id),
            v.c.delivery_date.is_not(None), v.c.delivery_date < date(day.year, 1, 1),
            _md_match(v.c.delivery_date, day), frm=o.join(v, car)))
    elif k == "after_delivery":
        for n in p.get("days", []):
            # the manager thanks the owner in week 2 (the chapter's first active manager;
            # the advisor where the chapter has none)
            who = (sa.func.coalesce(_chapter_manager(chapter_id), o.c.advisor_id)
                   if int(n) == MANAGER_THANKS_DAY else o.c.advisor_id)
            out.append(owners_select(
                _row(chapter_id, day, rule, "delivery_day", o.c.id, vehicle_id=v.c.id,
                     number=sa.literal(int(n)), assignee=who),
                v.c.delivery_date == day - timedelta(days=int(n)), frm=o.join(v, car)))
        m = _months_between(v.c.delivery_date, day)
        out.append(owners_select(
            _row(chapter_id, day, rule, "delivery_month", o.c.id, vehicle_id=v.c.id,
                 number=sa.cast(m, sa.Integer), assignee=o.c.advisor_id),
            v.c.delivery_date.is_not(None), v.c.delivery_date < day - timedelta(days=27),
            _same_day_of_month(v.c.delivery_date, day), _months_in_schedule(m, p),
            frm=o.join(v, car)))
    elif k == "vip":
        since = day - timedelta(days=int(p.get("every_days", 30)))
        recent_vip = sa.select(t.c.id).where(
            t.c.chapter_id == chapter_id, t.c.owner_id == o.c.id, t.c.reason == "vip",
            t.c.due_on > since)
        recent_contact = sa.select(t.c.id).where(
            t.c.chapter_id == chapter_id, t.c.owner_id == o.c.id, t.c.status == "done",
            t.c.outcome.in_(("reached", "appointment_booked", "complaint_raised")),
            t.c.done_on > since)
        out.append(owners_select(_row(chapter_id, day, rule, "vip", o.c.id,
                                      assignee=o.c.advisor_id),
                                 o.c.is_vip.is_(True), ~sa.exists(recent_vip),
                                 ~sa.exists(recent_contact)))
    elif k in ("insurance", "inspection"):
        n = int(p.get("days_before", 30))
        col = v.c.insurance_expiry if k == "insurance" else v.c.next_inspection_on
        out.append(owners_select(
            _row(chapter_id, day, rule, k, o.c.id, vehicle_id=v.c.id, number=sa.literal(n),
                 assignee=o.c.advisor_id),
            col == day + timedelta(days=n), frm=o.join(v, car)))
    elif k == "maintenance":
        n = int(p.get("days_since_visit", 180))
        last = (sa.select(sv.c.owner_id.label("owner_id"),
                          sa.func.max(sv.c.visit_date).label("last_visit"))
                .where(sv.c.chapter_id == chapter_id,
                       sv.c.visit_date >= day - timedelta(days=n))
                .group_by(sv.c.owner_id)
                .having(sa.func.max(sv.c.visit_date) == day - timedelta(days=n))).subquery()
        out.append(owners_select(
            _row(chapter_id, day, rule, "maintenance", o.c.id, number=sa.literal(n),
                 assignee=o.c.advisor_id),
            frm=o.join(last, last.c.owner_id == o.c.id)))
    elif k == "follow_up":
        for n in p.get("days", [3, 7]):
            n = int(n)
            out.append(owners_select(
                _row(chapter_id, day, rule, f"follow_up_{n}d", o.c.id, vehicle_id=sv.c.vehicle_id,
                     visit_id=sv.c.id, number=sa.literal(n), assignee=o.c.advisor_id),
                sv.c.visit_date == day - timedelta(days=n),
                frm=o.join(sv, sa.and_(sv.c.chapter_id == o.c.chapter_id,
                                       sv.c.owner_id == o.c.id))))
    return out


def _insert(select) -> sa.Insert:
    """``INSERT INTO care_tasks … SELECT … ON CONFLICT DO NOTHING RETURNING rule_code``."""
    t = CareTask.__table__
    return (insert(t).from_select(list(COLUMNS), select).on_conflict_do_nothing()
            .returning(t.c.rule_code))


def insert_tasks(select: sa.Select) -> int:
    """Run one rule statement: insert its rows, skipping those already on the list."""
    # RETURNING counts the rows really added (psycopg reports no rowcount for INSERT … SELECT)
    return len(db.session.execute(_insert(select)).fetchall())


def insert_all(chapter_id: int, day: date, rules: list[Rule]) -> dict[str, int]:
    """Every rule's rows for the chapter and day in one ``INSERT … SELECT … UNION ALL …``.

    The same rows as :func:`insert_tasks` over each rule's :func:`statements`, in one
    statement and one round trip (the nightly job runs once per chapter: 800 a night).
    Returns the rows added per rule code.
    """
    selects = [s for rule in rules if rule.active for s in statements(chapter_id, day, rule)]
    added = dict.fromkeys((r.code for r in rules if r.active), 0)
    if not selects:
        return added
    select = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    for code in db.session.execute(_insert(select)).scalars():
        added[code] = added.get(code, 0) + 1
    return added
