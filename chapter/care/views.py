"""Chapter pages of the care list: today (phone first), a task, team, plan, report, rules, outbox."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.care import rules as care_rules
from chapter.care import service
from chapter.care.forms import (
    CHANNEL_LABELS,
    OUTCOME_LABELS,
    STATUS_LABELS,
    OutcomeForm,
    ReassignForm,
    RescheduleForm,
    RuleForm,
)
from chapter.care.models import OUTCOMES
from clubplatform import dates, tabular
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error
from clubplatform.messaging import service as messaging
from clubplatform.security import roles_required

bp = Blueprint("care", __name__, url_prefix="/care")
manager_only = roles_required(CHAPTER_MANAGER)

DAYS_PARAM = {"insurance": "days_before", "inspection": "days_before",
              "maintenance": "days_since_visit", "vip": "every_days"}


def _cid() -> int:
    return current_user.chapter_id


def _who() -> int | None:
    """Whose list: staff see their own; a manager sees everyone's or one advisor's."""
    if current_user.role != CHAPTER_MANAGER:
        return current_user.id
    raw = request.args.get("who", "all")
    if raw == "me":
        return current_user.id
    return int(raw) if raw.isdigit() else None


@bp.route("/")
def today():
    """Today's care list, grouped by reason; unfinished items roll over with their age."""
    who = _who()
    groups = service.today_list(assignee_id=who)
    staff = service.staff_of(_cid())
    return render_template("chapter/care/today.html", groups=groups, staff=staff, who=who,
                           today=dates.today(), channel_labels=CHANNEL_LABELS,
                           count=sum(len(v) for v in groups.values()))


def _render_task(task, *, outcome_form=None, reschedule_form=None, reassign_form=None,
                 status=200):
    owner = service.owners_by_id([task.owner_id]).get(task.owner_id)
    visit = service.visits_by_id([task.visit_id]).get(task.visit_id) if task.visit_id else None
    reassign_form = reassign_form or ReassignForm(assignee_id=task.assignee_id or 0)
    staff = service.staff_of(_cid())
    reassign_form.assignee_id.choices = choices([(u.id, u.display_name) for u in staff])
    names = {u.id: u.display_name for u in staff}
    return render_template(
        "chapter/care/task.html", task=task, owner=owner, visit=visit,
        text=care_rules.reason_text(task.reason, task.number, task.label),
        outcome_form=outcome_form or OutcomeForm(),
        reschedule_form=reschedule_form or RescheduleForm(scheduled_on=task.scheduled_on),
        reassign_form=reassign_form, names=names, today=dates.today(),
        outcome_labels=OUTCOME_LABELS, channel_labels=CHANNEL_LABELS), status


@bp.route("/tasks/<int:task_id>")
def task(task_id: int):
    """One care item: the owner, why, and the forms to record the contact."""
    return _render_task(service.get_task(task_id))


@bp.route("/tasks/<int:task_id>/outcome", methods=["POST"])
def outcome(task_id: int):
    """Record the outcome of the contact (and the visit's satisfaction on a follow-up)."""
    task = service.get_task(task_id)
    form = OutcomeForm()
    if form.validate_on_submit():
        try:
            service.record_outcome(task, form.outcome.data, note=form.note.data,
                                   actor=current_user,
                                   score=int(form.score.data) if form.score.data else None,
                                   comment=form.comment.data)
            db.session.commit()
            flash(_("The outcome has been recorded."), "success")
            return redirect(url_for("chapter.care.today"))
        except DomainError as exc:
            db.session.rollback()
            task = service.get_task(task_id)
            show_domain_error(form, exc)
    return _render_task(task, outcome_form=form, status=422)


@bp.route("/tasks/<int:task_id>/reschedule", methods=["POST"])
def reschedule(task_id: int):
    """Move the item to another day."""
    task = service.get_task(task_id)
    form = RescheduleForm()
    if form.validate_on_submit():
        try:
            service.reschedule(task, form.scheduled_on.data)
            db.session.commit()
            flash(_("The item has been moved."), "success")
            return redirect(url_for("chapter.care.today"))
        except DomainError as exc:
            db.session.rollback()
            task = service.get_task(task_id)
            show_domain_error(form, exc)
    return _render_task(task, reschedule_form=form, status=422)


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
def reassign(task_id: int):
    """Give the item to another advisor of the chapter."""
    task = service.get_task(task_id)
    form = ReassignForm()
    form.assignee_id.choices = choices([(u.id, u.display_name)
                                        for u in service.staff_of(_cid())])
    if form.validate_on_submit():
        try:
            service.reassign(task, form.assignee_id.data)
            db.session.commit()
            flash(_("The item has been reassigned."), "success")
            return redirect(url_for("chapter.care.today"))
        except DomainError as exc:
            db.session.rollback()
            task = service.get_task(task_id)
            show_domain_error(form, exc)
    return _render_task(task, reassign_form=form, status=422)


