"""HQ pages over the chapters' complaints: figures with charts and export, the hotline.

HQ must not import the chapter wing, so these pages live here, in a blueprint of their
own guarded for HQ roles, reading across chapters inside ``unscoped(...)``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from chapter.complaints import analytics, satisfaction, service
from chapter.complaints.forms import CAUSE_LABELS, HotlineForm
from chapter.complaints.models import CAUSES
from clubplatform.audit import service as audit
from clubplatform.auth.models import HQ_ADMIN, HQ_ROLES
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.org.models import Region
from clubplatform.security import client_ip

bp = Blueprint("hq_complaints", __name__, url_prefix="/hq/complaints")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.before_request
@login_required
def _hq_only():
    """Every page here is for HQ's admins and analysts."""
    if current_user.role not in HQ_ROLES:
        abort(403)


def _month_arg(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    try:
        year, month = (int(p) for p in value.split("-")[:2])
        return date(year, month, 1)
    except ValueError:
        return None


def _args():
    from clubplatform import dates

    d_start, d_end = analytics.default_period()
    start = _month_arg("start") or d_start
    end_month = _month_arg("end")
    end = dates.month_end(end_month) if end_month else d_end
    group = request.args.get("group", "chapter")
    group = group if group in analytics.GROUPS else "chapter"
    region_id = request.args.get("region_id", type=int)
    return dict(group=group, start=start, end=end, region_id=region_id)


@bp.route("/")
def figures():
    """Complaints per chapter, region or month: counts, causes, times, reopen rate, satisfaction."""
    args = _args()
    fig = analytics.complaint_figures(**args)
    regions = db.session.execute(Region.__table__.select().order_by(Region.__table__.c.code)).all()
    query = {"group": args["group"], "start": f"{args['start']:%Y-%m}",
             "end": f"{args['end']:%Y-%m}", "region_id": args["region_id"] or ""}
    return render_template(
        "chapter/complaints/hq_figures.html", fig=fig, regions=regions, causes=CAUSES,
        cause_labels=CAUSE_LABELS, group_labels=analytics.GROUP_LABELS, query=query,
        service_report=satisfaction.per_chapter(start=args["start"], end=args["end"],
                                                region_id=args["region_id"]),
        export_xlsx=url_for("hq_complaints.export", fmt="xlsx", **query),
        export_csv=url_for("hq_complaints.export", fmt="csv", **query))


@bp.route("/export")
def export():
    """The figures as XLSX (``fmt=xlsx``) or CSV; each export is audited."""
    from clubplatform.tabular import to_csv, to_xlsx

    args = _args()
    fmt = "csv" if request.args.get("fmt") == "csv" else "xlsx"
    headers, rows = analytics.figures_table(analytics.complaint_figures(**args))
    name = f"complaints-{args['group']}-{args['start']:%Y-%m}-{args['end']:%Y-%m}.{fmt}"
    audit.record("export", actor=current_user, ip=client_ip(), target_type="complaint_figures",
                 details={"file": name, "rows": len(rows)})
    db.session.commit()
    body = to_csv(headers, rows) if fmt == "csv" else to_xlsx(headers, rows, title=_("Complaints"))
    return Response(body, mimetype="text/csv" if fmt == "csv" else XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/hotline", methods=["GET", "POST"])
def hotline():
    """Record a complaint that came in on HQ's hotline; it goes to the owner's chapter."""
    if current_user.role != HQ_ADMIN:
        abort(403)
    form = HotlineForm()
    if form.validate_on_submit():
        try:
            complaint = service.route_hotline_complaint({
                "member_number": form.member_number.data, "mobile": form.mobile.data,
                "cause": form.cause.data, "severity": form.severity.data,
                "description": form.description.data, "note": form.note.data},
                actor=current_user._get_current_object())
            number, chapter_id = complaint.id, complaint.chapter_id
            db.session.commit()
            flash(_("Complaint #%(id)s has been sent to the owner's chapter (%(chapter)s).",
                    id=number, chapter=_chapter_name(chapter_id)), "success")
            return redirect(url_for("hq_complaints.hotline"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/complaints/hq_hotline.html", form=form), \
        (422 if request.method == "POST" else 200)


def _chapter_name(chapter_id: int) -> str:
    from clubplatform.org.models import Chapter

    chapter = db.session.get(Chapter, chapter_id)
    return chapter.name if chapter else str(chapter_id)
