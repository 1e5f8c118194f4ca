"""Chapter pages: transfers the chapter sends or receives (转会).

- ``chapter.transfers.index``: incoming and outgoing transfers;
- ``chapter.transfers.new``: the receiving chapter asks for a person who is a member
  elsewhere, by mobile or ID number (the answer never says whether one exists);
- ``chapter.transfers.new_outgoing``: the chapter asks for one of its members to move;
- ``chapter.transfers.detail`` with approve / reject (receiving manager) and cancel.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

import chapter.members.transfers_hooks  # noqa: F401  (owner records on transfer/removal)
from clubplatform.errors import DomainError, NotFound
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error
from clubplatform.security import client_ip
from hq.members import service as members

bp = Blueprint("transfers", __name__, url_prefix="/transfers")

STATUS_LABELS = {"requested": _l("Waiting for decision"), "approved": _l("Approved"),
                 "rejected": _l("Rejected"), "cancelled": _l("Withdrawn")}


class IdentityTransferForm(FlaskForm):
    mobile = StringField(_l("Mobile"), validators=[Optional(), Length(max=20)])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=18)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=255)])


class OutgoingTransferForm(FlaskForm):
    to_chapter_id = SelectField(_l("Move to chapter"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=255)])


class RejectForm(FlaskForm):
    note = StringField(_l("Reason for the rejection"), validators=[Optional(), Length(max=255)])


def _transfer_or_404(transfer_id: int):
    try:
        return members.get_transfer(transfer_id, chapter_id=current_user.chapter_id)
    except NotFound:
        abort(404)


@bp.route("/")
def index():
    """Transfers this chapter sends or receives, newest first."""
    direction = request.args.get("direction") or None
    status = request.args.get("status") or None
    if direction not in (None, "in", "out"):
        direction = None
    if status not in (None, *STATUS_LABELS):
        status = None
    stmt = members.transfer_query(chapter_id=current_user.chapter_id, direction=direction,
                                  status=status)
    page = db.paginate(stmt, per_page=50, error_out=False)
    rows = members.transfer_views(page.items, chapter_id=current_user.chapter_id)
    return render_template("chapter/transfers/index.html", page=page, rows=rows,
                           direction=direction, status=status, labels=STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Ask for a person who is a member of another chapter to move to this one."""
    form = IdentityTransferForm()
    if form.validate_on_submit():
        try:
            members.request_transfer_by_identity(
                current_user.chapter_id, mobile=form.mobile.data, id_number=form.id_number.data,
                reason=form.reason.data, actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("If this person is a member of another chapter, a transfer request to your "
                    "chapter has been created for your manager to decide. Nothing is shown "
                    "about the other chapter before the approval."), "info")
            return redirect(url_for("chapter.transfers.index", direction="in"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/transfers/new.html", form=form), \
        (422 if request.method == "POST" else 200)


@bp.route("/out/<int:member_id>", methods=["GET", "POST"])
def new_outgoing(member_id: int):
    """Ask for one of this chapter's members to move to another chapter."""
    try:
        member = members.get_member(member_id)
    except NotFound:
        abort(404)
    form = OutgoingTransferForm()
    form.to_chapter_id.choices = choices(
        [(0, "—")] + members.transfer_destinations(current_user.chapter_id))
    if form.validate_on_submit():
        try:
            transfer = members.request_transfer(member, form.to_chapter_id.data or None,
                                                form.reason.data, current_user, ip=client_ip())
            db.session.commit()
            flash(_("The transfer request has been sent to the receiving chapter."), "success")
            return redirect(url_for("chapter.transfers.detail", transfer_id=transfer.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/transfers/new_outgoing.html", form=form, member=member,
                           open_transfer=members.open_transfer_of(member)), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:transfer_id>")
def detail(transfer_id: int):
    """One transfer, with the decision the user may take."""
    transfer = _transfer_or_404(transfer_id)
    return _detail(transfer, RejectForm())


def _detail(transfer, reject_form, status: int = 200):
    view = members.transfer_views([transfer], chapter_id=current_user.chapter_id)[0]
    return render_template(
        "chapter/transfers/detail.html", v=view, t=transfer, labels=STATUS_LABELS,
        reject_form=reject_form, can_decide=members.can_decide_transfer(transfer, current_user),
        can_cancel=members.can_cancel_transfer(transfer, current_user)), status


@bp.route("/<int:transfer_id>/approve", methods=["POST"])
def approve(transfer_id: int):
    """Approve a transfer to this chapter (manager): the member moves today."""
    transfer = _transfer_or_404(transfer_id)
    try:
        members.approve_transfer(transfer, current_user, ip=client_ip())
        db.session.commit()
        flash(_("The transfer has been approved; the member now belongs to your chapter."),
              "success")
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc.message), "error")
    return redirect(url_for("chapter.transfers.detail", transfer_id=transfer_id))


@bp.route("/<int:transfer_id>/reject", methods=["POST"])
def reject(transfer_id: int):
    """Reject a transfer to this chapter, with a reason (manager)."""
    transfer = _transfer_or_404(transfer_id)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            members.reject_transfer(transfer, form.note.data, current_user, ip=client_ip())
            db.session.commit()
            flash(_("The transfer has been rejected."), "success")
            return redirect(url_for("chapter.transfers.detail", transfer_id=transfer_id))
        except DomainError as exc:
            db.session.rollback()
            if exc.status == 403:
                abort(403)
            show_domain_error(form, exc)
    return _detail(_transfer_or_404(transfer_id), form, 422)


@bp.route("/<int:transfer_id>/cancel", methods=["POST"])
def cancel(transfer_id: int):
    """Withdraw a transfer request before it is decided."""
    transfer = _transfer_or_404(transfer_id)
    try:
        members.cancel_transfer(transfer, current_user, ip=client_ip())
        db.session.commit()
        flash(_("The transfer request has been withdrawn."), "success")
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(str(exc.message), "error")
    return redirect(url_for("chapter.transfers.detail", transfer_id=transfer_id))
