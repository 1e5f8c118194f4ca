"""Chapter pages: complaints (list with the escalated panel, record, work, close, reopen, limits)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.complaints import satisfaction, service
from chapter.complaints.forms import (
    CAUSE_LABELS,
    CHANNEL_LABELS,
    GOODWILL_LABELS,
    KIND_LABELS,
    RAISED_BY_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    AcknowledgeForm,
    CloseForm,
    ComplaintForm,
    ContactForm,
    LimitsForm,
    ReopenForm,
    UpdateForm,
)
from chapter.complaints.models import CAUSES, OPEN, STATUSES
from chapter.owners import service as owners
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.db import utcnow
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

LABELS = dict(cause_labels=CAUSE_LABELS, channel_labels=CHANNEL_LABELS,
              severity_labels=SEVERITY_LABELS, status_labels=STATUS_LABELS,
              kind_labels=KIND_LABELS, goodwill_labels=GOODWILL_LABELS,
              raised_by_labels=RAISED_BY_LABELS, escalation_labels=service.ESCALATION_LABELS)


def _me():
    return current_user._get_current_object()


@bp.app_context_processor
def _complaint_flags():
    """``complaint_flags(owner_ids)`` for any chapter page: open complaints per owner."""
    return {"complaint_flags": service.open_complaint_counts,
            "escalated_complaints": _escalated_panel,
            "escalation_labels_for": lambda reason: service.ESCALATION_LABELS.get(reason, reason)}


def _escalated_panel(limit: int = 5):
    """The escalated complaints for the chapter console's panel: (count, the first few, owners)."""
    stmt = service.escalated_query()
    count = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    first = db.session.execute(stmt.limit(limit)).scalars().all() if count else []
    return count, first, service.owners_of(first)


