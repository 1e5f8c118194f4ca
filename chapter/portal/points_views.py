"""Member portal: my points — balance, tier, what expires next, history."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.points import service as points
from chapter.points.views import labels
from chapter.portal import service as portal
from clubplatform.auth.models import MEMBER
from clubplatform.extensions import db
from clubplatform.security import roles_required

bp = Blueprint("points", __name__, url_prefix="/points")

member_only = roles_required(MEMBER)


@bp.route("/")
@member_only
def index():
    """The member's balance, tier, next expiry (date and points) and history (paginated)."""
    member = portal.portal_member(current_user._get_current_object())
    if member is None:
        flash(_("This is open to members once their application is approved."), "info")
        return redirect(url_for("portal.home"))
    page = db.paginate(points.entries_query(member.id), per_page=25, error_out=False)
    return render_template("portal/points.html", summary=points.summary(member.id), page=page,
                           partners=points.partner_names(page.items), **labels())
