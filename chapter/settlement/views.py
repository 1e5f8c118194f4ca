"""Chapter pages: the chapter's settlement statements (confirm, print, XLSX), points report."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.members.service import parse_month
from hq.settlement import reports, service
from hq.settlement.forms import ActionForm

bp = Blueprint("settlement", __name__, url_prefix="/settlement")


@bp.route("/")
def index():
    """The chapter's statements, newest month first."""
    statements = db.session.execute(service.chapter_statements_query()).scalars().all()
    return render_template("chapter/settlement/index.html", statements=statements,
                           labels=service.STATUS_LABELS)


@bp.route("/statements/<int:statement_id>")
def statement(statement_id: int):
    """One statement, printable; the manager confirms a draft here."""
    st = service.get_chapter_statement(statement_id)
    return render_template("chapter/settlement/statement.html", st=st, kind="chapter",
                           lines=service.statement_lines(st), labels=service.STATUS_LABELS,
                           action_form=ActionForm())


@bp.route("/statements/<int:statement_id>/confirm", methods=["POST"])
def confirm(statement_id: int):
    st = service.get_chapter_statement(statement_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.confirm(st, current_user, ip=client_ip())
        db.session.commit()
        flash(_("The statement has been confirmed."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("chapter.settlement.statement", statement_id=statement_id))


@bp.route("/statements/<int:statement_id>/export")
def export(statement_id: int):
    file = service.export_statement(service.get_chapter_statement(statement_id),
                                    actor=current_user, ip=client_ip())
    db.session.commit()
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={file.filename}"})


@bp.route("/report")
def report():
    """The chapter's points: issued, redeemed, expired, outstanding, month by month."""
    try:
        month = parse_month(request.args.get("month"))
    except DomainError as exc:
        flash(str(exc.message), "error")
        month = parse_month(None)
    rep = reports.points_report(month, group="chapter", chapter_id=current_user.chapter_id)
    return render_template("chapter/settlement/report.html", r=rep, month=month)
