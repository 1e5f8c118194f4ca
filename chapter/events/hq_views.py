"""HQ pages over events: the templates HQ publishes, and events per chapter/region/month.

Lives in the chapter wing (hq never imports chapter) as its own blueprint, guarded for
HQ roles; it reads across chapters only inside ``unscoped(...)`` (chapter.events.report).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from chapter.events import report, service
from chapter.events.forms import TemplateForm
from clubplatform.audit import service as audit
from clubplatform.auth.models import HQ_ROLES
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.org.models import Region
from clubplatform.security import client_ip, hq_write_required

bp = Blueprint("hq_events", __name__, url_prefix="/hq/events", template_folder="../templates")


@bp.before_request
@login_required
def _hq_only():
    """HQ staff only (admin writes, analyst reads)."""
    if current_user.role not in HQ_ROLES:
        abort(403)


@bp.context_processor
def _helpers():
    return {"type_labels": service.TYPE_LABELS}


@bp.route("/templates")
def templates():
    """HQ's event templates, published or not."""
    rows = db.session.execute(service.template_query(published_only=False)).scalars().all()
    return render_template("hq_events/templates.html", templates=rows)


@bp.route("/templates/new", methods=["GET", "POST"])
@hq_write_required
def new_template():
    """Create an event template for chapters to reuse."""
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            service.save_template(form.template_data(), actor=current_user._get_current_object(),
                                  ip=client_ip())
            db.session.commit()
            flash(_("The template has been saved."), "success")
            return redirect(url_for("hq_events.templates"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("hq_events/template_form.html", form=form, template=None), \
        (422 if request.method == "POST" else 200)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@hq_write_required
def edit_template(template_id: int):
    """Change or (un)publish an event template."""
    try:
        template = service.get_template(template_id, published_only=False)
    except DomainError:
        abort(404)
    form = TemplateForm(obj=template)
    if form.validate_on_submit():
        try:
            service.save_template(form.template_data(), template,
                                  actor=current_user._get_current_object(), ip=client_ip())
            db.session.commit()
            flash(_("The template has been saved."), "success")
            return redirect(url_for("hq_events.templates"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("hq_events/template_form.html", form=form, template=template), \
        (422 if request.method == "POST" else 200)


def _args():
    try:
        months = max(1, min(int(request.args.get("months", 12)), 36))
    except ValueError:
        months = 12
    return months, (request.args.get("region") or "").strip() or None


@bp.route("/report")
def report_page():
    """Events per chapter, region and month: registered, attended, rate, satisfaction."""
    months, region = _args()
    rows = report.event_rows(months=months, region=region)
    regions = db.session.execute(Region.__table__.select().order_by(Region.code)).all()
    return render_template("hq_events/report.html", rows=rows, months=months, region=region,
                           regions=regions,
                           by_region=report.totals_by(rows, lambda r: r.region),
                           by_month=report.totals_by(rows, lambda r: r.month))


@bp.route("/report.<fmt>")
def export(fmt: str):
    """The report as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    months, region = _args()
    content, mimetype, ext = report.export(report.event_rows(months=months, region=region), fmt)
    audit.record("events_report_exported", actor=current_user._get_current_object(),
                 ip=client_ip(), details={"format": fmt, "months": months, "region": region})
    db.session.commit()
    return Response(content, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=events-report.{ext}"})
