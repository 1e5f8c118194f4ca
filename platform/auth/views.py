"""Pages: login/logout, the user's own account and API tokens, HQ user management."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from clubplatform.audit import service as audit
from clubplatform.auth import service
from clubplatform.auth.forms import (
    ROLE_LABELS,
    LoginForm,
    PasswordForm,
    ProfileForm,
    ResetPasswordForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from clubplatform.auth.models import User
from clubplatform.errors import DomainError
from clubplatform.extensions import db, limiter
from clubplatform.forms import choices, show_domain_error
from clubplatform.org import service as org_service
from clubplatform.pages import home_endpoint_for
from clubplatform.security import client_ip, hq_read_required, hq_write_required

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log in with username and password."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    form = LoginForm()
    if form.validate_on_submit():
        cfg = current_app.config
        result = service.authenticate(
            form.username.data, form.password.data, ip=client_ip(),
            max_failures=cfg["LOGIN_MAX_FAILURES"], lockout_minutes=cfg["LOGIN_LOCKOUT_MINUTES"],
        )
        db.session.commit()
        if result.user is None:
            flash(result.error, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(result.user, remember=form.remember.data)
        target = request.args.get("next")
        if not target or not target.startswith("/") or target.startswith("//"):
            target = url_for(home_endpoint_for(result.user))
        return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out of this browser."""
    audit.record("logout", actor=current_user, ip=client_ip(), chapter_id=current_user.chapter_id)
    db.session.commit()
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's profile, password and API tokens."""
    profile = ProfileForm(obj=current_user, prefix="profile")
    password = PasswordForm(prefix="pw")
    token_form = TokenForm(prefix="token")
    new_token = None
    action = request.form.get("action")
    try:
        if action == "profile" and profile.validate_on_submit():
            service.update_user(current_user, actor=current_user, ip=client_ip(),
                                display_name=profile.display_name.data,
                                email=profile.email.data, locale=profile.locale.data)
            db.session.commit()
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("auth.account"))
        if action == "password" and password.validate_on_submit():
            service.change_password(current_user, password.new_password.data,
                                    current_password=password.current_password.data,
                                    actor=current_user, ip=client_ip())
            db.session.commit()
            login_user(current_user._get_current_object())  # keep this session (new version)
            flash(_("Your password has been changed; other sessions have been logged out."),
                  "success")
            return redirect(url_for("auth.account"))
        if action == "token" and token_form.validate_on_submit():
            _token, new_token = service.create_token(current_user, token_form.name.data,
                                                days=token_form.days.data, ip=client_ip())
            db.session.commit()
            flash(_("Copy the token now: it will not be shown again."), "warning")
    except DomainError as exc:
        db.session.rollback()
        show_domain_error({"profile": profile, "password": password, "token": token_form}.get(action),
                          exc)
    status = 422 if request.method == "POST" and new_token is None else 200
    return render_template("auth/account.html", profile=profile, password=password,
                           token_form=token_form, tokens=service.user_tokens(current_user),
                           new_token=new_token, role_labels=ROLE_LABELS), status


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own API tokens."""
    token = service.get_user_token(current_user, token_id)
    service.revoke_token(token, actor=current_user, ip=client_ip())
    db.session.commit()
    flash(_("The token has been revoked."), "success")
    return redirect(url_for("auth.account"))


# --- HQ: every user ----------------------------------------------------------------

def _chapter_choices():
    from clubplatform.extensions import db as _db

    chapters = _db.session.execute(org_service.chapter_query(active=True)).scalars()
    return choices([(0, "—")] + [(c.id, f"{c.dealer.code} · {c.name}") for c in chapters])


@bp.route("/hq/users")
@hq_read_required
def users():
    """All accounts, filterable by role, chapter and name."""
    import sqlalchemy as sa

    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    stmt = sa.select(User).order_by(User.role, User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(User.username.ilike(like), User.display_name.ilike(like)))
    if role in ROLE_LABELS:
        stmt = stmt.where(User.role == role)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("auth/users.html", page=page, q=q, role=role, role_labels=ROLE_LABELS)


@bp.route("/hq/users/new", methods=["GET", "POST"])
@hq_write_required
def user_new():
    """Create an account with a role (and a chapter for chapter roles)."""
    form = UserForm()
    form.chapter_id.choices = _chapter_choices()
    if form.validate_on_submit():
        try:
            user = service.create_user(
                username=form.username.data, display_name=form.display_name.data,
                password=form.password.data, role=form.role.data,
                chapter_id=form.chapter_id.data or None, email=form.email.data,
                actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("User %(name)s has been created.", name=user.username), "success")
            return redirect(url_for("auth.users"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_form.html", form=form, user=None), status


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        from flask import abort

        abort(404)
    return user


@bp.route("/hq/users/<int:user_id>", methods=["GET", "POST"])
@hq_write_required
def user_edit(user_id: int):
    """Edit an account: name, e-mail, role and chapter; reset its password."""
    user = _get_user(user_id)
    form = UserEditForm(obj=user)
    form.chapter_id.choices = _chapter_choices()
    if request.method == "GET":
        form.chapter_id.data = user.chapter_id or 0
    reset = ResetPasswordForm(prefix="reset")
    if request.form.get("action") == "save" and form.validate_on_submit():
        try:
            service.update_user(user, actor=current_user, ip=client_ip(),
                                display_name=form.display_name.data, email=form.email.data,
                                role=form.role.data, chapter_id=form.chapter_id.data or None)
            db.session.commit()
            flash(_("User %(name)s has been saved.", name=user.username), "success")
            return redirect(url_for("auth.users"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    elif request.form.get("action") == "reset" and reset.validate_on_submit():
        try:
            service.change_password(user, reset.new_password.data, current_password=None,
                                    actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("The password has been reset; the user's sessions have ended."), "success")
            return redirect(url_for("auth.user_edit", user_id=user.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(reset, exc)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/user_form.html", form=form, reset=reset, user=user), status


@bp.route("/hq/users/<int:user_id>/active", methods=["POST"])
@hq_write_required
def user_set_active(user_id: int):
    """Deactivate or reactivate an account (ends its sessions)."""
    user = _get_user(user_id)
    active = request.form.get("active") == "1"
    try:
        service.set_active(user, active, actor=current_user, ip=client_ip())
        if active:
            service.unlock(user)
        db.session.commit()
        flash(_("User %(name)s has been reactivated.", name=user.username) if active
              else _("User %(name)s has been deactivated.", name=user.username), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("auth.user_edit", user_id=user.id))