@bp.route("/")
def index():
    """The chapter's complaints: the escalated ones first (the manager's panel), then open ones."""
    status = request.args.get("status", OPEN)
    status = status if status in STATUSES else ""
    cause = request.args.get("cause", "")
    cause = cause if cause in CAUSES else ""
    mine = request.args.get("mine") == "1"
    owner_id = request.args.get("owner_id", type=int)
    page = db.paginate(service.complaint_query(
        status=status or None, cause=cause or None, owner_id=owner_id,
        assignee_id=current_user.id if mine else None), per_page=50, error_out=False)
    escalated = db.session.execute(service.escalated_query().limit(50)).scalars().all()
    shown = list(page.items) + list(escalated)
    return render_template(
        "chapter/complaints/index.html", page=page, escalated=escalated, status=status,
        cause=cause, mine=mine, owner_id=owner_id, owners=service.owners_of(shown),
        staff=service.staff_names(current_user.chapter_id), statuses=STATUSES, causes=CAUSES,
        now=utcnow(), **LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Record a complaint: first find the owner, then the complaint itself."""
    owner_id = request.args.get("owner_id", type=int)
    if owner_id is None:
        q = request.args.get("q", "").strip()
        found = db.session.execute(owners.owner_query(q=q).limit(20)).scalars().all() if q else []
        return render_template("chapter/complaints/find_owner.html", q=q, found=found)
    owner = owners.get_owner(owner_id)
    staff = service.staff_names(current_user.chapter_id)
    form = ComplaintForm(vehicles=service.owner_vehicles(owner), visits=service.owner_visits(owner),
                         staff=staff)
    if request.method == "GET":
        form.assignee_id.data = str(current_user.id)
        form.visit_id.data = request.args.get("visit_id", "")
    if form.validate_on_submit():
        try:
            complaint = service.record_complaint(owner, {
                "channel": form.channel.data, "cause": form.cause.data,
                "severity": form.severity.data, "description": form.description.data,
                "vehicle_id": form.vehicle_id.data, "visit_id": form.visit_id.data,
                "assignee_id": form.assignee_id.data,
                "callback_due_at": form.callback_due_at.data, "note": form.note.data,
            }, actor=_me())
            db.session.commit()
            flash(_("The complaint has been recorded and acknowledged."), "success")
            return redirect(url_for("chapter.complaints.detail", complaint_id=complaint.id))
        except DomainError as exc:
            db.session.rollback()
            owner = owners.get_owner(owner_id)
            show_domain_error(form, exc)
    return render_template("chapter/complaints/new.html", form=form, owner=owner), \
        (422 if request.method == "POST" else 200)


def _render_detail(complaint, *, status=200, **forms):
    staff = service.staff_names(complaint.chapter_id)
    ack = forms.get("ack_form") or AcknowledgeForm(staff=staff)
    if ack.assignee_id.data is None:
        ack.assignee_id.data = str(complaint.assignee_id or current_user.id)
    update = forms.get("update_form") or UpdateForm(staff=staff)
    if update.assignee_id.data is None:
        update.assignee_id.data = str(complaint.assignee_id or "")
        update.severity.data = complaint.severity
    owner = owners.get_owner(complaint.owner_id)
    member = service.owner_member(complaint)
    return render_template(
        "chapter/complaints/detail.html", complaint=complaint, owner=owner, member=member,
        entries=service.timeline(complaint), staff=staff,
        ack_form=ack, update_form=update,
        contact_form=forms.get("contact_form") or ContactForm(),
        close_form=forms.get("close_form") or CloseForm(),
        reopen_form=forms.get("reopen_form") or ReopenForm(),
        limits=service.limits(complaint.chapter_id), now=utcnow(), **LABELS), status


def _post(complaint_id: int, form_cls, form_name: str, action, done: str, **form_kwargs):
    """Run one form of the detail page: the service call, commit, back to the page."""
    complaint = service.get_complaint(complaint_id)
    form = form_cls(**form_kwargs)
    if form.validate_on_submit():
        try:
            action(complaint, form)
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("chapter.complaints.detail", complaint_id=complaint_id))
        except DomainError as exc:
            db.session.rollback()
            complaint = service.get_complaint(complaint_id)
            show_domain_error(form, exc)
    return _render_detail(complaint, status=422, **{form_name: form})


@bp.route("/<int:complaint_id>")
def detail(complaint_id: int):
    """One complaint: the owner, its timeline, and the forms to work it."""
    return _render_detail(service.get_complaint(complaint_id))


@bp.route("/<int:complaint_id>/acknowledge", methods=["POST"])
def acknowledge(complaint_id: int):
    """Acknowledge a portal or hotline complaint: who owns it and when the owner is called back."""
    return _post(complaint_id, AcknowledgeForm, "ack_form",
                 lambda c, f: service.acknowledge(c, assignee_id=f.assignee_id.data,
                                                  callback_due_at=f.callback_due_at.data,
                                                  note=f.note.data, actor=_me()),
                 _("The complaint has been acknowledged."),
                 staff=service.staff_names(current_user.chapter_id))


@bp.route("/<int:complaint_id>/contacts", methods=["POST"])
def add_contact(complaint_id: int):
    """Log a contact with the owner, and maybe promise the next call-back."""
    return _post(complaint_id, ContactForm, "contact_form",
                 lambda c, f: service.log_contact(c, f.note.data,
                                                  callback_due_at=f.callback_due_at.data,
                                                  visible_to_owner=f.visible_to_owner.data,
                                                  actor=_me()),
                 _("The contact has been logged."))


@bp.route("/<int:complaint_id>/update", methods=["POST"])
def update(complaint_id: int):
    """Hand the complaint to another staff member, change its severity or promise."""
    return _post(complaint_id, UpdateForm, "update_form",
                 lambda c, f: service.update_complaint(c, {
                     "assignee_id": f.assignee_id.data, "severity": f.severity.data,
                     "callback_due_at": f.callback_due_at.data}, actor=_me()),
                 _("The complaint has been updated."),
                 staff=service.staff_names(current_user.chapter_id))


@bp.route("/<int:complaint_id>/close", methods=["POST"])
def close(complaint_id: int):
    """Close with the resolution, any goodwill and the owner's satisfaction."""
    return _post(complaint_id, CloseForm, "close_form",
                 lambda c, f: service.close_complaint(c, {
                     "resolution": f.resolution.data, "goodwill_kind": f.goodwill_kind.data,
                     "goodwill_points": f.goodwill_points.data,
                     "goodwill_reason": f.goodwill_reason.data,
                     "voucher_note": f.voucher_note.data,
                     "satisfaction": f.satisfaction.data}, actor=_me()),
                 _("The complaint has been closed."))


@bp.route("/<int:complaint_id>/reopen", methods=["POST"])
def reopen(complaint_id: int):
    """Reopen a closed complaint; its history stays."""
    return _post(complaint_id, ReopenForm, "reopen_form",
                 lambda c, f: service.reopen_complaint(c, f.reason.data, actor=_me()),
                 _("The complaint has been reopened."))


@bp.route("/limits", methods=["GET", "POST"])
def limits():
    """The chapter's limits: days before an open complaint escalates, goodwill points (manager)."""
    if current_user.role != CHAPTER_MANAGER:
        abort(403)
    current = service.limits(current_user.chapter_id)
    form = LimitsForm(data={"open_limit_days": current.open_limit_days,
                            "goodwill_limit_points": current.goodwill_limit_points}
                      if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            service.update_limits(current_user.chapter_id, {
                "open_limit_days": form.open_limit_days.data,
                "goodwill_limit_points": form.goodwill_limit_points.data or 0}, actor=_me())
            db.session.commit()
            flash(_("The limits have been saved."), "success")
            return redirect(url_for("chapter.complaints.limits"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/complaints/limits.html", form=form), \
        (422 if request.method == "POST" else 200)


@bp.route("/satisfaction")
def service_satisfaction():
    """Satisfaction after service visits (3D/7D follow-up) per advisor, and the chapter's."""
    start, end = _period_args()
    report = satisfaction.per_advisor(current_user.chapter_id, start=start, end=end)
    overall = satisfaction.chapter_average(current_user.chapter_id, start=start, end=end)
    return render_template("chapter/complaints/satisfaction.html", report=report,
                           overall=overall, start=start, end=end)


def _period_args():
    from chapter.complaints.analytics import default_period

    d_start, d_end = default_period()
    start = _date_arg("start") or d_start
    end = _date_arg("end") or d_end
    return start, end


def _date_arg(name):
    from datetime import date

    value = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None

