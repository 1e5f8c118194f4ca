"""JSON API: the central member database (HQ).

Every handler reads across chapters inside an explicit ``unscoped(...)`` block; HQ
roles only, writes (reveal, consent, anonymise) for HQ admins.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, g, request
from flask.views import MethodView
from flask_login import current_user

from clubplatform.api import Blueprint
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.extensions import db
from clubplatform.security import client_ip
from clubplatform.tenancy import unscoped
from hq.members import schemas, service

blp = Blueprint("api_hq_members", __name__, url_prefix="/hq/members", description="Central member database (HQ).")

READ = "HQ API: the central member database"


@blp.before_request
def _hq_only():
    if current_user.is_authenticated and current_user.role not in HQ_ROLES:
        abort(403)


@blp.before_request
def _load_member():
    args = request.view_args or {}
    if "member_id" in args:
        with unscoped(READ):
            g.member = service.get_member(args["member_id"])


def _admin_only():
    if current_user.role != HQ_ADMIN:
        abort(403)


def _page(stmt: sa.Select, pagination_parameters) -> list:
    pagination_parameters.item_count = db.session.execute(
        sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    return list(db.session.execute(
        stmt.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    ).scalars())


@blp.route("")
class Members(MethodView):
    @blp.arguments(schemas.MemberQueryArgsSchema, location="query")
    @blp.response(200, schemas.MemberSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Search members across chapters (paginated; X-Pagination header)."""
        with unscoped(READ):
            return _page(service.member_search_query(**args), pagination_parameters)


def _history_dict(history: service.MemberHistory) -> dict:
    return {
        "member": history.member,
        "periods": [{"chapter_id": p.chapter_id,
                     "chapter_name": history.chapters.get(p.chapter_id, ("", ""))[0],
                     "status": p.status, "valid_from": p.valid_from, "valid_to": p.valid_to,
                     "reason": p.reason, "end_reason": p.end_reason} for p in history.periods],
        "transfers": history.transfers,
        "consents": history.consents,
    }


@blp.route("/<int:member_id>")
class MemberById(MethodView):
    @blp.response(200, schemas.MemberHistorySchema)
    def get(self, member_id):
        """Get a member with their chapter history, transfers and consents."""
        with unscoped(READ):
            return _history_dict(service.member_history(g.member))


@blp.route("/<int:member_id>/reveal")
class MemberReveal(MethodView):
    @blp.response(200, schemas.RevealSchema)
    def post(self, member_id):
        """Reveal a member's full ID number (HQ admin; audited)."""
        _admin_only()
        with unscoped(READ):
            number = service.reveal_member_id_number(g.member, actor=current_user,
                                                     ip=client_ip())
            db.session.commit()
        return {"id_number": number}


@blp.route("/<int:member_id>/anonymise")
class MemberAnonymise(MethodView):
    @blp.response(200, schemas.MemberSchema)
    def post(self, member_id):
        """Anonymise a member on request (HQ admin; audited; cannot be undone)."""
        _admin_only()
        with unscoped("HQ API: anonymise a member"):
            member = service.anonymise_member(g.member, current_user, client_ip())
            db.session.commit()
        return member


@blp.route("/<int:member_id>/consents")
class MemberConsents(MethodView):
    @blp.response(200, schemas.ConsentSchema(many=True))
    def get(self, member_id):
        """A member's consent history, newest first."""
        return service.consent_history(g.member.id)

    @blp.arguments(schemas.ConsentUpdateSchema)
    @blp.response(200, schemas.MemberSchema)
    def patch(self, data, member_id):
        """Record consent per channel (HQ admin; history kept, audited)."""
        _admin_only()
        source = data.pop("source")
        with unscoped("HQ API: record a member's consent"):
            service.update_consents(g.member, data, source=source, actor=current_user,
                                    ip=client_ip())
            db.session.commit()
        return g.member


@blp.route("/report")
class Report(MethodView):
    @blp.arguments(schemas.ReportQueryArgsSchema, location="query")
    @blp.response(200, schemas.StatusReportSchema)
    def get(self, args):
        """Member status per chapter or region for a month (counts computed in SQL)."""
        month = service.parse_month(args["month"])
        return service.member_status_report(month, group=args["group"],
                                            chapter_id=args["chapter_id"],
                                            region_id=args["region_id"])


@blp.route("/report/export")
class ReportExport(MethodView):
    @blp.arguments(schemas.ReportExportArgsSchema, location="query")
    def get(self, args):
        """The member status report as CSV (UTF-8 or GBK) or XLSX (audited)."""
        month = service.parse_month(args["month"])
        report = service.member_status_report(month, group=args["group"],
                                              chapter_id=args["chapter_id"],
                                              region_id=args["region_id"])
        file = service.export_member_status(report, fmt=args["format"],
                                            encoding=args["encoding"], actor=current_user,
                                            ip=client_ip())
        db.session.commit()
        return Response(file.content, mimetype=file.mimetype, headers={
            "Content-Disposition": f"attachment; filename={file.filename}"})


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.arguments(schemas.TransferQueryArgsSchema, location="query")
    @blp.response(200, schemas.TransferSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Transfers between chapters, newest first (paginated)."""
        with unscoped(READ):
            return service.transfer_views(_page(service.transfer_query(status=args["status"]),
                                                pagination_parameters))
