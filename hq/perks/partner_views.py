"""The partner's page: check a voucher code, mark it used, see the vouchers used.

A blueprint of its own for the ``partner`` role. A partner user only ever sees their
own partner's vouchers: another partner's code answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from clubplatform.auth.models import PARTNER
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from hq.perks import codes, service
from hq.perks.forms import CheckCodeForm

bp = Blueprint("partner", __name__, url_prefix="/partner", template_folder="../templates")


@bp.before_request
@login_required
def _partner_only():
    """Only a partner login linked to an active partner."""
    if current_user.role != PARTNER:
        abort(403)
    g.partner = service.partner_of_user(current_user)
    if g.partner is None or not g.partner.active:
        abort(403)


@bp.route("/")
def home():
    """Check a voucher code, and the vouchers used at this partner."""
    form = CheckCodeForm(request.args)
    page = db.paginate(service.partner_used_query(g.partner), per_page=30, error_out=False)
    return render_template("partner/home.html", form=form, partner=g.partner, page=page,
                           used=service.partner_vouchers_views(g.partner, page.items),
                           status_labels=service.VOUCHER_STATUS_LABELS)


@bp.route("/check")
def check():
    """Open the voucher a code names (typed or scanned)."""
    code = codes.normalise(request.args.get("code"))
    if not code:
        return redirect(url_for("partner.home"))
    return redirect(url_for("partner.voucher", code=code))


def _voucher_view(code: str):
    try:
        return service.check_voucher(g.partner, code)
    except NotFound:
        return None


@bp.route("/vouchers/<code>")
def voucher(code: str):
    """A voucher: perk, status, validity and the holder's masked name."""
    view = _voucher_view(code)
    if view is None:
        return render_template("partner/unknown.html", partner=g.partner,
                               code=codes.display(codes.normalise(code))[:24]), 404
    return render_template("partner/voucher.html", v=view, partner=g.partner,
                           status_labels=service.VOUCHER_STATUS_LABELS)


@bp.route("/vouchers/<code>/use", methods=["POST"])
def use(code: str):
    """Mark the voucher used (once)."""
    if _voucher_view(code) is None:
        abort(404)
    try:
        service.use_voucher(g.partner, code, actor=current_user)
        db.session.commit()
        flash(_("The voucher has been marked used."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("partner.voucher", code=codes.normalise(code)))
