"""Chapter pages: the chapter's members, statuses, consents and transfers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.members import service
from chapter.members.forms import StatusChangeForm
from chapter.points import views as points_views
from chapter.recruitment.models import SOURCES
from chapter.recruitment.service import SOURCE_LABELS
from chapter.recruitment.views import owner_url
from clubplatform import dates
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error
from clubplatform.security import client_ip, roles_required
from hq.members import service as members
from hq.members.models import MEMBER_STATUSES, TIERS

bp = Blueprint("members", __name__, url_prefix="/members")

manager_only = roles_required(CHAPTER_MANAGER)


@bp.context_processor
def _helpers():
    return {"source_labels": SOURCE_LABELS, "member_status_labels": service.STATUS_LABELS,
            "tier_labels": service.TIER_LABELS, "channel_labels": service.CHANNEL_LABELS,
            "period_reason_labels": service.PERIOD_REASON_LABELS,
            "consent_source_labels": service.CONSENT_SOURCE_LABELS, "owner_url": owner_url}


def _member_or_404(member_id: int):
    try:
        return members.get_member(member_id)
    except NotFound:
        abort(404)


@bp.route("/")
def index():
    """The chapter's members: filters by status, tier, source, joined month; search."""
    args = {k: request.args.get(k, "").strip() for k in ("q", "status", "tier", "source",
                                                          "joined_month")}
    args["status"] = args["status"] if args["status"] in MEMBER_STATUSES else ""
    args["tier"] = args["tier"] if args["tier"] in TIERS else ""
    args["source"] = args["source"] if args["source"] in SOURCES else ""
    error = None
    try:
        stmt = service.member_query(**{k: v or None for k, v in args.items()})
    except DomainError as exc:
        error = str(exc.message)
        args["joined_month"] = ""
        stmt = service.member_query(**{k: v or None for k, v in args.items()})
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("chapter/members/index.html", page=page, args=args, error=error,
                           counts=service.status_counts(), statuses=MEMBER_STATUSES,
                           tiers=TIERS, sources=SOURCES), (422 if error else 200)


def _status_form(member, form=None):
    form = form or StatusChangeForm(formdata=None, on=dates.today())
    form.action.choices = choices([(a, str(service.ACTION_LABELS[a]))
                                   for a in service.actions_for(member)])
    return form


def _detail(member, form=None, status=200):
    return render_template("chapter/members/detail.html", detail=service.member_detail(member),
                           member=member, form=_status_form(member, form),
                           **points_views.card_context(member)), status


@bp.route("/<int:member_id>")
def detail(member_id: int):
    """A member: card, status history, consents, where they came from."""
    return _detail(_member_or_404(member_id))


@bp.route("/<int:member_id>/status", methods=["POST"])
@manager_only
def change_status(member_id: int):
    """Suspend, reactivate or end a membership from a date, with a reason (manager)."""
    member = _member_or_404(member_id)
    form = _status_form(member, StatusChangeForm())
    if form.validate_on_submit():
        try:
            service.change_member_status(member, form.action.data, on=form.on.data,
                                         reason=form.reason.data, actor=current_user,
                                         ip=client_ip())
            db.session.commit()
            flash(_("The membership of %(name)s is now %(status)s.", name=member.name,
                    status=service.STATUS_LABELS[member.status]), "success")
            return redirect(url_for("chapter.members.detail", member_id=member.id))
        except DomainError as exc:
            db.session.rollback()
            member = _member_or_404(member_id)
            form.action.choices = _status_form(member).action.choices
            show_domain_error(form, exc)
            return _detail(member, form, exc.status)
    return _detail(member, form, 422)
