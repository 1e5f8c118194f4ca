"""JSON API: membership applications."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_login import current_user

from chapter.console.api_access import chapter_staff_only
from chapter.members.schemas import ChapterMemberSchema
from chapter.recruitment import schemas, service
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.extensions import db
from clubplatform.security import client_ip

blp = Blueprint("api_applications", __name__, url_prefix="/chapter/applications", description="Membership applications (chapter).")


chapter_staff_only(blp)


def _manager_only():
    if current_user.role != CHAPTER_MANAGER:
        abort(403)


@blp.route("")
class Applications(MethodView):
    @blp.arguments(schemas.ApplicationQueryArgsSchema, location="query")
    @blp.response(200, schemas.ApplicationSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List the chapter's applications (paginated; X-Pagination header)."""
        return service.application_query(**args)

    @blp.arguments(schemas.ApplicationCreateSchema)
    @blp.response(201, schemas.ApplicationSchema)
    def post(self, data):
        """Register an application for an owner of the chapter."""
        application = service.submit_application_for(
            data["owner_id"], source=data["source"], applied_on=data["applied_on"],
            note=data["note"], event_id=data.get("event_id"), actor=current_user,
            ip=client_ip())
        db.session.commit()
        return application


@blp.route("/counts")
class ApplicationCounts(MethodView):
    @blp.arguments(schemas.ApplicationCountsArgsSchema, location="query")
    @blp.response(200, schemas.ApplicationCountsSchema)
    def get(self, args):
        """Count the chapter's applications by status and by source."""
        return service.application_counts(**args)


@blp.route("/<int:application_id>")
class ApplicationById(MethodView):
    @blp.response(200, schemas.ApplicationSchema)
    def get(self, application_id):
        """Get an application."""
        return service.get_application(application_id)


@blp.route("/<int:application_id>/approve")
class ApproveApplication(MethodView):
    @blp.arguments(schemas.ApplicationApproveSchema)
    @blp.response(201, ChapterMemberSchema)
    @blp.alt_response(409, description="already decided, or the person is already a member "
                                       "(code already_member; no other chapter is named)")
    def post(self, data, application_id):
        """Approve an application: the owner becomes a member (manager)."""
        _manager_only()
        application = service.get_application(application_id)
        member = service.approve_application(application, actor=current_user, ip=client_ip(),
                                             consents=data["consents"])
        db.session.commit()
        return member


@blp.route("/<int:application_id>/reject")
class RejectApplication(MethodView):
    @blp.arguments(schemas.ApplicationRejectSchema)
    @blp.response(200, schemas.ApplicationSchema)
    def post(self, data, application_id):
        """Reject an application with a reason (manager)."""
        _manager_only()
        application = service.get_application(application_id)
        service.reject_application(application, data["reason"], actor=current_user,
                                   ip=client_ip())
        db.session.commit()
        return application
