"""Chapter pages: events, the calendar, registrations, the check-in page, audience, summary."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.events import audience, service
from chapter.events.forms import (
    TIER_LABELS,
    ActionForm,
    AudienceForm,
    CancelEventForm,
    CheckInForm,
    EventForm,
    WalkInForm,
)
from chapter.events.models import REGISTERED, WAITLISTED
from clubplatform import dates
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import client_ip, roles_required
from hq.perks import codes

bp = Blueprint("events", __name__, url_prefix="/events")

manager_only = roles_required(CHAPTER_MANAGER)


def _me():
    return current_user._get_current_object()


@bp.context_processor
def _helpers():
    return {"type_labels": service.TYPE_LABELS,
            "registration_labels": service.REGISTRATION_LABELS,
            "local": dates.local, "display_code": codes.display}


def _event_or_404(event_id: int):
    try:
        return service.get_event(event_id)
    except DomainError:
        abort(404)


@bp.route("/")
def index():
    """The chapter's events: upcoming first, or the past ones."""
    past = request.args.get("past") == "1"
    page = db.paginate(service.event_query(upcoming=not past), per_page=30, error_out=False)
    return render_template("chapter/events/index.html", page=page, past=past)


@bp.route("/calendar")
def calendar():
    """The chapter's calendar: one month, phone-friendly."""
    today = dates.today()
    year, month = today.year, today.month
    text = request.args.get("month", "")
    try:
        y, m = (int(p) for p in text.split("-"))
        if 2000 <= y <= 2100 and 1 <= m <= 12:
            year, month = y, m
    except ValueError:
        pass
    prev_m = (year - 1, 12) if month == 1 else (year, month - 1)
    next_m = (year + 1, 1) if month == 12 else (year, month + 1)
    return render_template("chapter/events/calendar.html",
                           weeks=service.month_calendar(year, month), year=year, month=month,
                           prev=f"{prev_m[0]:04d}-{prev_m[1]:02d}",
                           next=f"{next_m[0]:04d}-{next_m[1]:02d}", today=today)


def _templates():
    return db.session.execute(service.template_query()).scalars().all()


