"""JSON API: settlement statements and the points report (HQ all, a chapter its own)."""

from __future__ import annotations

import contextlib

from flask import abort, request
from flask.views import MethodView
from flask_login import current_user

from clubplatform.api import Blueprint
from clubplatform.auth.models import CHAPTER_ROLES, HQ_ADMIN, HQ_ROLES
from clubplatform.extensions import db
from clubplatform.security import client_ip
from clubplatform.tenancy import unscoped
from hq.members.service import parse_month
from hq.settlement import reports, schemas, service

blp = Blueprint("api_settlement", __name__, url_prefix="/settlement",
                description="Monthly points settlement statements.")
report_blp = Blueprint("api_points_report", __name__, url_prefix="/points/report",
                       description="Points issued, redeemed, expired and outstanding.")


def _is_hq() -> bool:
    return current_user.role in HQ_ROLES


def _reading():
    """HQ reads across chapters; a chapter's request scope filters its own."""
    return unscoped("settlement: HQ sees every statement") if _is_hq() \
        else contextlib.nullcontext()


@blp.before_request
@report_blp.before_request
def _hq_or_chapter():
    if current_user.is_authenticated and not (
            _is_hq() or (current_user.role in CHAPTER_ROLES and current_user.chapter_id)):
        abort(403)
    # another chapter's statement answers 404 before its request body is even read
    statement_id = (request.view_args or {}).get("statement_id")
    if statement_id is not None and current_user.is_authenticated:
        with _reading():
            service.get_chapter_statement(statement_id)


def _month_or_none(text):
    return parse_month(text) if text else None


@blp.route("/statements")
class Statements(MethodView):
    @blp.arguments(schemas.StatementQueryArgsSchema, location="query")
    @blp.response(200, schemas.ChapterStatementSchema(many=True))
    def get(self, args):
        """Chapter statements, newest month first (HQ: all chapters; a chapter: its own)."""
        with _reading():
            return list(db.session.execute(service.chapter_statements_query(
                month=_month_or_none(args["month"]), status=args["status"])).scalars())


@blp.route("/statements/<int:statement_id>")
class StatementById(MethodView):
    @blp.response(200, schemas.ChapterStatementSchema)
    def get(self, statement_id):
        """One chapter statement (another chapter's answers 404)."""
        with _reading():
            return service.get_chapter_statement(statement_id)


def _transition(statement_id, action, **kwargs):
    with _reading():
        st = service.get_chapter_statement(statement_id)
        action(st, current_user, ip=client_ip(), **kwargs)
        db.session.commit()
        return st


@blp.route("/statements/<int:statement_id>/confirm")
class StatementConfirm(MethodView):
    @blp.response(200, schemas.ChapterStatementSchema)
    def post(self, statement_id):
        """The chapter's manager confirms the draft statement."""
        return _transition(statement_id, service.confirm)


@blp.route("/statements/<int:statement_id>/approve")
class StatementApprove(MethodView):
    @blp.response(200, schemas.ChapterStatementSchema)
    def post(self, statement_id):
        """HQ approves a confirmed statement (hq_admin)."""
        return _transition(statement_id, service.approve)


@blp.route("/statements/<int:statement_id>/payment")
class StatementPayment(MethodView):
    @blp.arguments(schemas.PaymentSchema)
    @blp.response(200, schemas.ChapterStatementSchema)
    def post(self, data, statement_id):
        """HQ records the payment of an approved statement (reference, date)."""
        return _transition(statement_id, service.record_payment,
                           payment_ref=data["payment_ref"], paid_on=data["paid_on"])


@blp.route("/drafts")
class Drafts(MethodView):
    @blp.arguments(schemas.DraftSchema)
    @blp.response(200, schemas.DraftResultSchema)
    def post(self, data):
        """Draft (or re-draft) a month's statements now (hq_admin); a closed month stays."""
        if current_user.role != HQ_ADMIN:
            abort(403)
        month = parse_month(data["month"])
        with unscoped("settlement: HQ drafts every chapter's statement"):
            result = service.draft_month(month, actor=current_user)
            db.session.commit()
        return result


@blp.route("/partner-statements")
class PartnerStatements(MethodView):
    @blp.arguments(schemas.StatementQueryArgsSchema, location="query")
    @blp.response(200, schemas.PartnerStatementSchema(many=True))
    def get(self, args):
        """Partner statements (HQ only)."""
        if not _is_hq():
            abort(403)
        return list(db.session.execute(service.partner_statements_query(
            month=_month_or_none(args["month"]), status=args["status"])).scalars())


@report_blp.route("")
class PointsReport(MethodView):
    @report_blp.arguments(schemas.PointsReportArgsSchema, location="query")
    @report_blp.response(200, schemas.PointsReportSchema)
    def get(self, args):
        """Points issued / redeemed / expired / outstanding by chapter, region or nation."""
        month = parse_month(args["month"])
        if _is_hq():
            return reports.points_report(month, group=args["group"],
                                         chapter_id=args["chapter_id"],
                                         region_id=args["region_id"])
        return reports.points_report(month, group="chapter", chapter_id=current_user.chapter_id)