@bp.route("/team")
@manager_only
def team():
    """The team's completion today and the overdue items."""
    lines = service.team_completion(_cid())
    names = {u.id: u.display_name for u in service.staff_of(_cid())}
    overdue = db.session.execute(service.overdue_query().limit(200)).scalars().all()
    owners = service.owners_by_id(t.owner_id for t in overdue)
    return render_template("chapter/care/team.html", lines=lines, names=names, overdue=overdue,
                           owners=owners, today=dates.today(), reason_text=care_rules.reason_text,
                           satisfaction=service.satisfaction_by_advisor(_cid()))


def _month_arg() -> date:
    raw = request.args.get("month", "")
    try:
        year, month = (int(p) for p in raw.split("-"))
        return date(year, month, 1)
    except ValueError:
        return dates.today().replace(day=1)


@bp.route("/plan")
def plan():
    """The monthly plan per advisor (PDCA)."""
    month = _month_arg()
    rows = service.monthly_plan(_cid(), month)
    names = {u.id: u.display_name for u in service.staff_of(_cid())}
    return render_template("chapter/care/plan.html", month=month, rows=rows, names=names,
                           columns=service.PLAN_COLUMNS)


def _day_arg() -> date:
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return dates.today()


@bp.route("/report")
@manager_only
def report():
    """The daily work report: items done per advisor and outcome; CSV/XLSX export."""
    day = _day_arg()
    rows = service.daily_report(_cid(), day)
    names = {u.id: u.display_name for u in service.staff_of(_cid())}
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        headers = [_("Day"), _("Advisor"), _("Outcome"), _("Items")]
        values = [[day.isoformat(), names.get(a, "—"), str(OUTCOME_LABELS.get(o, o)), n]
                  for a, o, n in rows]
        name = f"care-report-c{_cid()}-{day.isoformat()}.{fmt}"
        if fmt == "csv":
            body, mime = tabular.to_csv(headers, values), "text/csv; charset=utf-8"
        else:
            body = tabular.to_xlsx(headers, values, title="care")
            mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(body, mimetype=mime,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    totals = {o: sum(n for _a, oo, n in rows if oo == o) for o in OUTCOMES}
    return render_template("chapter/care/report.html", day=day, rows=rows, names=names,
                           totals=totals, outcome_labels=OUTCOME_LABELS)


@bp.route("/rules", methods=["GET", "POST"])
@manager_only
def rules():
    """The chapter's care rules: HQ's defaults, switched off or changed here, and its own."""
    form = RuleForm()
    kinds = sorted({r["kind"] for r in care_rules.DEFAULT_RULES.values()})
    form.kind.choices = choices([(k, k) for k in kinds])
    if form.validate_on_submit():
        code = form.code.data.strip().lower()
        existing = {r.code: r for r in care_rules.effective_rules(_cid())}
        params = dict(existing[code].params) if code in existing else None
        key = DAYS_PARAM.get(form.kind.data)
        if key and form.days.data:
            params = {**(params or {}), key: form.days.data}
        try:
            service.save_chapter_rule(_cid(), {
                "code": code, "kind": form.kind.data, "channel": form.channel.data,
                "params": params, "label": form.label.data, "active": form.active.data})
            db.session.commit()
            flash(_("The rule has been saved."), "success")
            return redirect(url_for("chapter.care.rules"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/care/rules.html", form=form,
                           rules=care_rules.effective_rules(_cid()),
                           channel_labels=CHANNEL_LABELS), 422 if request.method == "POST" else 200


@bp.route("/outbox")
@manager_only
def outbox():
    """Automatic messages: queued, sent and failed (failed ones can be sent again)."""
    status = request.args.get("status", "")
    page = db.paginate(messaging.message_query(status=status or None), per_page=50,
                       error_out=False)
    return render_template("chapter/care/outbox.html", page=page, status=status,
                           counts=messaging.status_counts(), status_labels=STATUS_LABELS)


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@manager_only
def retry_message(message_id: int):
    """Send a failed message again."""
    msg = messaging.get_message(message_id)
    try:
        messaging.retry_failed(msg)
        db.session.commit()
        flash(_("The message will be sent again."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("chapter.care.outbox", status="failed"))

