"""Chapter pages: referrals and leads."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.referrals import service
from chapter.referrals.forms import (
    GRADE_LABELS,
    STATUS_LABELS,
    LeadForm,
    LostForm,
    NoteForm,
    PurchaseForm,
    grade_choices,
    status_choices,
)
from chapter.referrals.models import GRADES, LEAD_STATUSES, OPEN, PURCHASED
from clubplatform import dates
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import client_ip

bp = Blueprint("leads", __name__, url_prefix="/leads")


@bp.route("/")
def index():
    """The chapter's leads: due follow-ups first; referral purchases per month."""
    status = request.args.get("status", OPEN)
    status = status if status in LEAD_STATUSES else ""
    grade = request.args.get("grade", "")
    grade = grade if grade in GRADES else ""
    q = request.args.get("q", "").strip()
    page = db.paginate(service.lead_query(status=status or None, grade=grade or None, q=q or None),
                       per_page=50, error_out=False)
    months = service.referral_purchases_by_month(12)
    return render_template(
        "chapter/leads/index.html", page=page, status=status, grade=grade, q=q,
        referrers=service.referrers_of(page.items), months=months,
        months_max=max([m.count for m in months] + [1]),
        status_choices=status_choices(), grade_choices=grade_choices(_("All")),
        grade_labels=GRADE_LABELS, status_labels=STATUS_LABELS, today=dates.today(),
        is_due=service.is_due)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Record a lead: a member's referral (with their member number) or a walk-in."""
    form = LeadForm()
    if form.validate_on_submit():
        try:
            referrer = None
            if (form.referrer_member_number.data or "").strip():
                referrer = service.find_referrer(form.referrer_member_number.data)
            lead = service.record_lead(
                {"friend_name": form.friend_name.data, "friend_mobile": form.friend_mobile.data,
                 "model": form.model.data, "grade": form.grade.data,
                 "next_follow_up_on": form.next_follow_up_on.data, "note": form.note.data},
                referrer=referrer, actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("The lead has been recorded."), "success")
            return redirect(url_for("chapter.leads.detail", lead_id=lead.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/leads/new.html", form=form), \
        (422 if request.method == "POST" else 200)


def _render_detail(lead, *, note_form=None, lost_form=None, purchase_form=None, status=200):
    referrer = service.referrers_of([lead]).get(lead.referrer_member_id)
    return render_template(
        "chapter/leads/detail.html", lead=lead, referrer=referrer,
        notes=service.lead_notes(lead), note_form=note_form or NoteForm(),
        lost_form=lost_form or LostForm(),
        purchase_form=purchase_form or PurchaseForm(purchased_on=dates.today()),
        grade_labels=GRADE_LABELS, status_labels=STATUS_LABELS,
        due=service.is_due(lead)), status


@bp.route("/<int:lead_id>")
def detail(lead_id: int):
    """One lead: its referrer, follow-up timeline and the forms to work it."""
    return _render_detail(service.get_lead(lead_id))


@bp.route("/<int:lead_id>/notes", methods=["POST"])
def add_note(lead_id: int):
    """Record a follow-up contact, re-grade the lead and set the next follow-up."""
    lead = service.get_lead(lead_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            service.add_note(lead, form.note.data, grade=form.grade.data or None,
                             next_follow_up_on=form.next_follow_up_on.data, actor=current_user)
            db.session.commit()
            flash(_("The follow-up has been recorded."), "success")
            return redirect(url_for("chapter.leads.detail", lead_id=lead.id))
        except DomainError as exc:
            db.session.rollback()
            lead = service.get_lead(lead_id)
            show_domain_error(form, exc)
    return _render_detail(lead, note_form=form, status=422)


@bp.route("/<int:lead_id>/lost", methods=["POST"])
def mark_lost(lead_id: int):
    """Close the lead as lost, with the reason."""
    lead = service.get_lead(lead_id)
    form = LostForm()
    if form.validate_on_submit():
        try:
            service.mark_lost(lead, form.reason.data, actor=current_user)
            db.session.commit()
            flash(_("The lead has been marked lost."), "success")
            return redirect(url_for("chapter.leads.detail", lead_id=lead.id))
        except DomainError as exc:
            db.session.rollback()
            lead = service.get_lead(lead_id)
            show_domain_error(form, exc)
    return _render_detail(lead, lost_form=form, status=422)


@bp.route("/<int:lead_id>/purchase", methods=["POST"])
def purchase(lead_id: int):
    """Close the lead as a referral purchase with the VIN of the car bought."""
    lead = service.get_lead(lead_id)
    form = PurchaseForm()
    if form.validate_on_submit():
        try:
            already = lead.status == PURCHASED
            service.close_as_purchase(lead, form.vin.data, form.purchased_on.data,
                                      actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("This lead was already closed as a purchase.") if already
                  else _("The lead has been closed as a referral purchase."),
                  "info" if already else "success")
            return redirect(url_for("chapter.leads.detail", lead_id=lead.id))
        except DomainError as exc:
            db.session.rollback()
            lead = service.get_lead(lead_id)
            show_domain_error(form, exc)
    return _render_detail(lead, purchase_form=form, status=422)
