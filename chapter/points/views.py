"""Chapter pages: a member's points (history, award, adjust, dealer redemption) and campaigns."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from chapter.members.service import TIER_LABELS
from chapter.owners.service import VISIT_TYPE_LABELS
from chapter.points import service
from chapter.points.access import chapter_users, manager_only
from chapter.points.forms import AdjustForm, AwardForm, CampaignForm, RedeemForm
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.tenancy import current_chapter_id
from hq.points import earning

bp = Blueprint("points", __name__, url_prefix="/points")



def labels() -> dict:
    """What the points templates need to name kinds, reasons, funders, venues and tiers."""
    return {"kind_labels": service.KIND_LABELS, "reason_labels": service.REASON_LABELS,
            "funder_labels": service.FUNDER_LABELS, "venue_labels": service.VENUE_LABELS,
            "tier_labels": TIER_LABELS, "visit_type_labels": VISIT_TYPE_LABELS}


bp.context_processor(labels)


def card_context(member) -> dict:
    """The points card of the member's page (``chapter/points/_card.html``)."""
    return dict(labels(), points_card=service.member_card(member))


def _member_or_404(member_id: int):
    try:
        return earning.require_member(member_id)
    except NotFound:
        abort(404)


def _page(member, *, award=None, adjust=None, redeem=None, status=200):
    page = db.paginate(service.entries_query(member.id), per_page=25, error_out=False)
    return render_template(
        "chapter/points/member.html", member=member, summary=service.summary(member.id),
        page=page, partners=service.partner_names(page.items),
        award=award or AwardForm(formdata=None), adjust=adjust or AdjustForm(formdata=None),
        redeem=redeem or RedeemForm(formdata=None)), status


@bp.route("/members/<int:member_id>")
@chapter_users
def member(member_id: int):
    """A member's points: balance, tier, next expiry, history (paginated) and the forms."""
    return _page(_member_or_404(member_id))


def _post(member_id: int, form_class, write, done_message, which: str):
    member = _member_or_404(member_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            posted = write(member, form)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            member = _member_or_404(member_id)
            show_domain_error(form, exc)
            return _page(member, status=exc.status, **{which: form})
        if posted.created:
            flash(done_message(posted), "success")
        else:
            flash(_("This was already recorded."), "info")
        return redirect(url_for("chapter.points.member", member_id=member_id))
    return _page(member, status=422, **{which: form})


@bp.route("/members/<int:member_id>/award", methods=["POST"])
@manager_only
def award(member_id: int):
    """Award points with a reason, funded by the chapter (manager)."""
    return _post(member_id, AwardForm, lambda m, f: earning.award_points(
        m, f.points.data, f.note.data, token=f.token.data, actor=current_user),
        lambda p: _("%(n)s points awarded.", n=p.entry.points), "award")


@bp.route("/members/<int:member_id>/adjust", methods=["POST"])
@manager_only
def adjust(member_id: int):
    """Correct the balance up or down with a reason (manager)."""
    return _post(member_id, AdjustForm, lambda m, f: earning.adjust_points(
        m, f.points.data, f.note.data, token=f.token.data, actor=current_user),
        lambda p: _("Balance adjusted by %(n)s points.", n=p.entry.points), "adjust")


@bp.route("/members/<int:member_id>/redeem", methods=["POST"])
@chapter_users
def redeem(member_id: int):
    """Spend the member's points at the dealer for service or parts (staff)."""
    return _post(member_id, RedeemForm, lambda m, f: earning.redeem_at_dealer(
        m, f.points.data, f.reason.data, f.note.data, token=f.token.data, actor=current_user),
        lambda p: _("%(n)s points redeemed.", n=-p.entry.points), "redeem")


# --- campaigns --------------------------------------------------------------------------

def _campaigns(form=None, status=200):
    page = db.paginate(service.campaign_query(), per_page=50, error_out=False)
    return render_template("chapter/points/campaigns.html", page=page,
                           form=form or CampaignForm(formdata=None)), status


@bp.route("/campaigns")
@chapter_users
def campaigns():
    """The chapter's own points campaigns."""
    return _campaigns()


@bp.route("/campaigns", methods=["POST"])
@manager_only
def create_campaign():
    """Start a chapter-funded campaign (manager)."""
    form = CampaignForm()
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in
                ("name", "points_per_yuan", "visit_types", "starts_on", "ends_on")}
        try:
            campaign = service.create_campaign(current_chapter_id(), data, actor=current_user)
            db.session.commit()
            flash(_("Campaign %(name)s started.", name=campaign.name), "success")
            return redirect(url_for("chapter.points.campaigns"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            return _campaigns(form, exc.status)
    return _campaigns(form, 422 if request.method == "POST" else 200)


@bp.route("/campaigns/<int:campaign_id>/deactivate", methods=["POST"])
@manager_only
def deactivate_campaign(campaign_id: int):
    """Stop a campaign (manager); visits already awarded keep their bonus."""
    try:
        campaign = service.get_campaign(campaign_id)
    except NotFound:
        abort(404)
    service.deactivate_campaign(campaign)
    db.session.commit()
    flash(_("Campaign %(name)s stopped.", name=campaign.name), "success")
    return redirect(url_for("chapter.points.campaigns"))
