"""HQ pages: partners with their logins, perks with the stock taken (admin edits, analyst reads)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform.auth.models import HQ_ADMIN
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import client_ip, hq_read_required, hq_write_required
from hq.members.service import TIER_LABELS
from hq.perks import service
from hq.perks.forms import PartnerForm, PartnerUserForm, PerkForm
from hq.points.models import PERK_STATUSES

bp = Blueprint("perks", __name__, url_prefix="/perks")


def _is_admin() -> bool:
    return current_user.role == HQ_ADMIN


def _perk_or_404(perk_id: int):
    try:
        return service.get_perk(perk_id)
    except NotFound:
        abort(404)


def _partner_or_404(partner_id: int):
    try:
        return service.get_partner(partner_id)
    except NotFound:
        abort(404)


def _partners():
    return list(db.session.execute(service.partner_query()).scalars())


# --- perks ----------------------------------------------------------------------------

@bp.route("/")
@hq_read_required
def index():
    """Perks with their partner, status, validity and stock taken."""
    status = request.args.get("status") or None
    status = status if status in PERK_STATUSES else None
    page = db.paginate(service.perk_query(status=status), per_page=50, error_out=False)
    partners = {p.id: p for p in _partners()}
    return render_template("hq/perks/index.html", page=page, partners=partners, status=status,
                           status_labels=service.PERK_STATUS_LABELS, tier_labels=TIER_LABELS,
                           is_admin=_is_admin())


@bp.route("/new", methods=["GET", "POST"])
@hq_write_required
def new():
    """Create a perk (as a draft)."""
    form = PerkForm(partners=_partners())
    if form.validate_on_submit():
        try:
            perk = service.create_perk(form.values())
            db.session.commit()
            flash(_("The perk has been saved as a draft."), "success")
            return redirect(url_for("hq.perks.edit", perk_id=perk.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("hq/perks/perk.html", form=form, perk=None, is_admin=True), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:perk_id>", methods=["GET", "POST"])
@hq_read_required
def edit(perk_id: int):
    """A perk: its details (HQ admin edits), status and stock taken."""
    perk = _perk_or_404(perk_id)
    if request.method == "POST" and not _is_admin():
        abort(403)
    form = PerkForm(obj=perk if request.method == "GET" else None, partners=_partners())
    if form.validate_on_submit():
        try:
            service.update_perk(perk, form.values())
            db.session.commit()
            flash(_("The perk has been saved."), "success")
            return redirect(url_for("hq.perks.edit", perk_id=perk.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            perk = _perk_or_404(perk_id)
    partner = db.session.get(service.Partner, perk.partner_id)
    return render_template("hq/perks/perk.html", form=form, perk=perk, partner=partner,
                           is_admin=_is_admin(), status_labels=service.PERK_STATUS_LABELS), \
        (422 if request.method == "POST" else 200)


def _transition(perk_id: int, action, done: str):
    perk = _perk_or_404(perk_id)
    try:
        action(perk)
        db.session.commit()
        flash(done, "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("hq.perks.edit", perk_id=perk_id))


@bp.route("/<int:perk_id>/publish", methods=["POST"])
@hq_write_required
def publish(perk_id: int):
    """Publish a draft perk: members can take it."""
    return _transition(perk_id, service.publish_perk, _("The perk has been published."))


@bp.route("/<int:perk_id>/withdraw", methods=["POST"])
@hq_write_required
def withdraw(perk_id: int):
    """Withdraw a published perk: no more vouchers are issued."""
    return _transition(perk_id, service.withdraw_perk, _("The perk has been withdrawn."))


# --- partners -------------------------------------------------------------------------

@bp.route("/partners")
@hq_read_required
def partners():
    """Partners HQ has signed."""
    page = db.paginate(service.partner_query(), per_page=50, error_out=False)
    return render_template("hq/perks/partners.html", page=page, is_admin=_is_admin())


@bp.route("/partners/new", methods=["GET", "POST"])
@hq_write_required
def new_partner():
    """Register a partner."""
    form = PartnerForm()
    if form.validate_on_submit():
        try:
            partner = service.create_partner({k: getattr(form, k).data
                                              for k in service.PARTNER_FIELDS})
            db.session.commit()
            flash(_("The partner has been registered."), "success")
            return redirect(url_for("hq.perks.partner", partner_id=partner.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("hq/perks/partner.html", form=form, partner=None, users=[],
                           user_form=None, is_admin=True), \
        (422 if request.method == "POST" else 200)


@bp.route("/partners/<int:partner_id>", methods=["GET", "POST"])
@hq_read_required
def partner(partner_id: int):
    """A partner: details (HQ admin edits) and its logins."""
    item = _partner_or_404(partner_id)
    if request.method == "POST" and not _is_admin():
        abort(403)
    form = PartnerForm(obj=item if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            service.update_partner(item, {k: getattr(form, k).data
                                          for k in service.PARTNER_FIELDS})
            db.session.commit()
            flash(_("The partner has been saved."), "success")
            return redirect(url_for("hq.perks.partner", partner_id=partner_id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            item = _partner_or_404(partner_id)
    return _render_partner(item, form, PartnerUserForm(prefix="user"),
                           422 if request.method == "POST" else 200)


def _render_partner(item, form, user_form, status=200):
    perks = list(db.session.execute(service.perk_query(partner_id=item.id)).scalars())
    return render_template("hq/perks/partner.html", form=form, partner=item,
                           users=service.partner_users(item), user_form=user_form, perks=perks,
                           status_labels=service.PERK_STATUS_LABELS,
                           is_admin=_is_admin()), status


@bp.route("/partners/<int:partner_id>/users", methods=["POST"])
@hq_write_required
def add_partner_user(partner_id: int):
    """Create a login for the partner."""
    item = _partner_or_404(partner_id)
    user_form = PartnerUserForm(prefix="user")
    if user_form.validate_on_submit():
        try:
            service.add_partner_user(item, username=user_form.username.data,
                                     display_name=user_form.display_name.data,
                                     password=user_form.password.data, actor=current_user,
                                     ip=client_ip())
            db.session.commit()
            flash(_("The partner's login has been created."), "success")
            return redirect(url_for("hq.perks.partner", partner_id=partner_id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(user_form, exc)
            item = _partner_or_404(partner_id)
    return _render_partner(item, PartnerForm(obj=item), user_form, 422)
