"""JSON API: the chapter's members, statuses, transfers."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_login import current_user

from chapter.console.api_access import chapter_staff_only
from chapter.members import schemas, service
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.members import service as members

blp = Blueprint("api_chapter_members", __name__, url_prefix="/chapter/members", description="Members of the chapter.")


chapter_staff_only(blp)


@blp.route("")
class Members(MethodView):
    @blp.arguments(schemas.ChapterMemberQueryArgsSchema, location="query")
    @blp.response(200, schemas.ChapterMemberSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List the chapter's members (filters, search; paginated)."""
        return service.member_query(**args)


@blp.route("/<int:member_id>")
class MemberById(MethodView):
    @blp.response(200, schemas.ChapterMemberDetailSchema)
    def get(self, member_id):
        """Get a member with status history, consents and application."""
        return service.member_detail(members.get_member(member_id))


@blp.route("/<int:member_id>/status")
class MemberStatus(MethodView):
    @blp.arguments(schemas.ChapterMemberStatusChangeSchema)
    @blp.response(200, schemas.ChapterMemberSchema)
    def post(self, data, member_id):
        """Suspend, reactivate or end a membership from a date (manager)."""
        if current_user.role != CHAPTER_MANAGER:
            abort(403)
        member = members.get_member(member_id)
        service.set_member_status(member, data["status"], on=data["on"], reason=data["reason"],
                                  actor=current_user, ip=client_ip())
        db.session.commit()
        return member
