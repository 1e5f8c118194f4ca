"""JSON API: transfers a chapter sends or receives.

Rules live in :mod:`hq.members.service`; a chapter sees only transfers it is the
sending or receiving chapter of (others answer 404), and the receiving chapter sees
nothing of the other chapter before it approves.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user

from chapter.console.api_access import chapter_staff_only
from clubplatform.api import Blueprint
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.members import schemas
from hq.members import service as members

blp = Blueprint("api_chapter_transfers", __name__, url_prefix="/chapter/transfers",
                description="Transfers of members between chapters (chapter).")


chapter_staff_only(blp)


@blp.before_request
def _load_transfer():
    # another chapter's transfer answers 404 before the body is even read
    args = request.view_args or {}
    if "transfer_id" in args:
        g.transfer = members.get_transfer(args["transfer_id"],
                                          chapter_id=current_user.chapter_id)


def _view(transfer) -> members.TransferView:
    return members.transfer_views([transfer], chapter_id=current_user.chapter_id)[0]


@blp.route("")
class Transfers(MethodView):
    @blp.arguments(schemas.TransferQueryArgsSchema, location="query")
    @blp.response(200, schemas.TransferSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Transfers the chapter sends (out) or receives (in), newest first (paginated)."""
        stmt = members.transfer_query(chapter_id=current_user.chapter_id, **args)
        pagination_parameters.item_count = db.session.execute(
            sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
        page = db.session.execute(stmt.limit(pagination_parameters.page_size)
                                  .offset(pagination_parameters.first_item)).scalars()
        return members.transfer_views(page, chapter_id=current_user.chapter_id)

    @blp.arguments(schemas.TransferCreateSchema)
    @blp.response(201, schemas.TransferSchema)
    def post(self, data):
        """Ask for one of the chapter's members to move to another chapter."""
        member = members.get_member(data["member_id"])
        transfer = members.request_transfer(member, data["to_chapter_id"], data["reason"],
                                            current_user, ip=client_ip())
        db.session.commit()
        return _view(transfer)


@blp.route("/by-identity")
class TransferByIdentity(MethodView):
    @blp.arguments(schemas.TransferByIdentitySchema)
    @blp.response(202, schemas.AcceptedSchema)
    def post(self, data):
        """Ask for a person who is a member elsewhere, by mobile or ID number.

        The answer is the same whether or not such a member exists.
        """
        members.request_transfer_by_identity(current_user.chapter_id, **data,
                                             actor=current_user, ip=client_ip())
        db.session.commit()
        return {"message": _("If this person is a member of another chapter, a transfer "
                             "request to your chapter has been created for your manager "
                             "to decide.")}


@blp.route("/destinations")
class Destinations(MethodView):
    @blp.response(200, schemas.DestinationSchema(many=True))
    def get(self):
        """Open chapters a member of this chapter can move to."""
        return [{"id": cid, "name": name}
                for cid, name in members.transfer_destinations(current_user.chapter_id)]


@blp.route("/<int:transfer_id>")
class TransferById(MethodView):
    @blp.response(200, schemas.TransferSchema)
    def get(self, transfer_id):
        """Get a transfer the chapter sends or receives."""
        return _view(g.transfer)


@blp.route("/<int:transfer_id>/approve")
class TransferApprove(MethodView):
    @blp.response(200, schemas.TransferSchema)
    def post(self, transfer_id):
        """Approve a transfer to this chapter (manager): the member moves today."""
        transfer = members.approve_transfer(g.transfer, current_user, ip=client_ip())
        db.session.commit()
        return _view(transfer)


@blp.route("/<int:transfer_id>/reject")
class TransferReject(MethodView):
    @blp.arguments(schemas.TransferRejectSchema)
    @blp.response(200, schemas.TransferSchema)
    def post(self, data, transfer_id):
        """Reject a transfer to this chapter, with a reason (manager)."""
        transfer = members.reject_transfer(g.transfer, data["note"], current_user,
                                           ip=client_ip())
        db.session.commit()
        return _view(transfer)


@blp.route("/<int:transfer_id>/cancel")
class TransferCancel(MethodView):
    @blp.response(200, schemas.TransferSchema)
    def post(self, transfer_id):
        """Withdraw a transfer request before it is decided."""
        transfer = members.cancel_transfer(g.transfer, current_user, ip=client_ip())
        db.session.commit()
        return _view(transfer)
