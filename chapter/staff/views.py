"""A chapter manager manages their own chapter's staff accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform.auth import service as auth
from clubplatform.auth.forms import ResetPasswordForm, UserEditForm, UserForm
from clubplatform.auth.models import CHAPTER_MANAGER, CHAPTER_STAFF
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error
from clubplatform.security import client_ip, roles_required

bp = Blueprint("staff", __name__, url_prefix="/staff")

manager_only = roles_required(CHAPTER_MANAGER)


def _staff_role_choices():
    return choices([(CHAPTER_STAFF, _("Chapter staff"))])


@bp.route("/")
@manager_only
def index():
    """The chapter's accounts."""
    staff = db.session.execute(auth.chapter_staff_query(current_user.chapter_id)).scalars().all()
    return render_template("chapter/staff/index.html", staff=staff)


@bp.route("/new", methods=["GET", "POST"])
@manager_only
def new():
    """Create a staff account in the manager's chapter."""
    form = UserForm()
    form.role.choices = _staff_role_choices()
    form.chapter_id.choices = choices([(current_user.chapter_id, "")])
    if request.method == "POST":
        form.chapter_id.data = current_user.chapter_id
    if form.validate_on_submit():
        try:
            user = auth.create_user(
                username=form.username.data, display_name=form.display_name.data,
                password=form.password.data, role=CHAPTER_STAFF,
                chapter_id=current_user.chapter_id, email=form.email.data,
                actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("User %(name)s has been created.", name=user.username), "success")
            return redirect(url_for("chapter.staff.index"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/staff/form.html", form=form, user=None), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@manager_only
def edit(user_id: int):
    """Edit a staff account of the chapter, reset its password."""
    try:
        user = auth.get_chapter_user(current_user.chapter_id, user_id)
    except DomainError:
        abort(404)
    form = UserEditForm(obj=user)
    form.role.choices = choices([(user.role, _("Chapter manager") if user.role == CHAPTER_MANAGER
                                  else _("Chapter staff"))])
    form.chapter_id.choices = choices([(current_user.chapter_id, "")])
    reset = ResetPasswordForm(prefix="reset")
    action = request.form.get("action")
    try:
        if request.method == "POST":
            auth.check_can_manage(current_user, user)
        if action == "save" and form.validate_on_submit():
            auth.update_user(user, actor=current_user, ip=client_ip(),
                             display_name=form.display_name.data, email=form.email.data)
            db.session.commit()
            flash(_("User %(name)s has been saved.", name=user.username), "success")
            return redirect(url_for("chapter.staff.index"))
        if action == "reset" and reset.validate_on_submit():
            auth.change_password(user, reset.new_password.data, current_password=None,
                                 actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("The password has been reset; the user's sessions have ended."), "success")
            return redirect(url_for("chapter.staff.edit", user_id=user.id))
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form if action == "save" else reset, exc)
    return render_template("chapter/staff/form.html", form=form, reset=reset, user=user), \
        (422 if request.method == "POST" else 200)


@bp.route("/<int:user_id>/active", methods=["POST"])
@manager_only
def set_active(user_id: int):
    """Deactivate (e.g. an advisor who left) or reactivate a staff account."""
    try:
        user = auth.get_chapter_user(current_user.chapter_id, user_id)
    except DomainError:
        abort(404)
    active = request.form.get("active") == "1"
    try:
        auth.check_can_manage(current_user, user)
        auth.set_active(user, active, actor=current_user, ip=client_ip())
        if active:
            auth.unlock(user)
        db.session.commit()
        flash(_("User %(name)s has been reactivated.", name=user.username) if active
              else _("User %(name)s has been deactivated.", name=user.username), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("chapter.staff.edit", user_id=user.id))
