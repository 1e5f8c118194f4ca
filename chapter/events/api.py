"""JSON API: chapter events (staff), the member's events (portal), HQ templates and report."""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask.views import MethodView
from flask_login import current_user

from chapter.console.api_access import chapter_staff_only
from chapter.events import audience, report, schemas, service
from chapter.events.models import EventRegistration
from chapter.portal import service as portal
from clubplatform import dates
from clubplatform.api import Blueprint, CursorPage
from clubplatform.auth.models import CHAPTER_MANAGER, HQ_ADMIN, HQ_ROLES, MEMBER
from clubplatform.errors import PermissionDenied
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.perks import codes

blp = Blueprint("api_chapter_events", __name__, url_prefix="/chapter/events",
                description="Chapter events: create, invite, RSVPs, check-in, summary (chapter).")
portal_blp = Blueprint("api_portal_events", __name__, url_prefix="/portal/events",
                       description="The member's chapter events: RSVP, cancel, feedback (member).")
hq_blp = Blueprint("api_hq_events", __name__, url_prefix="/hq/events",
                   description="HQ event templates and the events report (HQ roles).")


def _me():
    return current_user._get_current_object()


def _manager() -> None:
    if current_user.role != CHAPTER_MANAGER:
        raise PermissionDenied("Only the chapter manager can do this.")


def registration_dict(registration: EventRegistration, member=None, *, mine: bool = False) -> dict:
    out = {c: getattr(registration, c) for c in (
        "id", "event_id", "member_id", "walk_in", "walk_in_name", "guests", "status", "seq",
        "promoted_at", "cancelled_at", "checked_in_at", "no_show", "points_recorded_at")}
    out["member_name"] = member.name if member is not None else registration.walk_in_name
    out["waitlist_position"] = service.waitlist_position(registration)
    if mine:
        out["code"] = registration.code
        out["display_code"] = codes.display(registration.code)
        out["qr_svg"] = qr_svg(registration.code)
    return out


def qr_svg(code: str) -> str:
    from hq.perks.service import qr_svg as _qr

    return _qr(code)


# --- chapter staff ------------------------------------------------------------------------

def _find_event_objects(args: dict) -> None:
    if args.get("event_id") is not None:
        service.get_event(args["event_id"])
        if args.get("registration_id") is not None:
            service.get_registration(args["registration_id"], event_id=args["event_id"])


chapter_staff_only(blp, _find_event_objects)


