"""Member portal: raise a complaint and follow it (a child of the portal blueprint)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.complaints import service
from chapter.complaints.forms import (
    CAUSE_LABELS,
    GOODWILL_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    PortalComplaintForm,
)
from chapter.portal import service as portal
from clubplatform.auth.models import MEMBER
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import roles_required

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

member_only = roles_required(MEMBER)


def _me():
    return current_user._get_current_object()


def _owner_or_home():
    """The portal user's owner record at their chapter, or a redirect home."""
    owner = portal.portal_owner(_me(), portal.portal_member(_me()))
    if owner is None:
        flash(_("Your owner record was not found at the chapter."), "info")
        return None, redirect(url_for("portal.home"))
    return owner, None


@bp.route("/", methods=["GET", "POST"])
@member_only
def index():
    """The owner's complaints, and the form to raise a new one."""
    owner, away = _owner_or_home()
    if away:
        return away
    form = PortalComplaintForm(vehicles=service.owner_vehicles(owner),
                               visits=service.owner_visits(owner, limit=10))
    if form.validate_on_submit():
        try:
            complaint = service.raise_from_portal(owner, {
                "cause": form.cause.data, "description": form.description.data,
                "vehicle_id": form.vehicle_id.data, "visit_id": form.visit_id.data}, actor=_me())
            db.session.commit()
            flash(_("Thank you. The chapter will contact you today."), "success")
            return redirect(url_for("portal.complaints.detail", complaint_id=complaint.id))
        except DomainError as exc:
            db.session.rollback()
            owner, _away = _owner_or_home()
            show_domain_error(form, exc)
    page = db.paginate(service.owner_complaints_query(owner), per_page=20, error_out=False)
    return render_template("portal/complaints/index.html", form=form, page=page,
                           cause_labels=CAUSE_LABELS, status_labels=STATUS_LABELS), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:complaint_id>")
@member_only
def detail(complaint_id: int):
    """One of the owner's complaints: where it stands and what was said."""
    owner, away = _owner_or_home()
    if away:
        return away
    complaint = service.get_owner_complaint(owner, complaint_id)
    return render_template("portal/complaints/detail.html", complaint=complaint,
                           entries=service.timeline(complaint, owner_view=True),
                           cause_labels=CAUSE_LABELS, status_labels=STATUS_LABELS,
                           kind_labels=KIND_LABELS, goodwill_labels=GOODWILL_LABELS)
