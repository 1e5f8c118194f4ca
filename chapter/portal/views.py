"""The member portal: profile, consent, application, transfer, referrals."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user

from chapter.portal import service
from chapter.portal.forms import (
    CHANNEL_LABELS,
    ConsentForm,
    ProfileForm,
    ReferralForm,
    SignupForm,
    TransferForm,
    chapter_choices,
)
from clubplatform.auth.models import MEMBER
from clubplatform.errors import DomainError
from clubplatform.extensions import db, limiter
from clubplatform.forms import show_domain_error
from clubplatform.pages import home_endpoint_for
from clubplatform.security import client_ip, roles_required
from clubplatform.tenancy import chapter_scope
from hq.members.models import CHANNELS

bp = Blueprint("portal", __name__, url_prefix="/portal")

member_only = roles_required(MEMBER)


def _signup_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _me():
    return current_user._get_current_object()


def _member_or_home():
    """The member row, or a redirect to the home page for an applicant."""
    member = service.portal_member(_me())
    if member is None:
        flash(_("This is open to members once their application is approved."), "info")
        return None, redirect(url_for("portal.home"))
    return member, None


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    """An owner who is not yet a member signs up and applies to a chapter."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    form = SignupForm()
    form.chapter_id.choices = chapter_choices(service.open_chapters(), _("Choose a chapter"))
    if form.validate_on_submit():
        try:
            chapter_id = int(form.chapter_id.data)
        except (TypeError, ValueError):
            chapter_id = 0
        try:
            with chapter_scope(chapter_id):
                user = service.sign_up(chapter_id=chapter_id, name=form.name.data,
                                       mobile=form.mobile.data, password=form.password.data,
                                       id_number=form.id_number.data, ip=client_ip())
                db.session.commit()
            login_user(user)
            flash(_("Welcome! Your application has been sent to the chapter."), "success")
            return redirect(url_for("portal.home"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("portal/signup.html", form=form), \
        (422 if request.method == "POST" else 200)


@bp.route("/")
@member_only
def home():
    """The member's card (number, chapter, tier, points, join date) or the application's state."""
    return render_template("portal/home.html", info=service.home(_me()))


@bp.route("/profile", methods=["GET", "POST"])
@member_only
def profile():
    """See one's personal data (ID masked) and correct contact details."""
    me = _me()
    current = service.profile(me)
    form = ProfileForm(data={
        "mobile": current.mobile, "email": current.email, "address": current.address,
        "postal_code": current.postal_code, "occupation": current.occupation,
        "hobbies": ", ".join(current.hobbies)} if request.method == "GET" else None)
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in
                ("mobile", "email", "address", "postal_code", "occupation", "hobbies")}
        try:
            service.update_profile(me, data, ip=client_ip())
            db.session.commit()
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("portal.profile"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
            current = service.profile(me)
    return render_template("portal/profile.html", form=form, profile=current), \
        (422 if request.method == "POST" else 200)


@bp.route("/consents", methods=["GET", "POST"])
@member_only
def consents():
    """Marketing consent per channel, with its history."""
    member, away = _member_or_home()
    if away:
        return away
    form = ConsentForm(data=service.consents(member) if request.method == "GET" else None)
    if form.validate_on_submit():
        wanted = {ch: bool(getattr(form, ch).data) for ch in CHANNELS}
        try:
            changed = service.set_consents(member, wanted, actor=_me(), ip=client_ip())
            db.session.commit()
            flash(_("Your choices have been saved.") if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("portal.consents"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("portal/consents.html", form=form,
                           history=service.consent_history(member),
                           channel_labels=CHANNEL_LABELS), \
        (422 if request.method == "POST" else 200)


@bp.route("/transfers", methods=["GET", "POST"])
@member_only
def transfers():
    """Request a transfer to another chapter and follow one's requests."""
    member, away = _member_or_home()
    if away:
        return away
    form = TransferForm()
    form.to_chapter_id.choices = chapter_choices(service.open_chapters(exclude=member.chapter_id),
                                                 _("Choose a chapter"))
    if form.validate_on_submit():
        try:
            to_chapter_id = int(form.to_chapter_id.data)
        except (TypeError, ValueError):
            to_chapter_id = 0
        try:
            service.request_transfer(member, to_chapter_id, form.reason.data, actor=_me(),
                                     ip=client_ip())
            db.session.commit()
            flash(_("Your transfer request has been sent."), "success")
            return redirect(url_for("portal.transfers"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    items = service.member_transfers(member)
    names = service.chapter_names([t.from_chapter_id for t in items] +
                                  [t.to_chapter_id for t in items])
    has_open = any(t.status == "requested" for t in items)
    return render_template("portal/transfers.html", form=form, transfers=items, names=names,
                           has_open=has_open), \
        (422 if request.method == "POST" else 200)


@bp.route("/transfers/<int:transfer_id>")
@member_only
def transfer(transfer_id: int):
    """One of the member's own transfer requests and its status."""
    member = service.require_member(_me())
    item = service.get_member_transfer(member, transfer_id)
    names = service.chapter_names([item.from_chapter_id, item.to_chapter_id])
    return render_template("portal/transfer.html", transfer=item, names=names)


@bp.route("/referrals", methods=["GET", "POST"])
@member_only
def referrals():
    """Refer a friend, and see one's referrals and whether they bought."""
    member, away = _member_or_home()
    if away:
        return away
    form = ReferralForm()
    if form.validate_on_submit():
        try:
            service.refer_friend(member, {"friend_name": form.friend_name.data,
                                          "friend_mobile": form.friend_mobile.data,
                                          "model": form.model.data},
                                 actor=_me(), ip=client_ip())
            db.session.commit()
            flash(_("Thank you! The chapter will contact your friend."), "success")
            return redirect(url_for("portal.referrals"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    page = db.paginate(service.my_referrals_query(member), per_page=20, error_out=False)
    return render_template("portal/referrals.html", form=form, page=page), \
        (422 if request.method == "POST" else 200)


@bp.route("/referrals/<int:lead_id>")
@member_only
def referral(lead_id: int):
    """One of the member's own referrals."""
    member = service.require_member(_me())
    return render_template("portal/referral.html", lead=service.my_referral(member, lead_id))