@blp.route("")
class Events(MethodView):
    @blp.arguments(schemas.EventQueryArgsSchema, location="query")
    @blp.response(200, schemas.EventSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """The chapter's events (upcoming soonest first, else most recent first)."""
        return service.event_query(**args)

    @blp.arguments(schemas.EventCreateSchema)
    @blp.response(201, schemas.EventSchema)
    def post(self, data):
        """Create an event (manager), optionally from a published HQ template."""
        _manager()
        template_id = data.pop("template_id", None)
        event = service.create_event(current_user.chapter_id, data, template_id=template_id,
                                     actor=_me(), ip=client_ip())
        db.session.commit()
        return event


@blp.route("/series")
class Series(MethodView):
    @blp.arguments(schemas.EventSeriesCreateSchema)
    @blp.response(201, schemas.EventSeriesSchema)
    def post(self, data):
        """Create a recurring series: N events, weekly or monthly (manager)."""
        _manager()
        frequency, occurrences = data.pop("frequency"), data.pop("occurrences")
        template_id = data.pop("template_id", None)
        series, events = service.create_series(
            current_user.chapter_id, data, frequency=frequency, occurrences=occurrences,
            template_id=template_id, actor=_me(), ip=client_ip())
        db.session.commit()
        return {"id": series.id, "title": series.title, "frequency": series.frequency,
                "occurrences": series.occurrences, "events": events}


@blp.route("/templates")
class Templates(MethodView):
    @blp.response(200, schemas.TemplateSchema(many=True))
    def get(self):
        """HQ's published event templates."""
        return db.session.execute(service.template_query()).scalars().all()


@blp.route("/calendar")
class Calendar(MethodView):
    @blp.arguments(schemas.CalendarArgsSchema, location="query")
    @blp.response(200, schemas.CalendarDaySchema(many=True))
    def get(self, args):
        """The month's days (Monday-first weeks) with their events."""
        year, month = _month(args.get("month"))
        return [d for week in service.month_calendar(year, month) for d in week]


def _month(text: str | None) -> tuple[int, int]:
    if text:
        year, month = (int(p) for p in text.split("-"))
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            return year, month
    today = dates.today()
    return today.year, today.month


@blp.route("/<int:event_id>")
class EventById(MethodView):
    @blp.response(200, schemas.EventSchema)
    def get(self, event_id):
        """Get an event."""
        return service.get_event(event_id)

    @blp.arguments(schemas.EventUpdateSchema)
    @blp.response(200, schemas.EventSchema)
    def patch(self, data, event_id):
        """Change an event (manager); capacity never below the seats taken."""
        _manager()
        event = service.update_event(event_id, data, actor=_me(), ip=client_ip())
        db.session.commit()
        return event


@blp.route("/<int:event_id>/cancel")
class EventCancel(MethodView):
    @blp.arguments(schemas.EventCancelSchema)
    @blp.response(200, schemas.EventSchema)
    def post(self, data, event_id):
        """Cancel the event with the reason (manager); again changes nothing."""
        _manager()
        event = service.cancel_event(event_id, data.get("reason"), actor=_me(), ip=client_ip())
        db.session.commit()
        return event


@blp.route("/<int:event_id>/summary")
class EventSummary(MethodView):
    @blp.response(200, schemas.SummarySchema)
    def get(self, event_id):
        """Invited, registered, waitlisted, attended, rate, satisfaction, new members."""
        return service.summary(service.get_event(event_id))


@blp.route("/<int:event_id>/registrations")
class Registrations(MethodView):
    @blp.arguments(schemas.RegistrationQueryArgsSchema, location="query")
    @blp.response(200, schemas.RegistrationSchema(many=True))
    def get(self, args, event_id):
        """The event's registrations (registered, then waitlist in order); search by name …"""
        rows = db.session.execute(service.registrations_query(event_id, **args).limit(500)).all()
        return [registration_dict(r, m) for r, m in rows]


@blp.route("/<int:event_id>/registrations/<int:registration_id>/check-in")
class RegistrationCheckIn(MethodView):
    @blp.response(200, schemas.CheckInResultSchema)
    def post(self, event_id, registration_id):
        """Check a registration in (found by search); again changes nothing."""
        event = service.get_event(event_id)
        result = service.check_in(event, service.get_registration(registration_id,
                                                                  event_id=event_id),
                                  actor=_me())
        db.session.commit()
        return _check_in_result(result)


@blp.route("/<int:event_id>/registrations/<int:registration_id>/cancel")
class RegistrationCancel(MethodView):
    @blp.response(200, schemas.RegistrationSchema)
    def post(self, event_id, registration_id):
        """Cancel a registration for the member (the waitlist moves up)."""
        registration, _ = service.cancel_registration(registration_id, actor=_me())
        db.session.commit()
        return registration_dict(registration)


def _check_in_result(result: service.CheckIn) -> dict:
    return {"registration": registration_dict(result.registration), "newly": result.newly,
            "points": result.points}


@blp.route("/<int:event_id>/check-in")
class CodeCheckIn(MethodView):
    @blp.arguments(schemas.CheckInCodeSchema)
    @blp.response(200, schemas.CheckInResultSchema)
    def post(self, data, event_id):
        """Check in by the registration's code (scanned QR or typed)."""
        event = service.get_event(event_id)
        registration = service.find_by_code(event, data.get("code"))
        result = service.check_in(event, registration, actor=_me())
        db.session.commit()
        return _check_in_result(result)


@blp.route("/<int:event_id>/walk-ins")
class WalkIns(MethodView):
    @blp.arguments(schemas.WalkInSchema)
    @blp.response(201, schemas.CheckInResultSchema)
    def post(self, data, event_id):
        """Add someone at the door (a member by number/mobile, or a non-member) and check in."""
        result = service.add_walk_in(event_id, actor=_me(), **data)
        db.session.commit()
        return _check_in_result(result)


@blp.route("/<int:event_id>/no-shows")
class NoShows(MethodView):
    @blp.response(200, schemas.ClosingSchema)
    def post(self, event_id):
        """After the event: mark no-shows and settle attendance points (idempotent)."""
        closing = service.mark_no_shows(event_id, actor=_me())
        db.session.commit()
        return closing


@blp.route("/<int:event_id>/feedback")
class EventFeedbackList(MethodView):
    @blp.response(200, schemas.FeedbackSchema(many=True))
    def get(self, event_id):
        """Attendees' ratings and comments, newest first."""
        return service.feedback_list(event_id)


@blp.route("/<int:event_id>/audience")
class Audience(MethodView):
    @blp.arguments(schemas.AudienceSchema)
    @blp.response(200, schemas.AudienceCountSchema)
    def post(self, data, event_id):
        """Count the consenting members the filters select (nothing is sent)."""
        return audience.audience_count(service.get_event(event_id), _iso(data))


@blp.route("/<int:event_id>/invitations")
class Invitations(MethodView):
    @blp.arguments(schemas.AudienceSchema)
    @blp.response(201, schemas.InvitationResultSchema)
    def post(self, data, event_id):
        """Invite the audience through the outbox (manager); invites each member once."""
        _manager()
        result = audience.invite(service.get_event(event_id), _iso(data), actor=_me(),
                                 ip=client_ip())
        db.session.commit()
        return result


def _iso(data: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}


# --- the member portal --------------------------------------------------------------------

def _member():
    return portal.require_member(_me())


@portal_blp.before_request
def _members_only():
    if current_user.is_authenticated and current_user.role != MEMBER:
        abort(403)
    args = request.view_args or {}
    if current_user.is_authenticated and args.get("event_id") is not None:
        service.get_event(args["event_id"])


@portal_blp.route("")
class PortalEvents(MethodView):
    @portal_blp.response(200, schemas.EventSchema(many=True))
    def get(self):
        """Upcoming events of the member's chapter."""
        member = _member()
        return [e for e, _ in db.session.execute(service.member_events_query(member.id)).all()]


@portal_blp.route("/registrations")
class PortalRegistrations(MethodView):
    @portal_blp.response(200, schemas.MyRegistrationSchema(many=True))
    def get(self):
        """The member's registrations, with check-in code and QR code."""
        member = _member()
        rows = db.session.execute(service.member_registrations_query(member.id).limit(100)).all()
        return [registration_dict(r, member, mine=True) for r, _ in rows]


@portal_blp.route("/<int:event_id>")
class PortalEventById(MethodView):
    @portal_blp.response(200, schemas.EventSchema)
    def get(self, event_id):
        """One event of the member's chapter."""
        return service.get_event(event_id)


@portal_blp.route("/<int:event_id>/rsvp")
class PortalRsvp(MethodView):
    @portal_blp.arguments(schemas.RsvpSchema)
    @portal_blp.response(200, schemas.MyRegistrationSchema)
    def post(self, data, event_id):
        """RSVP (with guests); when full, join the waitlist. Again changes nothing."""
        member = _member()
        result = service.rsvp(event_id, member.id, guests=data.get("guests"), actor=_me())
        db.session.commit()
        return registration_dict(result.registration, member, mine=True)


@portal_blp.route("/<int:event_id>/cancel")
class PortalCancel(MethodView):
    @portal_blp.response(200, schemas.MyRegistrationSchema)
    def post(self, event_id):
        """Cancel the member's RSVP or waitlist place; again changes nothing."""
        member = _member()
        registration = service.member_registration(event_id, member.id)
        if registration is None:
            abort(404)
        registration, _ = service.cancel_registration(registration.id, member_id=member.id,
                                                      actor=_me())
        db.session.commit()
        return registration_dict(registration, member, mine=True)


@portal_blp.route("/<int:event_id>/feedback")
class PortalFeedback(MethodView):
    @portal_blp.arguments(schemas.FeedbackCreateSchema)
    @portal_blp.response(201, schemas.FeedbackSchema)
    def post(self, data, event_id):
        """Rate an event attended (1–5) with a comment, once."""
        member = _member()
        feedback = service.give_feedback(event_id, member.id, data.get("rating"),
                                         data.get("comment"))
        db.session.commit()
        return feedback


# --- HQ ------------------------------------------------------------------------------------

@hq_blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


def _hq_admin():
    if current_user.role != HQ_ADMIN:
        raise PermissionDenied("Only an HQ administrator can do this.")


@hq_blp.route("/templates")
class HqTemplates(MethodView):
    @hq_blp.response(200, schemas.TemplateSchema(many=True))
    def get(self):
        """Every event template, published or not."""
        return db.session.execute(service.template_query(published_only=False)).scalars().all()

    @hq_blp.arguments(schemas.TemplateWriteSchema)
    @hq_blp.response(201, schemas.TemplateSchema)
    def post(self, data):
        """Create an event template (HQ admin); chapters see it once published."""
        _hq_admin()
        template = service.save_template(data, actor=_me(), ip=client_ip())
        db.session.commit()
        return template


@hq_blp.route("/templates/<int:template_id>")
class HqTemplateById(MethodView):
    @hq_blp.response(200, schemas.TemplateSchema)
    def get(self, template_id):
        """Get an event template."""
        return service.get_template(template_id, published_only=False)

    @hq_blp.arguments(schemas.TemplateWriteSchema)
    @hq_blp.response(200, schemas.TemplateSchema)
    def patch(self, data, template_id):
        """Change or (un)publish an event template (HQ admin)."""
        _hq_admin()
        template = service.save_template(
            data, service.get_template(template_id, published_only=False), actor=_me(),
            ip=client_ip())
        db.session.commit()
        return template


@hq_blp.route("/report")
class HqReport(MethodView):
    @hq_blp.arguments(schemas.ReportArgsSchema, location="query")
    @hq_blp.response(200, schemas.ReportRowSchema(many=True))
    def get(self, args):
        """Events per month, region and chapter: registered, attended, rate, satisfaction."""
        return report.event_rows(months=args["months"], region=args.get("region"))
