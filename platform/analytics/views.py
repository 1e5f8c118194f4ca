"""The HQ dashboard of month-end figures: a month end, ranking, trend, charts, exports."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform import dates
from clubplatform.analytics import charts, figures, service
from clubplatform.analytics import jobs as analytics_jobs
from clubplatform.analytics.forms import BackfillForm, ResnapshotForm
from clubplatform.analytics.models import CHAPTER, LEVELS, NATION, REGION
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.security import client_ip, hq_read_required, hq_write_required

bp = Blueprint("analytics", __name__, url_prefix="/hq/analytics")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value else None


def _months_back(month_end: date, n: int) -> date:
    i = figures.index_of(month_end) - (n - 1)
    return figures.end_of(i)


def _filters():
    """The page's filters from the query string (bad values fall back, with a message)."""
    errors = []
    try:
        month_end = service.parse_month(request.args.get("month"))
    except DomainError as exc:
        errors.append(str(exc.message))
        month_end = figures.last_complete_month_end()
    try:
        last = service.parse_month(request.args.get("to"), field_name="to", default=month_end)
        first = service.parse_month(request.args.get("from"), field_name="from",
                                    default=_months_back(last, 12))
        if first > last:
            first = _months_back(last, 12)
    except DomainError as exc:
        errors.append(str(exc.message))
        last, first = month_end, _months_back(month_end, 12)
    rank_by = request.args.get("rank_by") or "recruitment_rate_bp"
    if rank_by not in service.RANK_BY:
        rank_by = "recruitment_rate_bp"
    return {"month_end": month_end, "first": first, "last": last, "rank_by": rank_by,
            "region_id": _int_arg("region"), "chapter_id": _int_arg("chapter"),
            "live": request.args.get("live") == "1", "errors": errors}


def _trend_scope(f) -> tuple[str, int]:
    if f["chapter_id"]:
        return CHAPTER, f["chapter_id"]
    if f["region_id"]:
        return REGION, f["region_id"]
    return NATION, 0


@bp.route("/")
@hq_read_required
def index():
    """The dashboard: nation, ranked regions and chapters of a month end, and the trend."""
    f = _filters()
    for message in f["errors"]:
        flash(message, "error")
    board = service.dashboard(f["month_end"], region_id=f["region_id"], rank_by=f["rank_by"],
                              live=f["live"])
    level, scope_id = _trend_scope(f)
    trend = service.trend(f["first"], f["last"], level=level, scope_id=scope_id)
    labels = [r.month_end.strftime("%Y-%m") for r in trend]
    lab = board.labels

    def pct(bp):
        return None if bp is None else bp / 100

    trend_rates = charts.line_chart(labels, [
        (_("Member recruitment rate"), [pct(r.recruitment_rate_bp) for r in trend]),
        (_("Dealer join rate"), [pct(r.join_rate_bp) for r in trend])],
        title=_("Rates by month end"), percent=True)
    trend_members = charts.line_chart(labels, [
        (_("Members"), [r.members for r in trend]),
        (_("Individual owners"), [r.owners for r in trend])], title=_("Members and owners"))
    trend_counts = charts.line_chart(labels, [
        (_("New members in the month"), [r.new_members for r in trend]),
        (_("Referral purchases in the month"), [r.referral_purchases for r in trend])],
        title=_("New members and referral purchases"))
    region_bars = charts.bar_chart(
        [(lab.name(r), pct(r.recruitment_rate_bp)) for r in board.regions],
        title=_("Member recruitment rate by region"), percent=True)
    scope_name = _("Nation")
    if level != NATION:
        probe = figures.FigureRow(month_end=f["month_end"], level=level, scope_id=scope_id,
                                  region_id=None, **{k: 0 for k in figures.FIGURES})
        scope_name = lab.name(probe)
    return render_template(
        "analytics/dashboard.html", board=board, f=f, trend=trend, lab=lab,
        charts={"rates": trend_rates, "members": trend_members, "counts": trend_counts,
                "regions": region_bars},
        scope_name=scope_name, percent=service.percent, rank_by=service.RANK_BY,
        figure_labels=service.FIGURE_LABELS, regions=sorted(lab.regions.items(),
                                                            key=lambda kv: kv[1][0]),
        resnapshot_form=ResnapshotForm(month=f["month_end"].strftime("%Y-%m")),
        backfill_form=BackfillForm(first=f["first"].strftime("%Y-%m"),
                                   last=f["last"].strftime("%Y-%m")))


@bp.route("/export")
@hq_read_required
def export():
    """The month end's figures (``kind=month``, a level or all) or the trend as CSV/XLSX."""
    f = _filters()
    fmt = request.args.get("format", "csv")
    kind = request.args.get("kind", "month")
    level = request.args.get("level") or None
    try:
        if kind == "trend":
            scope_level, scope_id = _trend_scope(f)
            rows = service.trend(f["first"], f["last"], level=scope_level, scope_id=scope_id)
            stem = (f"figures-trend-{scope_level}{scope_id or ''}-"
                    f"{f['first']:%Y-%m}-{f['last']:%Y-%m}")
        else:
            if level is not None and level not in LEVELS:
                level = None
            board = service.dashboard(f["month_end"], region_id=f["region_id"],
                                      rank_by=f["rank_by"], live=f["live"])
            rows = ([board.nation] if board.nation else []) + board.regions + board.chapters
            if level:
                rows = [r for r in rows if r.level == level]
            stem = f"figures-{f['month_end']:%Y-%m}-{level or 'all'}"
        file = service.export(rows, fmt=fmt, stem=stem, actor=current_user, ip=client_ip())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("analytics.index", **request.args))
    return Response(file.content, mimetype=file.mimetype, headers={
        "Content-Disposition": f"attachment; filename={file.filename}"})


@bp.route("/resnapshot", methods=["POST"])
@hq_write_required
def resnapshot():
    """Recompute one month's snapshot after a correction of a past record (audited)."""
    form = ResnapshotForm()
    if form.validate_on_submit():
        try:
            month_end = service.parse_month(form.month.data)
            service.resnapshot(month_end, actor=current_user, reason=form.reason.data,
                               ip=client_ip())
            db.session.commit()
            flash(_("The figures of %(m)s have been recomputed.", m=month_end.strftime("%Y-%m")),
                  "success")
            return redirect(url_for("analytics.index", month=month_end.strftime("%Y-%m")))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    for name, errors in form.errors.items():
        for e in errors:
            flash(f"{getattr(form, name).label.text}: {e}", "error")
    return redirect(url_for("analytics.index"))


@bp.route("/backfill", methods=["POST"])
@hq_write_required
def backfill():
    """Snapshot the months of a range that have none (a background job)."""
    form = BackfillForm()
    if form.validate_on_submit():
        try:
            first = service.parse_month(form.first.data, field_name="first")
            last = service.parse_month(form.last.data, field_name="last")
            if last >= dates.today():
                last = figures.last_complete_month_end()
            run = analytics_jobs.submit_backfill(first, last, user_id=current_user.id)
            flash(_("Backfill submitted (%(id)s).", id=run.id), "success")
            return redirect(url_for("jobs.index"))
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    for name, errors in form.errors.items():
        for e in errors:
            flash(f"{getattr(form, name).label.text}: {e}", "error")
    return redirect(url_for("analytics.index"))
