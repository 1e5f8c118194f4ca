"""JSON API: referrals and leads."""

from __future__ import annotations

from flask.views import MethodView
from flask_login import current_user

from chapter.console.api_access import chapter_staff_only
from chapter.referrals import schemas, service
from clubplatform.api import Blueprint, CursorPage
from clubplatform.extensions import db
from clubplatform.security import client_ip

blp = Blueprint("api_leads", __name__, url_prefix="/chapter/leads", description="Referrals and leads (chapter).")


chapter_staff_only(blp, lead_id=service.get_lead)


@blp.route("")
class Leads(MethodView):
    @blp.arguments(schemas.LeadQueryArgsSchema, location="query")
    @blp.response(200, schemas.LeadSchema(many=True))
    @blp.paginate(CursorPage)
    def get(self, args):
        """List the chapter's leads, due follow-ups first (paginated)."""
        return service.lead_query(**args)

    @blp.arguments(schemas.LeadCreateSchema)
    @blp.response(201, schemas.LeadSchema)
    def post(self, data):
        """Record a lead: a member's referral (member number) or a walk-in."""
        number = (data.pop("referrer_member_number", None) or "").strip()
        referrer = service.find_referrer(number) if number else None
        lead = service.record_lead(data, referrer=referrer, actor=current_user, ip=client_ip())
        db.session.commit()
        return lead


@blp.route("/purchases-by-month")
class PurchasesByMonth(MethodView):
    @blp.arguments(schemas.LeadPurchasesQueryArgsSchema, location="query")
    @blp.response(200, schemas.LeadPurchasesMonthSchema(many=True))
    def get(self, args):
        """Referral purchases per month for the chapter (oldest month first)."""
        return service.referral_purchases_by_month(args["months"])


@blp.route("/<int:lead_id>")
class LeadById(MethodView):
    @blp.response(200, schemas.LeadSchema)
    def get(self, lead_id):
        """Get a lead."""
        return service.get_lead(lead_id)

    @blp.arguments(schemas.LeadUpdateSchema)
    @blp.response(200, schemas.LeadSchema)
    def patch(self, data, lead_id):
        """Re-grade an open lead, move its next follow-up, change its model or staff member."""
        lead = service.update_lead(service.get_lead(lead_id), data, actor=current_user)
        db.session.commit()
        return lead


@blp.route("/<int:lead_id>/notes")
class LeadNotes(MethodView):
    @blp.response(200, schemas.LeadNoteSchema(many=True))
    def get(self, lead_id):
        """The lead's follow-up timeline, newest first."""
        return service.lead_notes(service.get_lead(lead_id))

    @blp.arguments(schemas.LeadNoteCreateSchema)
    @blp.response(201, schemas.LeadNoteSchema)
    def post(self, data, lead_id):
        """Record a follow-up contact (optionally re-grading the lead)."""
        note = service.add_note(service.get_lead(lead_id), data["note"], grade=data["grade"],
                                next_follow_up_on=data["next_follow_up_on"], actor=current_user)
        db.session.commit()
        return note


@blp.route("/<int:lead_id>/lost")
class LeadLost(MethodView):
    @blp.arguments(schemas.LeadLostSchema)
    @blp.response(200, schemas.LeadSchema)
    def post(self, data, lead_id):
        """Mark an open lead lost, with the reason."""
        lead = service.mark_lost(service.get_lead(lead_id), data["reason"], actor=current_user)
        db.session.commit()
        return lead


@blp.route("/<int:lead_id>/purchase")
class LeadPurchase(MethodView):
    @blp.arguments(schemas.LeadPurchaseSchema)
    @blp.response(200, schemas.LeadSchema)
    def post(self, data, lead_id):
        """Close the lead as a referral purchase (VIN, date); closing again changes nothing."""
        lead = service.close_as_purchase(service.get_lead(lead_id), data["vin"],
                                         data["purchased_on"], actor=current_user, ip=client_ip())
        db.session.commit()
        return lead
