"""HQ page: the audit log with filters, and its export."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform import dates
from clubplatform.audit import service
from clubplatform.audit.models import AuditLog
from clubplatform.extensions import db
from clubplatform.security import client_ip, hq_read_required
from clubplatform.tabular import to_csv

bp = Blueprint("audit", __name__, url_prefix="/hq/audit")

EXPORT_LIMIT = 100_000


def _filter_from_args() -> service.AuditFilter:
    def day(name: str) -> date | None:
        try:
            return datetime.strptime(request.args.get(name, ""), "%Y-%m-%d").date()
        except ValueError:
            return None

    since, until = day("since"), day("until")
    return service.AuditFilter(
        action=request.args.get("action") or None,
        actor=request.args.get("actor") or None,
        chapter_id=request.args.get("chapter", type=int),
        since=dates.day_start_utc(since) if since else None,
        until=dates.day_end_utc(until) if until else None,
    )


@bp.route("/")
@hq_read_required
def log():
    """The audit log, newest first, filtered by action, actor, chapter and dates."""
    f = _filter_from_args()
    page = db.paginate(service.audit_query(f), per_page=50, error_out=False)
    return render_template("audit/log.html", page=page, actions=service.ACTIONS, args=request.args)


@bp.route("/export.csv")
@hq_read_required
def export():
    """The filtered audit log as CSV (the export itself is audited)."""
    f = _filter_from_args()
    rows = db.session.execute(service.audit_query(f).limit(EXPORT_LIMIT)).scalars()
    body = to_csv(
        [_("Time"), _("Actor"), _("Action"), _("Chapter"), _("Object"), _("IP address"), _("Details")],
        ([dates.local(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.actor_name, e.action, e.chapter_id,
          f"{e.target_type or ''} {e.target_id or ''}".strip(), e.ip, e.details]
         for e in rows),
    )
    service.record("export", actor=current_user, ip=client_ip(), target_type="audit_log",
                   details={"filters": request.args.to_dict()})
    db.session.commit()
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=audit-log.csv"})


__all__ = ["bp", "AuditLog"]
