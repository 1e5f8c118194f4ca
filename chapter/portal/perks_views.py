"""Member portal: perks the member may take (and why not), taking one, their vouchers."""

from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.portal import service as portal
from clubplatform.auth.models import MEMBER
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.security import roles_required
from hq.perks import service

bp = Blueprint("perks", __name__, url_prefix="/perks")

member_only = roles_required(MEMBER)


def _member_or_home():
    member = portal.portal_member(current_user._get_current_object())
    if member is None:
        flash(_("This is open to members once their application is approved."), "info")
        return None, redirect(url_for("portal.home"))
    return member, None


@bp.route("/")
@member_only
def index():
    """Perks on offer, with why the member may not take one (if not)."""
    member, away = _member_or_home()
    if away:
        return away
    return render_template("portal/perks/index.html", offers=service.perks_for_member(member),
                           balance=member.points_balance, token=secrets.token_urlsafe(16))


@bp.route("/<int:perk_id>/take", methods=["POST"])
@member_only
def take(perk_id: int):
    """Take a perk: spend its points and get a voucher (a double submit takes once)."""
    member, away = _member_or_home()
    if away:
        return away
    try:
        taken = service.take_perk(member, perk_id, client_token=request.form.get("client_token"),
                                  actor=current_user._get_current_object())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("portal.perks.index"))
    if taken.created:
        flash(_("Done! Show this code to the partner."), "success")
    return redirect(url_for("portal.perks.vouchers"))


@bp.route("/vouchers")
@member_only
def vouchers():
    """The member's vouchers: code and QR code to show the partner."""
    member, away = _member_or_home()
    if away:
        return away
    page = db.paginate(service.member_vouchers_query(member), per_page=20, error_out=False)
    views = service.voucher_views(page.items)
    return render_template("portal/perks/vouchers.html", page=page, vouchers=views,
                           qr={v.code: service.qr_svg(v.code) for v in views
                               if v.state == "issued"},
                           status_labels=service.VOUCHER_STATUS_LABELS)
