"""JSON API: complaints (chapter staff), the member's own complaints, HQ's hotline and figures."""

from __future__ import annotations

from flask import abort
from flask.views import MethodView
from flask_login import current_user

from chapter.complaints import analytics, satisfaction, schemas, service
from chapter.console.api_access import chapter_staff_only
from chapter.portal import service as portal
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import HQ_ROLES, MEMBER
from clubplatform.extensions import db
from clubplatform.tenancy import chapter_scope

blp = Blueprint("api_complaints", __name__, url_prefix="/chapter/complaints",
                description="Complaints (chapter).")
portal_blp = Blueprint("api_portal_complaints", __name__, url_prefix="/portal/complaints",
                       description="The member's own complaints (member role).")
hq_blp = Blueprint("api_hq_complaints", __name__, url_prefix="/hq/complaints",
                   description="HQ's complaint hotline and figures (HQ roles).")


def _me():
    return current_user._get_current_object()


# --- chapter staff --------------------------------------------------------------------

chapter_staff_only(blp, complaint_id=service.get_complaint)


@blp.route("")
class Complaints(MethodView):
    @blp.arguments(schemas.ComplaintQueryArgsSchema, location="query")
    @blp.response(200, schemas.ComplaintSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List the chapter's complaints, escalated first (paginated)."""
        return service.complaint_query(**args)

    @blp.arguments(schemas.ComplaintCreateSchema)
    @blp.response(201, schemas.ComplaintSchema)
    def post(self, data):
        """Record an owner's complaint: acknowledged now, owned by one person, a call-back promised."""
        from chapter.owners import service as owners

        owner = owners.get_owner(data.pop("owner_id"))
        complaint = service.record_complaint(owner, data, actor=_me())
        db.session.commit()
        return complaint


@blp.route("/escalated")
class Escalated(MethodView):
    @blp.response(200, schemas.ComplaintSchema(many=True))
    def get(self):
        """Open complaints escalated to the manager (promise missed, open too long, unacknowledged)."""
        return db.session.execute(service.escalated_query()).scalars().all()


@blp.route("/limits")
class Limits(MethodView):
    @blp.response(200, schemas.ComplaintLimitsSchema)
    def get(self):
        """The chapter's open-time limit (days) and goodwill limit (points)."""
        return service.limits(current_user.chapter_id)

    @blp.arguments(schemas.ComplaintLimitsUpdateSchema)
    @blp.response(200, schemas.ComplaintLimitsSchema)
    def put(self, data):
        """Set the chapter's limits (the manager)."""
        result = service.update_limits(current_user.chapter_id, data, actor=_me())
        db.session.commit()
        return result


@blp.route("/satisfaction")
class Satisfaction(MethodView):
    @blp.arguments(schemas.ComplaintFiguresQueryArgsSchema, location="query")
    @blp.response(200, schemas.ServiceSatisfactionRowSchema(many=True))
    def get(self, args):
        """Service-visit satisfaction (3D/7D follow-up) per advisor of the chapter."""
        return satisfaction.per_advisor(current_user.chapter_id, start=args["start"],
                                        end=args["end"]).rows


@blp.route("/<int:complaint_id>")
class ComplaintById(MethodView):
    @blp.response(200, schemas.ComplaintSchema)
    def get(self, complaint_id):
        """Get a complaint."""
        return service.get_complaint(complaint_id)

    @blp.arguments(schemas.ComplaintUpdateSchema)
    @blp.response(200, schemas.ComplaintSchema)
    def patch(self, data, complaint_id):
        """Hand it to another staff member, change its severity or promise a new call-back."""
        complaint = service.update_complaint(service.get_complaint(complaint_id), data,
                                             actor=_me())
        db.session.commit()
        return complaint


@blp.route("/<int:complaint_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.arguments(schemas.ComplaintAcknowledgeSchema)
    @blp.response(200, schemas.ComplaintSchema)
    def post(self, data, complaint_id):
        """Acknowledge a portal or hotline complaint: its owner and the promised call-back."""
        complaint = service.acknowledge(service.get_complaint(complaint_id), actor=_me(), **data)
        db.session.commit()
        return complaint


@blp.route("/<int:complaint_id>/contacts")
class Contacts(MethodView):
    @blp.response(200, schemas.ComplaintContactSchema(many=True))
    def get(self, complaint_id):
        """The complaint's timeline, newest first."""
        return service.timeline(service.get_complaint(complaint_id))

    @blp.arguments(schemas.ComplaintContactCreateSchema)
    @blp.response(201, schemas.ComplaintContactSchema)
    def post(self, data, complaint_id):
        """Log a contact with the owner (keeps the promise; optionally promise the next call-back)."""
        entry = service.log_contact(service.get_complaint(complaint_id), data["note"],
                                    callback_due_at=data["callback_due_at"],
                                    visible_to_owner=data["visible_to_owner"], actor=_me())
        db.session.commit()
        return entry


@blp.route("/<int:complaint_id>/close")
class Close(MethodView):
    @blp.arguments(schemas.ComplaintCloseSchema)
    @blp.response(200, schemas.ComplaintSchema)
    def post(self, data, complaint_id):
        """Close with the resolution, any goodwill (points once, or a voucher) and satisfaction."""
        complaint = service.close_complaint(service.get_complaint(complaint_id), data,
                                            actor=_me())
        db.session.commit()
        return complaint


@blp.route("/<int:complaint_id>/reopen")
class Reopen(MethodView):
    @blp.arguments(schemas.ComplaintReopenSchema)
    @blp.response(200, schemas.ComplaintSchema)
    def post(self, data, complaint_id):
        """Reopen a closed complaint (its history stays)."""
        complaint = service.reopen_complaint(service.get_complaint(complaint_id), data["reason"],
                                             actor=_me())
        db.session.commit()
        return complaint


# --- the member -----------------------------------------------------------------------

@portal_blp.before_request
def _members_only():
    if current_user.is_authenticated and current_user.role != MEMBER:
        abort(403)


def _owner():
    return portal.portal_owner(_me(), portal.portal_member(_me()))


@portal_blp.route("")
class MyComplaints(MethodView):
    @portal_blp.response(200, schemas.PortalComplaintSchema(many=True))
    @portal_blp.paginate(CursorPage)
    def get(self):
        """The member's complaints, newest first (paginated)."""
        owner = _owner()
        if owner is None:
            abort(404)
        return service.owner_complaints_query(owner)

    @portal_blp.arguments(schemas.PortalComplaintCreateSchema)
    @portal_blp.response(201, schemas.PortalComplaintSchema)
    def post(self, data):
        """Raise a complaint; the chapter acknowledges it and promises a call-back."""
        complaint = service.raise_from_portal(_owner(), data, actor=_me())
        db.session.commit()
        return complaint


@portal_blp.route("/<int:complaint_id>")
class MyComplaint(MethodView):
    @portal_blp.response(200, schemas.PortalComplaintSchema)
    def get(self, complaint_id):
        """One of the member's complaints."""
        owner = _owner()
        if owner is None:
            abort(404)
        return service.get_owner_complaint(owner, complaint_id)


# --- HQ -------------------------------------------------------------------------------

@hq_blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


@hq_blp.route("")
class Hotline(MethodView):
    @hq_blp.arguments(schemas.HotlineComplaintCreateSchema)
    @hq_blp.response(201, schemas.ComplaintSchema)
    def post(self, data):
        """Record a hotline complaint (HQ admin); it goes to the owner's chapter to acknowledge."""
        if current_user.role != "hq_admin":
            abort(403)
        complaint = service.route_hotline_complaint(data, actor=_me())
        chapter_id = complaint.chapter_id
        db.session.commit()
        with chapter_scope(chapter_id):  # load it back in its chapter for the answer
            db.session.refresh(complaint)
        return complaint


@hq_blp.route("/figures")
class Figures(MethodView):
    @hq_blp.arguments(schemas.ComplaintFiguresQueryArgsSchema, location="query")
    @hq_blp.response(200, schemas.ComplaintFiguresSchema)
    def get(self, args):
        """Complaint counts, causes, hours to acknowledge and close, reopen rate, satisfaction."""
        return analytics.complaint_figures(**args)


@hq_blp.route("/satisfaction")
class ServiceSatisfaction(MethodView):
    @hq_blp.arguments(schemas.ComplaintFiguresQueryArgsSchema, location="query")
    @hq_blp.response(200, schemas.ServiceSatisfactionRowSchema(many=True))
    def get(self, args):
        """Service-visit satisfaction (3D/7D follow-up) per chapter."""
        return satisfaction.per_chapter(start=args["start"], end=args["end"],
                                        region_id=args["region_id"]).rows
