"""Member portal: the chapter's events, RSVP with guests, cancel, check-in code, feedback."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.events import service
from chapter.events.forms import FeedbackForm, RsvpForm
from chapter.events.models import WITHDRAWN
from chapter.portal import service as portal
from clubplatform import dates
from clubplatform.auth.models import MEMBER
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import roles_required
from hq.perks import codes
from hq.perks.service import qr_svg

bp = Blueprint("events", __name__, url_prefix="/events")

member_only = roles_required(MEMBER)


def _member_or_home():
    member = portal.portal_member(current_user._get_current_object())
    if member is None:
        flash(_("This is open to members once their application is approved."), "info")
        return None, redirect(url_for("portal.home"))
    return member, None


@bp.context_processor
def _helpers():
    return {"type_labels": service.TYPE_LABELS, "local": dates.local,
            "registration_labels": service.REGISTRATION_LABELS}


@bp.route("/")
@member_only
def index():
    """Upcoming events of the member's chapter, with the member's RSVP, and past ones."""
    member, away = _member_or_home()
    if away:
        return away
    upcoming = db.session.execute(service.member_events_query(member.id).limit(100)).all()
    mine = db.session.execute(service.member_registrations_query(member.id).limit(50)).all()
    now = service.utcnow()
    past = [(r, e) for r, e in mine if e.ends_at < now]
    return render_template("portal/events/index.html", upcoming=upcoming, past=past)


def _render_detail(member, event, *, rsvp_form=None, feedback_form=None, status=200):
    registration = service.member_registration(event.id, member.id)
    now = service.utcnow()
    return render_template(
        "portal/events/detail.html", event=event, registration=registration,
        position=service.waitlist_position(registration) if registration else None,
        qr=qr_svg(registration.code) if registration and registration.status != WITHDRAWN
        else None, display_code=codes.display(registration.code) if registration else None,
        rsvp_form=rsvp_form or RsvpForm(), feedback_form=feedback_form or FeedbackForm(),
        feedback=service.member_feedback(event.id, member.id),
        rsvp_open=event.status == "scheduled" and now <= event.rsvp_deadline,
        started=now >= event.starts_at,
        seats_left=max(event.capacity - service.seats_taken(event.id), 0)), status


def _event_or_404(event_id):
    try:
        return service.get_event(event_id)
    except DomainError:
        abort(404)


@bp.route("/<int:event_id>")
@member_only
def detail(event_id: int):
    """One event: details, the member's RSVP (code and QR code), feedback afterwards."""
    member, away = _member_or_home()
    if away:
        return away
    return _render_detail(member, _event_or_404(event_id))


@bp.route("/<int:event_id>/rsvp", methods=["POST"])
@member_only
def rsvp(event_id: int):
    """RSVP (with guests); when full, join the waitlist."""
    member, away = _member_or_home()
    if away:
        return away
    event = _event_or_404(event_id)
    form = RsvpForm()
    if form.validate_on_submit():
        try:
            result = service.rsvp(event.id, member.id, guests=form.guests.data or 0,
                                  actor=current_user._get_current_object())
            db.session.commit()
            if result.registration.status == "waitlisted":
                flash(_("The event is full: you are on the waitlist. We will tell you when a "
                        "seat frees up."), "info")
            else:
                flash(_("You are registered. Show your code at the door."), "success")
            return redirect(url_for("portal.events.detail", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            event = _event_or_404(event_id)
    return _render_detail(member, event, rsvp_form=form, status=422)


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@member_only
def cancel(event_id: int):
    """Cancel the member's RSVP or waitlist place."""
    member, away = _member_or_home()
    if away:
        return away
    event = _event_or_404(event_id)
    registration = service.member_registration(event.id, member.id)
    if registration is None:
        abort(404)
    if RsvpForm().validate_on_submit():
        try:
            service.cancel_registration(registration.id, member_id=member.id,
                                        actor=current_user._get_current_object())
            db.session.commit()
            flash(_("Your registration has been cancelled."), "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("portal.events.detail", event_id=event.id))


@bp.route("/<int:event_id>/feedback", methods=["POST"])
@member_only
def feedback(event_id: int):
    """Rate the event attended (1–5) with a comment, once."""
    member, away = _member_or_home()
    if away:
        return away
    event = _event_or_404(event_id)
    form = FeedbackForm()
    if form.validate_on_submit():
        try:
            service.give_feedback(event.id, member.id, form.rating.data, form.comment.data)
            db.session.commit()
            flash(_("Thank you for your feedback!"), "success")
            return redirect(url_for("portal.events.detail", event_id=event.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            event = _event_or_404(event_id)
    return _render_detail(member, event, feedback_form=form, status=422)
