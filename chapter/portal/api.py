"""JSON API for members: their profile, consent, referrals."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_login import current_user

from chapter.portal import schemas, service
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import MEMBER
from clubplatform.extensions import db
from clubplatform.security import client_ip

blp = Blueprint("api_portal", __name__, url_prefix="/portal", description="The member's own data (member role).")


@blp.before_request
def _members_only():
    if current_user.is_authenticated and current_user.role != MEMBER:
        abort(403)


def _me():
    return current_user._get_current_object()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, schemas.PortalMeSchema)
    def get(self):
        """The member's card, or the applicant's application."""
        info = service.home(_me())
        return {"username": current_user.username, "is_member": info.member is not None,
                "member": info.member, "application": info.application, "chapter": info.chapter}


@blp.route("/profile")
class Profile(MethodView):
    @blp.response(200, schemas.PortalProfileSchema)
    def get(self):
        """The member's personal data (ID number masked)."""
        return service.profile(_me())

    @blp.arguments(schemas.PortalProfileUpdateSchema)
    @blp.response(200, schemas.PortalProfileSchema)
    def patch(self, data):
        """Correct mobile, e-mail, address, postal code, occupation or hobbies."""
        result = service.update_profile(_me(), data, ip=client_ip())
        db.session.commit()
        return result


@blp.route("/consents")
class Consents(MethodView):
    @blp.response(200, schemas.PortalConsentsWithHistorySchema)
    def get(self):
        """Marketing consent per channel, with its history."""
        member = service.require_member(_me())
        return {"current": service.consents(member), "history": service.consent_history(member)}

    @blp.arguments(schemas.PortalConsentsSchema)
    @blp.response(200, schemas.PortalConsentsWithHistorySchema)
    def put(self, data):
        """Give or withdraw consent on the channels given (others unchanged)."""
        member = service.require_member(_me())
        service.set_consents(member, data, actor=_me(), ip=client_ip())
        db.session.commit()
        return {"current": service.consents(member), "history": service.consent_history(member)}


@blp.route("/referrals")
class Referrals(MethodView):
    @blp.response(200, schemas.PortalReferralSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self):
        """The member's referrals and whether they bought (paginated)."""
        return service.my_referrals_query(service.require_member(_me()))

    @blp.arguments(schemas.PortalReferralCreateSchema)
    @blp.response(201, schemas.PortalReferralSchema)
    def post(self, data):
        """Refer a friend to the member's chapter."""
        lead = service.refer_friend(service.require_member(_me()), data, actor=_me(),
                                    ip=client_ip())
        db.session.commit()
        return lead


@blp.route("/referrals/<int:lead_id>")
class ReferralById(MethodView):
    @blp.response(200, schemas.PortalReferralSchema)
    def get(self, lead_id):
        """One of the member's own referrals."""
        return service.my_referral(service.require_member(_me()), lead_id)


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.response(200, schemas.PortalTransferSchema(many=True))
    def get(self):
        """The member's transfer requests, newest first."""
        return service.member_transfers(service.require_member(_me()))

    @blp.arguments(schemas.PortalTransferCreateSchema)
    @blp.response(201, schemas.PortalTransferSchema)
    def post(self, data):
        """Ask to move to another chapter (the receiving chapter decides)."""
        transfer = service.request_transfer(service.require_member(_me()), data["to_chapter_id"],
                                            data["reason"], actor=_me(),
                                            ip=client_ip())
        db.session.commit()
        return transfer


@blp.route("/transfers/<int:transfer_id>")
class TransferById(MethodView):
    @blp.response(200, schemas.PortalTransferSchema)
    def get(self, transfer_id):
        """One of the member's own transfer requests and its status."""
        return service.get_member_transfer(service.require_member(_me()), transfer_id)
