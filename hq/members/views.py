"""HQ pages: the central member database across chapters, and the member status report.

Every page reads across chapters inside an explicit ``unscoped(...)`` block.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform.auth.models import HQ_ADMIN
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from clubplatform.org import service as org
from clubplatform.org.models import Chapter, Dealer
from clubplatform.security import client_ip, hq_read_required, hq_write_required
from clubplatform.tenancy import unscoped
from hq.members import service
from hq.members.models import MEMBER_STATUSES, TIERS

bp = Blueprint("members", __name__, url_prefix="/members")

READ = "HQ: the central member database"


def _member_or_404(member_id: int):
    try:
        return service.get_member(member_id)
    except NotFound:
        abort(404)


def _chapter_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(sa.select(Chapter.id, Dealer.code, Chapter.name)
                              .join(Dealer, Dealer.id == Chapter.dealer_id)
                              .order_by(Dealer.code)).all()
    return [(cid, f"{code} · {name}") for cid, code, name in rows]


@bp.route("/")
@hq_read_required
def index():
    """Search members across chapters by name, mobile, member number or ID number."""
    q = request.args.get("q", "").strip()
    chapter_id = request.args.get("chapter", type=int)
    region_id = request.args.get("region", type=int)
    status = request.args.get("status") or None
    tier = request.args.get("tier") or None
    status = status if status in MEMBER_STATUSES else None
    tier = tier if tier in TIERS else None
    with unscoped(READ):
        stmt = service.member_search_query(q, chapter_id=chapter_id, region_id=region_id,
                                           status=status, tier=tier)
        page = db.paginate(stmt, per_page=50, error_out=False)
        labels = service.chapter_labels(m.chapter_id for m in page.items)
        return render_template(
            "hq/members/index.html", page=page, labels=labels, q=q, chapter_id=chapter_id,
            region_id=region_id, status=status, tier=tier, regions=org.list_regions(),
            chapters=_chapter_choices(), status_labels=service.STATUS_LABELS,
            tier_labels=service.TIER_LABELS)


def _render_detail(member, revealed: str | None = None):
    history = service.member_history(member)
    return render_template(
        "hq/members/detail.html", h=history, m=member, revealed=revealed,
        is_admin=current_user.role == HQ_ADMIN, status_labels=service.STATUS_LABELS,
        tier_labels=service.TIER_LABELS, source_labels=service.SOURCE_LABELS,
        reason_labels=service.PERIOD_REASON_LABELS,
        transfer_labels={"requested": _("Waiting for decision"), "approved": _("Approved"),
                         "rejected": _("Rejected"), "cancelled": _("Withdrawn")})


@bp.route("/<int:member_id>")
@hq_read_required
def detail(member_id: int):
    """A member: personal data (ID masked), chapter history, transfers, consents."""
    with unscoped(READ):
        return _render_detail(_member_or_404(member_id))


@bp.route("/<int:member_id>/reveal", methods=["POST"])
@hq_write_required
def reveal(member_id: int):
    """Show the full ID number once (HQ admin); the reveal is audited."""
    with unscoped(READ):
        member = _member_or_404(member_id)
        number = service.reveal_member_id_number(member, actor=current_user, ip=client_ip())
        db.session.commit()
        return _render_detail(member, revealed=number)


@bp.route("/<int:member_id>/anonymise", methods=["POST"])
@hq_write_required
def anonymise(member_id: int):
    """Remove the member's personal data on request (HQ admin; cannot be undone)."""
    with unscoped("HQ: anonymise a member on request"):
        member = _member_or_404(member_id)
        try:
            service.anonymise_member(member, current_user, client_ip())
            db.session.commit()
            flash(_("The member's personal data has been removed."), "success")
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
    return redirect(url_for("hq.members.detail", member_id=member_id))


def _report_args():
    group = request.args.get("group", "chapter")
    if group not in service.REPORT_GROUPS:
        group = "chapter"
    return group, request.args.get("region", type=int)


@bp.route("/report")
@hq_read_required
def report():
    """Member status per chapter or region for a month, with exports."""
    group, region_id = _report_args()
    try:
        month = service.parse_month(request.args.get("month"))
    except DomainError as exc:
        flash(str(exc.message), "error")
        month = service.parse_month(None)
    status = service.member_status_report(month, group=group, region_id=region_id)
    return render_template(
        "hq/members/report.html", report=status, group=group, region_id=region_id,
        month=month, regions=org.list_regions(), status_labels=service.STATUS_LABELS,
        tier_labels=service.TIER_LABELS, source_labels=service.SOURCE_LABELS,
        sources=(*service.REPORT_SOURCES, "other"), tiers=TIERS)


@bp.route("/report/export")
@hq_read_required
def report_export():
    """The member status report as CSV (UTF-8, or GBK with ``encoding=gbk``) or XLSX."""
    group, region_id = _report_args()
    month = service.parse_month(request.args.get("month"))
    status = service.member_status_report(month, group=group, region_id=region_id)
    file = service.export_member_status(status, fmt=request.args.get("format", "csv"),
                                        encoding=request.args.get("encoding"),
                                        actor=current_user, ip=client_ip())
    db.session.commit()
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f"attachment; filename={file.filename}"})
