"""HQ pages: settlement months and statements, approvals, payments, the points report."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform import dates
from clubplatform.auth.models import HQ_ADMIN
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.money import format_fen
from clubplatform.org.models import Region
from clubplatform.security import client_ip
from clubplatform.tenancy import unscoped
from hq.members.service import parse_month
from hq.points.models import STATEMENT_STATUSES
from hq.settlement import reports, service
from hq.settlement.forms import ActionForm, DraftForm, PaymentForm

bp = Blueprint("settlement", __name__, url_prefix="/settlement")
WHY = "settlement: HQ works every chapter's statement"


@bp.app_template_filter("fen")
def _fen(value):
    return format_fen(value)


def _admin_only():
    if current_user.role != HQ_ADMIN:
        abort(403)


def _month_arg():
    try:
        return parse_month(request.args.get("month"))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return parse_month(None)


def _download(file):
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={file.filename}"})


@bp.route("/")
def index():
    """Months with their statements' status; the chosen month's chapter and partner statements."""
    month = _month_arg() if request.args.get("month") else service.previous_month()
    status = request.args.get("status", "")
    status = status if status in STATEMENT_STATUSES else ""
    with unscoped(WHY):
        months = service.months_overview()
        chapters = db.session.execute(service.chapter_statements_query(
            month=month, status=status or None)).scalars().all()
        partners = db.session.execute(service.partner_statements_query(
            month=month, status=status or None)).scalars().all()
        closed = service.month_closed(month)
    return render_template("hq/settlement/index.html", months=months, month=month,
                           chapters=chapters, partners=partners, closed=closed, status=status,
                           statuses=STATEMENT_STATUSES, labels=service.STATUS_LABELS,
                           draft_form=DraftForm(month=month.strftime("%Y-%m")))


@bp.route("/draft", methods=["POST"])
def draft():
    """Draft (or re-draft) a month now; confirmed and later statements stay as they are."""
    _admin_only()
    form = DraftForm()
    month = None
    if form.validate_on_submit():
        try:
            month = parse_month(form.month.data)
            with unscoped(WHY):
                result = service.draft_month(month, actor=current_user)
                db.session.commit()
            flash(_("The month is closed: nothing changed.") if result.closed
                  else _("%(n)s statements drafted.", n=result.chapter_statements
                         + result.partner_statements), "info" if result.closed else "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("hq.settlement.index",
                            month=month.strftime("%Y-%m") if month else None))


@bp.route("/export")
def export_month():
    """The month's statements as XLSX."""
    month = _month_arg()
    with unscoped(WHY):
        file = service.export_month(month, actor=current_user, ip=client_ip())
        db.session.commit()
    return _download(file)


def _get(kind: str, statement_id: int):
    if kind == "chapter":
        return service.get_chapter_statement(statement_id)
    return service.get_partner_statement(statement_id)


def _render(kind, st, *, payment_form=None, status=200):
    return render_template(
        "hq/settlement/statement.html", st=st, kind=kind, lines=service.statement_lines(st),
        labels=service.STATUS_LABELS, action_form=ActionForm(),
        payment_form=payment_form or PaymentForm(paid_on=dates.today()),
        is_admin=current_user.role == HQ_ADMIN), status


@bp.route("/statements/<int:statement_id>")
def statement(statement_id: int):
    """A chapter statement, printable, with HQ's actions."""
    with unscoped(WHY):
        return _render("chapter", _get("chapter", statement_id))


@bp.route("/partner-statements/<int:partner_statement_id>")
def partner_statement(partner_statement_id: int):
    """A partner statement, printable, with HQ's actions."""
    with unscoped(WHY):
        return _render("partner", _get("partner", partner_statement_id))


def _act(kind, statement_id, action, done, **kwargs):
    _admin_only()
    endpoint = "hq.settlement.statement" if kind == "chapter" else \
        "hq.settlement.partner_statement"
    arg = "statement_id" if kind == "chapter" else "partner_statement_id"
    with unscoped(WHY):
        st = _get(kind, statement_id)
        try:
            action(st, current_user, ip=client_ip(), **kwargs)
            db.session.commit()
            flash(done, "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for(endpoint, **{arg: statement_id}))


def _act_form(kind, statement_id, action, done):
    if not ActionForm().validate_on_submit():
        abort(400)
    return _act(kind, statement_id, action, done)


def _pay(kind, statement_id):
    _admin_only()
    form = PaymentForm()
    if not form.validate_on_submit():
        with unscoped(WHY):
            return _render(kind, _get(kind, statement_id), payment_form=form, status=422)
    return _act(kind, statement_id, service.record_payment, _("The payment has been recorded."),
                payment_ref=form.payment_ref.data, paid_on=form.paid_on.data)


@bp.route("/statements/<int:statement_id>/approve", methods=["POST"])
def approve(statement_id: int):
    return _act_form("chapter", statement_id, service.approve,
                     _("The statement has been approved."))


@bp.route("/statements/<int:statement_id>/payment", methods=["POST"])
def payment(statement_id: int):
    return _pay("chapter", statement_id)


@bp.route("/partner-statements/<int:partner_statement_id>/confirm", methods=["POST"])
def partner_confirm(partner_statement_id: int):
    return _act_form("partner", partner_statement_id, service.confirm,
                     _("The statement has been confirmed."))


@bp.route("/partner-statements/<int:partner_statement_id>/approve", methods=["POST"])
def partner_approve(partner_statement_id: int):
    return _act_form("partner", partner_statement_id, service.approve,
                     _("The statement has been approved."))


@bp.route("/partner-statements/<int:partner_statement_id>/payment", methods=["POST"])
def partner_payment(partner_statement_id: int):
    return _pay("partner", partner_statement_id)


@bp.route("/statements/<int:statement_id>/export")
def export_statement(statement_id: int):
    with unscoped(WHY):
        file = service.export_statement(_get("chapter", statement_id), actor=current_user,
                                        ip=client_ip())
        db.session.commit()
    return _download(file)


@bp.route("/partner-statements/<int:partner_statement_id>/export")
def export_partner_statement(partner_statement_id: int):
    with unscoped(WHY):
        file = service.export_statement(_get("partner", partner_statement_id),
                                        actor=current_user, ip=client_ip())
        db.session.commit()
    return _download(file)


def _report_args():
    group = request.args.get("group", "chapter")
    group = group if group in reports.GROUPS else "chapter"
    region_id = request.args.get("region_id", type=int)
    return _month_arg(), group, region_id


@bp.route("/report")
def report():
    """Points issued / redeemed / expired / outstanding per chapter, region or nation."""
    month, group, region_id = _report_args()
    rep = reports.points_report(month, group=group, region_id=region_id)
    regions = db.session.execute(
        Region.__table__.select().order_by(Region.__table__.c.code)).all()
    return render_template("hq/settlement/report.html", r=rep, month=month, group=group,
                           region_id=region_id, regions=regions,
                           export_url=url_for("hq.settlement.report_export",
                                              month=month.strftime("%Y-%m"), group=group,
                                              region_id=region_id))


@bp.route("/report/export")
def report_export():
    from clubplatform.tabular import to_xlsx

    month, group, region_id = _report_args()
    rep = reports.points_report(month, group=group, region_id=region_id)
    headers, rows = reports.report_table(rep)
    from clubplatform.audit import service as audit

    name = f"points-{group}-{month:%Y-%m}.xlsx"
    audit.record("export", actor=current_user, ip=client_ip(), target_type="points_report",
                 details={"file": name, "rows": len(rows)})
    db.session.commit()
    return Response(to_xlsx(headers, rows, title=_("Points")), mimetype=service.XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})
