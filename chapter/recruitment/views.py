"""Chapter pages: membership applications and decisions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from chapter.owners.models import Owner
from chapter.recruitment import service
from chapter.recruitment.forms import ApplicationForm, ApproveForm, RejectForm
from chapter.recruitment.models import SOURCES, STATUSES
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error
from clubplatform.security import client_ip, roles_required
from hq.members.service import AlreadyMember

bp = Blueprint("applications", __name__, url_prefix="/applications")

manager_only = roles_required(CHAPTER_MANAGER)


def _source_choices():
    return choices([("", "—")] + [(s, str(service.SOURCE_LABELS[s])) for s in SOURCES])


def _event_choices():
    """The chapter's recent and coming events, for applications that came from one."""
    from chapter.events.service import event_choices

    return choices([("", "—")] + [(str(e.id), f"{e.starts_at:%Y-%m-%d} {e.title_zh}")
                                  for e in event_choices()])


def _application_or_404(application_id: int):
    try:
        return service.get_application(application_id)
    except NotFound:
        abort(404)


def transfer_url() -> str | None:
    """Where this chapter asks for a member of another chapter to move here, if it exists."""
    for endpoint in ("chapter.members.transfer_in", "chapter.transfers.new"):
        try:
            return url_for(endpoint)
        except BuildError:
            continue
    return None


def owner_url(owner_id: int) -> str | None:
    """The owner's page, if the owner pages have one."""
    for endpoint in ("chapter.owners.detail", "chapter.owners.show", "chapter.owners.edit"):
        try:
            return url_for(endpoint, owner_id=owner_id)
        except BuildError:
            continue
    return None


@bp.context_processor
def _helpers():
    return {"source_labels": service.SOURCE_LABELS,
            "application_status_labels": service.STATUS_LABELS,
            "owner_url": owner_url}


@bp.route("/")
def index():
    """The chapter's applications by status and source, with counts."""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    source = request.args.get("source", "")
    source = source if source in SOURCES else ""
    stmt = service.application_query(status=status or None, source=source or None)
    page = db.paginate(stmt, per_page=50, error_out=False)
    counts = service.application_counts(status=status or None)
    return render_template("chapter/applications/index.html", page=page, counts=counts,
                           status=status, source=source, statuses=STATUSES, sources=SOURCES)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Register an application: find the owner, say where it came from."""
    form = ApplicationForm()
    form.source.choices = _source_choices()
    form.event_id.choices = _event_choices()
    q = request.args.get("q", "").strip()
    owner_id = request.values.get("owner_id", type=int)
    owner = None
    if owner_id:
        owner = db.session.execute(
            sa.select(Owner).where(Owner.id == owner_id)).scalar_one_or_none()
        if owner is None and request.method == "GET":
            abort(404)
        form.owner_id.data = str(owner_id)
    already = None
    if form.validate_on_submit():
        try:
            application = service.submit_application_for(
                owner_id, source=form.source.data, applied_on=form.applied_on.data,
                note=form.note.data, event_id=form.event_id.data or None, actor=current_user,
                ip=client_ip())
            db.session.commit()
            flash(_("The application has been registered."), "success")
            return redirect(url_for("chapter.applications.detail",
                                    application_id=application.id))
        except AlreadyMember as exc:
            db.session.rollback()
            already = exc
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    candidates = service.owner_candidates(q) if q and owner is None else []
    return render_template("chapter/applications/new.html", form=form, q=q, owner=owner,
                           candidates=candidates, already=already,
                           transfer_url=transfer_url() if already else None), \
        (409 if already else 422 if request.method == "POST" else 200)


def _detail(application, *, approve=None, reject=None, already=None, status=200):
    return render_template(
        "chapter/applications/detail.html", application=application,
        approve=approve or ApproveForm(), reject=reject or RejectForm(prefix="reject"),
        already=already,
        transfer_url=transfer_url() if already else None), status


@bp.route("/<int:application_id>")
def detail(application_id: int):
    """An application: the owner, where it came from, the decision."""
    return _detail(_application_or_404(application_id))


@bp.route("/<int:application_id>/approve", methods=["POST"])
@manager_only
def approve(application_id: int):
    """Approve: the owner becomes a member with a member number (manager)."""
    application = _application_or_404(application_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _detail(application, approve=form, status=422)
    try:
        member = service.approve_application(application, actor=current_user, ip=client_ip(),
                                             consents=form.consents())
        db.session.commit()
    except AlreadyMember as exc:
        db.session.rollback()
        return _detail(_application_or_404(application_id), already=exc, status=409)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _detail(_application_or_404(application_id), status=exc.status)
    flash(_("%(name)s is now member %(number)s.", name=member.name,
            number=member.member_number), "success")
    return redirect(url_for("chapter.members.detail", member_id=member.id))


@bp.route("/<int:application_id>/reject", methods=["POST"])
@manager_only
def reject(application_id: int):
    """Reject with a reason (manager)."""
    application = _application_or_404(application_id)
    form = RejectForm(prefix="reject")
    if form.validate_on_submit():
        try:
            service.reject_application(application, form.reason.data, actor=current_user,
                                       ip=client_ip())
            db.session.commit()
            flash(_("The application has been rejected."), "success")
            return redirect(url_for("chapter.applications.detail",
                                    application_id=application.id))
        except DomainError as exc:
            db.session.rollback()
            application = _application_or_404(application_id)
            show_domain_error(form, exc)
            return _detail(application, reject=form, status=exc.status)
    return _detail(application, reject=form, status=422)
