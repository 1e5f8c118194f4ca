"""JSON API: a member's points (balance, history, award, adjust, redeem), campaigns, portal."""

from __future__ import annotations

import uuid

from flask import abort, request
from flask.views import MethodView
from flask_login import current_user

from chapter.points import schemas, service
from chapter.points.access import manager_only
from chapter.portal import service as portal
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import CHAPTER_ROLES, MEMBER
from clubplatform.extensions import db
from clubplatform.tenancy import current_chapter_id
from hq.points import earning, ledger

blp = Blueprint("api_member_points", __name__, url_prefix="/members",
                description="Members' points at the chapter.")
campaigns_blp = Blueprint("api_chapter_campaigns", __name__, url_prefix="/chapter/campaigns",
                          description="The chapter's own points campaigns.")
portal_blp = Blueprint("api_portal_points", __name__, url_prefix="/portal/points",
                       description="The member's own points (member role).")

#: answers with its own single query, which also checks the member is the chapter's
_LEAN = "api_member_points.MemberPoints"


@blp.before_request
def _chapter_member_first():
    if not current_user.is_authenticated:
        return
    if current_user.role not in CHAPTER_ROLES or current_user.chapter_id is None:
        abort(403)
    # another chapter's member answers 404 before the request body is read
    member_id = (request.view_args or {}).get("member_id")
    if member_id is not None and request.endpoint != _LEAN:
        earning.require_member(member_id)


@campaigns_blp.before_request
def _chapter_only():
    if current_user.is_authenticated and (current_user.role not in CHAPTER_ROLES
                                          or current_user.chapter_id is None):
        abort(403)
    campaign_id = (request.view_args or {}).get("campaign_id")
    if campaign_id is not None and current_user.is_authenticated:
        service.get_campaign(campaign_id)


@portal_blp.before_request
def _members_only():
    if current_user.is_authenticated and current_user.role != MEMBER:
        abort(403)


def _token(data: dict) -> str:
    return data.get("idempotency_key") or uuid.uuid4().hex


def _posted(posted: ledger.Posted) -> dict:
    return {"entry": posted.entry, "created": posted.created,
            "balance": ledger.balance(posted.entry.member_id)}


@blp.route("/<int:member_id>/points")
class MemberPoints(MethodView):
    @blp.response(200, schemas.PointsSummarySchema)
    def get(self, member_id):
        """A member's balance, tier and next expiry (date and points)."""
        return service.summary(member_id)


@blp.route("/<int:member_id>/points/entries")
class MemberPointEntries(MethodView):
    @blp.response(200, schemas.PointEntrySchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, member_id):
        """A member's ledger entries, newest first (paginated)."""
        return service.entries_query(member_id)


@blp.route("/<int:member_id>/points/earn")
class MemberPointsEarn(MethodView):
    @blp.arguments(schemas.PointsAwardSchema)
    @blp.response(201, schemas.PostedEntrySchema)
    @manager_only
    def post(self, data, member_id):
        """Award points with a reason, funded by the chapter (manager); a repeated key writes once."""
        posted = earning.award_points(earning.require_member(member_id), data["points"],
                                      data["note"], token=_token(data), actor=current_user)
        db.session.commit()
        return _posted(posted)


@blp.route("/<int:member_id>/points/adjust")
class MemberPointsAdjust(MethodView):
    @blp.arguments(schemas.PointsAdjustSchema)
    @blp.response(201, schemas.PostedEntrySchema)
    @manager_only
    def post(self, data, member_id):
        """Correct the balance up or down with a reason (manager)."""
        posted = earning.adjust_points(earning.require_member(member_id), data["points"],
                                       data["note"], token=_token(data), actor=current_user)
        db.session.commit()
        return _posted(posted)


@blp.route("/<int:member_id>/points/redeem")
class MemberPointsRedeem(MethodView):
    @blp.arguments(schemas.PointsRedeemSchema)
    @blp.response(201, schemas.PostedEntrySchema)
    def post(self, data, member_id):
        """Spend points at the dealer for service or parts; more than the balance is refused (409)."""
        posted = earning.redeem_at_dealer(earning.require_member(member_id), data["points"],
                                          data["reason"], data["note"], token=_token(data),
                                          actor=current_user)
        db.session.commit()
        return _posted(posted)


@campaigns_blp.route("")
class Campaigns(MethodView):
    @campaigns_blp.arguments(schemas.CampaignQueryArgsSchema, location="query")
    @campaigns_blp.response(200, schemas.CampaignSchema(many=True))
    @campaigns_blp.paginate(CursorPage)
    def get(self, args):
        """List the chapter's campaigns, latest start first (paginated)."""
        return service.campaign_query(active=args["active"])

    @campaigns_blp.arguments(schemas.CampaignCreateSchema)
    @campaigns_blp.response(201, schemas.CampaignSchema)
    @manager_only
    def post(self, data):
        """Start a chapter-funded campaign: bonus points per yuan of service spend (manager)."""
        campaign = service.create_campaign(current_chapter_id(), data, actor=current_user)
        db.session.commit()
        return campaign


@campaigns_blp.route("/<int:campaign_id>")
class CampaignById(MethodView):
    @campaigns_blp.response(200, schemas.CampaignSchema)
    def get(self, campaign_id):
        """Get a campaign."""
        return service.get_campaign(campaign_id)

    @campaigns_blp.arguments(schemas.CampaignUpdateSchema)
    @campaigns_blp.response(200, schemas.CampaignSchema)
    @manager_only
    def patch(self, data, campaign_id):
        """Change a campaign, or stop it with ``active: false`` (manager)."""
        campaign = service.update_campaign(service.get_campaign(campaign_id), data)
        db.session.commit()
        return campaign

    @campaigns_blp.response(200, schemas.CampaignSchema)
    @manager_only
    def delete(self, campaign_id):
        """Stop a campaign (manager); awarded bonuses stay."""
        campaign = service.deactivate_campaign(service.get_campaign(campaign_id))
        db.session.commit()
        return campaign


def _portal_member():
    member = portal.portal_member(current_user._get_current_object())
    if member is None:
        abort(404)
    return member


@portal_blp.route("")
class PortalPoints(MethodView):
    @portal_blp.response(200, schemas.PortalPointsSchema)
    def get(self):
        """The member's balance, tier, next expiry and latest entries."""
        member = _portal_member()
        summary = service.summary(member.id)
        recent = list(db.session.execute(service.entries_query(member.id).limit(20)).scalars())
        return dict(vars(summary), recent=recent)


@portal_blp.route("/entries")
class PortalPointEntries(MethodView):
    @portal_blp.response(200, schemas.PointEntrySchema(many=True))
    @portal_blp.paginate(CursorPage)
    def get(self):
        """The member's ledger entries, newest first (paginated)."""
        return service.entries_query(_portal_member().id)