@bp.route("/new", methods=["GET", "POST"])
@manager_only
def new():
    """Create an event, from an HQ template or not, once or as a series."""
    form = EventForm(templates=_templates())
    if request.method == "GET":
        form.starts_at.data = form.starts_at.data or service.default_start()
        if request.args.get("template_id"):
            form.template_id.data = request.args["template_id"]
    if form.validate_on_submit():
        template_id = int(form.template_id.data) if form.template_id.data else None
        try:
            if form.frequency.data:
                _series, events = service.create_series(
                    current_user.chapter_id, form.event_data(), frequency=form.frequency.data,
                    occurrences=form.occurrences.data, template_id=template_id, actor=_me(),
                    ip=client_ip())
                event = events[0]
                message = _("%(n)s events have been created.", n=len(events))
            else:
                event = service.create_event(current_user.chapter_id, form.event_data(),
                                             template_id=template_id, actor=_me(), ip=client_ip())
                message = _("The event has been created.")
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("chapter.events.detail", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/events/form.html", form=form, event=None), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:event_id>")
def detail(event_id: int):
    """One event: figures, registrations and waitlist, and what staff can do."""
    event = _event_or_404(event_id)
    rows = db.session.execute(service.registrations_query(event.id).limit(1000)).all()
    return render_template(
        "chapter/events/detail.html", event=event, summary=service.summary(event),
        registered=[(r, m) for r, m in rows if r.status == REGISTERED],
        waiting=[(r, m) for r, m in rows if r.status == WAITLISTED],
        cancelled=[(r, m) for r, m in rows if r.status not in (REGISTERED, WAITLISTED)],
        feedback=service.feedback_list(event.id), cancel_form=CancelEventForm(),
        action_form=ActionForm(), ended=event.ends_at <= service.utcnow())


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@manager_only
def edit(event_id: int):
    """Change an event (capacity never below the seats taken)."""
    event = _event_or_404(event_id)
    form = EventForm(obj=event)
    if request.method == "GET":
        for name in ("starts_at", "ends_at", "rsvp_deadline"):
            getattr(form, name).data = service.local_input(getattr(event, name))
    if form.validate_on_submit():
        try:
            service.update_event(event.id, form.event_data(), actor=_me(), ip=client_ip())
            db.session.commit()
            flash(_("The event has been saved."), "success")
            return redirect(url_for("chapter.events.detail", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            event = _event_or_404(event_id)
    return render_template("chapter/events/form.html", form=form, event=event), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@manager_only
def cancel(event_id: int):
    """Cancel the event, with the reason."""
    event = _event_or_404(event_id)
    form = CancelEventForm()
    if form.validate_on_submit():
        try:
            service.cancel_event(event.id, form.reason.data, actor=_me(), ip=client_ip())
            db.session.commit()
            flash(_("The event has been cancelled."), "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    else:
        flash(_("Give the reason the event is cancelled."), "error")
    return redirect(url_for("chapter.events.detail", event_id=event.id))


@bp.route("/<int:event_id>/no-shows", methods=["POST"])
def no_shows(event_id: int):
    """After the event: mark no-shows and settle attendance points."""
    event = _event_or_404(event_id)
    if ActionForm().validate_on_submit():
        try:
            closing = service.mark_no_shows(event.id, actor=_me())
            db.session.commit()
            flash(_("%(n)s no-shows marked.", n=closing.no_shows), "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("chapter.events.detail", event_id=event.id))


# --- check-in at the door (phone) ----------------------------------------------------------

def _render_check_in(event, *, form=None, walk_in_form=None, result=None, status=200):
    q = request.args.get("q", "").strip()
    found = db.session.execute(service.registrations_query(event.id, q=q).limit(30)
                               ).all() if q else []
    return render_template("chapter/events/check_in.html", event=event,
                           form=form or CheckInForm(), walk_in_form=walk_in_form or WalkInForm(),
                           action_form=ActionForm(), q=q, found=found, result=result,
                           summary=service.summary(event)), status


@bp.route("/<int:event_id>/check-in", methods=["GET", "POST"])
def check_in(event_id: int):
    """The door: scan or type a registration code, or search by name or mobile."""
    event = _event_or_404(event_id)
    form = CheckInForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            registration = service.find_by_code(event, form.code.data)
            result = service.check_in(event, registration, actor=_me())
            db.session.commit()
            _flash_check_in(result)
            return redirect(url_for("chapter.events.check_in", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            event = _event_or_404(event_id)
            return _render_check_in(event, form=form, status=422)
    return _render_check_in(event, form=form)


def _flash_check_in(result: service.CheckIn) -> None:
    if result.newly:
        flash(_("Checked in. Welcome!") + (" " + _("%(n)s points awarded.", n=result.points)
                                           if result.points else ""), "success")
    else:
        flash(_("Already checked in."), "info")


@bp.route("/<int:event_id>/registrations/<int:registration_id>/check-in", methods=["POST"])
def check_in_registration(event_id: int, registration_id: int):
    """Check in a registration found by search."""
    event = _event_or_404(event_id)
    try:
        registration = service.get_registration(registration_id, event_id=event.id)
    except DomainError:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            _flash_check_in(service.check_in(event, registration, actor=_me()))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("chapter.events.check_in", event_id=event.id))


@bp.route("/<int:event_id>/walk-in", methods=["POST"])
def walk_in(event_id: int):
    """Add someone at the door and check them in."""
    event = _event_or_404(event_id)
    form = WalkInForm()
    if form.validate_on_submit():
        try:
            result = service.add_walk_in(
                event.id, member_number_or_mobile=form.member_number_or_mobile.data,
                name=form.name.data, mobile=form.mobile.data, guests=form.guests.data or 0,
                actor=_me())
            db.session.commit()
            _flash_check_in(result)
            return redirect(url_for("chapter.events.check_in", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            event = _event_or_404(event_id)
    return _render_check_in(event, walk_in_form=form, status=422)


# --- audience and invitations --------------------------------------------------------------

@bp.route("/<int:event_id>/audience", methods=["GET", "POST"])
@manager_only
def audience_page(event_id: int):
    """Choose the audience with filters, see the count, then send the invitations."""
    event = _event_or_404(event_id)
    form = AudienceForm(request.args if request.method == "GET" else request.form)
    count, status = None, 200
    if request.method == "GET" and request.args:
        try:
            count = audience.audience_count(event, form.filters())
        except DomainError as exc:
            show_domain_error(form, exc)
            status = 422
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        try:
            result = audience.invite(event, form.filters(), actor=_me(), ip=client_ip())
            db.session.commit()
            flash(_("%(n)s members invited.", n=result["invited"]), "success")
            return redirect(url_for("chapter.events.detail", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            event = _event_or_404(event_id)
            status = 422
    return render_template("chapter/events/audience.html", event=event, form=form, count=count,
                           action_form=ActionForm(), tier_labels=TIER_LABELS), status
