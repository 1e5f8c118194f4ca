"""Chapter pages: the churn report (matrix, owners behind a cell with RFM, trend), exports.

``hq_bp`` is HQ's side, in the chapter wing because it reads chapter data: the matrix
per chapter and per region, and the cut-off settings; guarded for HQ roles.
"""

from __future__ import annotations

from uuid import uuid4

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from chapter.churn import jobs as churn_jobs
from chapter.churn import service
from chapter.churn.forms import SettingsForm, SnapshotForm
from clubplatform import jobs
from clubplatform.audit import service as audit
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.org.models import Region
from clubplatform.security import client_ip
from hq.members.service import parse_month

bp = Blueprint("churn", __name__, url_prefix="/churn")
hq_bp = Blueprint("hq_churn", __name__, url_prefix="/hq/churn",
                  template_folder="../templates")

def labels() -> dict:
    return {"loyalty_labels": service.LOYALTY_LABELS, "value_labels": service.VALUE_LABELS,
            "loyalties": service.LOYALTIES, "values": service.VALUES,
            "action_for": service.action_for, "care_link": care_link}


bp.context_processor(labels)
hq_bp.context_processor(labels)


def care_link(task_id: int | None) -> str | None:
    """The owner's next open task on the care list, when there is one (chapter/care)."""
    if task_id is None:
        return None
    try:
        return url_for("chapter.care.task", task_id=task_id)
    except BuildError:
        return None


def _month():
    """The month filter (``YYYY-MM``); a bad one falls back to this month with a message."""
    try:
        return parse_month(request.args.get("month"))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return parse_month(None)


def _cell_args():
    try:
        return service.parse_cell_args(request.args.get("loyalty"), request.args.get("value"))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return None, None


@bp.route("/")
def index():
    """The churn report: the loyalty × value matrix with actions, RFM, trend by month."""
    month = _month()
    as_of = service.as_of_for(month)
    settings = service.get_settings()
    chapter_id = current_user.chapter_id
    matrix = service.chapter_matrix(chapter_id, as_of, settings)
    trend = service.churn_trend(chapter_id, month, 12, settings)
    rfm = service.rfm_distribution(chapter_id, as_of, settings)
    return render_template("chapter/churn/index.html", m=matrix, month=month, trend=trend,
                           rfm=rfm, settings=settings,
                           window=service.VALUE_WINDOW_MONTHS)


@bp.route("/owners")
def owners():
    """The owners behind a cell (or all), with RFM scores and flags (paginated)."""
    month = _month()
    loyalty, value = _cell_args()
    as_of = service.as_of_for(month)
    query = service.owners_query(current_user.chapter_id, as_of, loyalty=loyalty, value=value)
    page = service.owners_page(current_user.chapter_id, query,
                               request.args.get("page", 1, type=int), per_page=50)
    return render_template("chapter/churn/owners.html", page=page, month=month, as_of=as_of,
                           loyalty=loyalty, value=value)


@bp.route("/owners/export")
def export():
    """The owners of a cell (or all) as CSV or XLSX (audited)."""
    month = parse_month(request.args.get("month"))
    loyalty, value = service.parse_cell_args(request.args.get("loyalty"),
                                             request.args.get("value"))
    file = service.export_owners(current_user.chapter_id, service.as_of_for(month),
                                 loyalty=loyalty, value=value,
                                 fmt=request.args.get("format", "csv"),
                                 actor=current_user, ip=client_ip())
    db.session.commit()
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={file.filename}"})


# --- HQ -------------------------------------------------------------------------------------

@hq_bp.before_request
@login_required
def _hq_only():
    """HQ pages over chapter data: HQ roles only."""
    if current_user.role not in HQ_ROLES:
        abort(403)


@hq_bp.route("/")
def hq_index():
    """HQ's churn matrices: per region (nation) or per chapter of a region, by month."""
    text = request.args.get("month")
    try:
        month = parse_month(text) if text else service.last_complete_month()
    except DomainError as exc:
        flash(str(exc.message), "error")
        month = service.last_complete_month()
    region_id = request.args.get("region_id", type=int)
    regions = db.session.execute(sa.select(Region).order_by(Region.code)).scalars().all()
    if region_id is not None and not any(r.id == region_id for r in regions):
        abort(404)
    view = service.hq_view(month, region_id)
    return render_template("chapter/churn/hq_index.html", v=view, rows=view["rows"],
                           total=view["total"], month=month, as_of=view["as_of"],
                           regions=regions, region_id=region_id, group=view["group"],
                           can_edit=current_user.role == HQ_ADMIN, form=SnapshotForm())


@hq_bp.route("/snapshots", methods=["POST"])
def compute_snapshots():
    """Keep every chapter's matrix of a month that has ended (HQ admin; a background job)."""
    if current_user.role != HQ_ADMIN:
        abort(403)
    form = SnapshotForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        month = parse_month(form.month.data)
        if month >= service.as_of_for(None).replace(day=1):
            raise DomainError(_("Only a month that has ended can be kept."))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("hq_churn.hq_index"))
    token = uuid4().hex[:8]  # an explicit request computes again, even a kept month
    audit.record("churn_snapshot_request", actor=current_user, ip=client_ip(),
                 target_type="churn_snapshots", details={"month": f"{month:%Y-%m}"})
    db.session.commit()
    run = jobs.submit(churn_jobs.snapshot_all, f"{month:%Y-%m}", token, name="churn-snapshot-all",
                      chapter_id=None, user_id=current_user.id, key=f"{month:%Y-%m}-{token}")
    flash(_("The churn snapshots of %(m)s are being computed.", m=f"{month:%Y-%m}"), "success")
    return redirect(url_for("jobs.detail", job_id=run.id))


def _settings_page(form, status=200):
    return render_template("chapter/churn/hq_settings.html", form=form,
                           rows=service.setting_rows(),
                           can_edit=current_user.role == HQ_ADMIN), status


@hq_bp.route("/settings")
def settings():
    """The churn cut-offs in effect, their defaults, and the form to change them."""
    form = SettingsForm(formdata=None, data={r["key"]: r["value"] for r in service.setting_rows()})
    return _settings_page(form)


@hq_bp.route("/settings", methods=["POST"])
def save_settings():
    """Change the cut-offs (HQ admin); a blank field restores its default."""
    if current_user.role != HQ_ADMIN:
        abort(403)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _settings_page(form, 400)
    try:
        service.update_settings(form.data_dict(), actor=current_user, ip=client_ip())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return _settings_page(form, exc.status)
    flash(_("The churn settings have been saved."), "success")
    return redirect(url_for("hq_churn.settings"))
