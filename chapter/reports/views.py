"""Chapter pages: reports (member status) with CSV/XLSX export."""

from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, request
from flask_login import current_user

from chapter.reports import service
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.members import service as members

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.route("/")
def index():
    """The chapter's member status for a month: by status, tier, source, movements."""
    text = request.args.get("month", "")
    try:
        month = members.parse_month(text)
    except DomainError as exc:
        flash(str(exc.message), "error")
        month = members.parse_month(None)
    status = service.chapter_status(current_user.chapter_id, month)
    return render_template(
        "chapter/reports/index.html", s=status, r=status.row, month=month,
        status_labels=members.STATUS_LABELS, tier_labels=members.TIER_LABELS,
        source_labels=members.SOURCE_LABELS)


@bp.route("/export")
def export():
    """The member status report as CSV (UTF-8, or GBK with ``encoding=gbk``) or XLSX."""
    month = members.parse_month(request.args.get("month"))
    file = service.export_chapter_status(
        current_user.chapter_id, month, fmt=request.args.get("format", "csv"),
        encoding=request.args.get("encoding"), actor=current_user, ip=client_ip())
    db.session.commit()
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={file.filename}"})
