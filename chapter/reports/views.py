"""Chapter pages: the reports page (daily work, member status, points, churn) and exports.

One page with one filter (a month, and a date range for the daily work) leads to every
report; each section has its CSV/XLSX export and a link to the full report.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, request
from flask_login import current_user

from chapter.churn import service as churn
from chapter.reports import service
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.security import client_ip
from hq.members import service as members
from hq.settlement import reports as points_reports

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _month():
    try:
        return members.parse_month(request.args.get("month", ""))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return members.parse_month(None)


def _range(month):
    try:
        return service.parse_range(request.args.get("from"), request.args.get("to"), month)
    except DomainError as exc:
        flash(str(exc.message), "error")
        return service.parse_range(None, None, month)


def _send(file):
    db.session.commit()
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={file.filename}"})


@bp.route("/")
def index():
    """The chapter's reports: daily work, member status, points and churn for a month."""
    month = _month()
    first, last = _range(month)
    chapter_id = current_user.chapter_id
    status = service.chapter_status(chapter_id, month)
    work = service.daily_work(chapter_id, first, last)
    points = points_reports.points_report(month, group="chapter", chapter_id=chapter_id)
    matrix = churn.chapter_matrix(chapter_id, churn.as_of_for(month))
    return render_template(
        "chapter/reports/index.html", s=status, r=status.row, month=month,
        status_labels=members.STATUS_LABELS, tier_labels=members.TIER_LABELS,
        source_labels=members.SOURCE_LABELS, work=work, work_labels=service.DAILY_WORK_LABELS,
        points=points.total if len(points.rows) != 1 else points.rows[0], matrix=matrix,
        loyalty_labels=churn.LOYALTY_LABELS, ranged=bool(request.args.get("from")
                                                         or request.args.get("to")))


@bp.route("/export")
def export():
    """The member status report as CSV (UTF-8, or GBK with ``encoding=gbk``) or XLSX."""
    month = members.parse_month(request.args.get("month"))
    return _send(service.export_chapter_status(
        current_user.chapter_id, month, fmt=request.args.get("format", "csv"),
        encoding=request.args.get("encoding"), actor=current_user, ip=client_ip()))


@bp.route("/daily-work/export")
def export_daily_work():
    """The daily work figures of the date range (or month) as CSV or XLSX."""
    month = members.parse_month(request.args.get("month"))
    first, last = service.parse_range(request.args.get("from"), request.args.get("to"), month)
    work = service.daily_work(current_user.chapter_id, first, last)
    return _send(service.export_daily_work(current_user.chapter_id, work,
                                           fmt=request.args.get("format", "csv"),
                                           actor=current_user, ip=client_ip()))


@bp.route("/points/export")
def export_points():
    """The chapter's points report of the month as CSV or XLSX."""
    month = members.parse_month(request.args.get("month"))
    return _send(service.export_points(current_user.chapter_id, month,
                                       fmt=request.args.get("format", "csv"),
                                       actor=current_user, ip=client_ip()))
