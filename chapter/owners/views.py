"""Chapter pages: owners, vehicles and service visits; search; advisor reassignment."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from chapter.owners import service
from chapter.owners.forms import OwnerForm, ReassignForm, VehicleForm, VisitForm
from chapter.owners.models import OWNER_KINDS
from clubplatform.auth.models import CHAPTER_MANAGER
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import show_domain_error
from clubplatform.money import format_fen
from clubplatform.security import client_ip, roles_required

bp = Blueprint("owners", __name__, url_prefix="/owners")

manager_only = roles_required(CHAPTER_MANAGER)
PER_PAGE = 30


@bp.context_processor
def _labels():
    return {
        "kind_labels": service.OWNER_KIND_LABELS,
        "gender_labels": service.GENDER_LABELS,
        "visit_type_labels": service.VISIT_TYPE_LABELS,
        "yuan": format_fen,
        "can_reveal": service.can_reveal(current_user),
    }


def _status(posted: bool) -> int:
    return 422 if posted else 200


def _owner_or_404(owner_id: int):
    try:
        return service.get_owner(owner_id)
    except DomainError:
        abort(404)


def _vehicle_or_404(vehicle_id: int):
    try:
        return service.get_vehicle(vehicle_id)
    except DomainError:
        abort(404)


def _flag(value: str | None) -> bool | None:
    return {"1": True, "yes": True, "0": False, "no": False}.get(value or "")


@bp.route("/")
def index():
    """Search the chapter's owners by name, mobile, plate, VIN or member number."""
    q = request.args.get("q", "").strip()
    advisor_id = request.args.get("advisor", type=int)
    kind = request.args.get("kind", "")
    vip = request.args.get("vip", "")
    stmt = service.owner_query(q=q, advisor_id=advisor_id,
                               kind=kind if kind in OWNER_KINDS else None, vip=_flag(vip))
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    advisors = service.advisors(current_user.chapter_id)
    return render_template(
        "chapter/owners/index.html", page=page, q=q, advisor_id=advisor_id, kind=kind, vip=vip,
        advisors=advisors, advisor_names={a.id: a.name for a in advisors},
        memberships=service.memberships(o.id for o in page.items))


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Add an owner to the chapter's base customers."""
    form = OwnerForm(advisors=_active_advisors())
    if request.method == "GET":
        form.advisor_id.data = current_user.id
    if form.validate_on_submit():
        try:
            owner = service.create_owner(current_user.chapter_id, form.values(),
                                         actor=current_user)
            db.session.commit()
            flash(_("Owner %(name)s has been added.", name=owner.name), "success")
            return redirect(url_for("chapter.owners.detail", owner_id=owner.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/owners/form.html", form=form, owner=None), \
        _status(request.method == "POST")


def _active_advisors(keep: int | None = None):
    return [a for a in service.advisors(current_user.chapter_id) if a.active or a.id == keep]


@bp.route("/<int:owner_id>")
def detail(owner_id: int):
    """An owner's card: personal data (ID masked), vehicles, recent visits, club status."""
    return _detail(_owner_or_404(owner_id))


def _detail(owner, revealed: str | None = None):
    advisor_names = {a.id: a.name for a in service.advisors(current_user.chapter_id)}
    vehicles = owner.vehicles
    return render_template(
        "chapter/owners/detail.html", owner=owner, vehicles=vehicles,
        vehicle_labels={v.id: v.plate or v.vin for v in vehicles},
        visits=service.owner_visits(owner, limit=20), revealed=revealed,
        advisor_name=advisor_names.get(owner.advisor_id),
        membership=service.memberships([owner.id]).get(owner.id))


@bp.route("/<int:owner_id>/reveal", methods=["POST"])
@manager_only
def reveal(owner_id: int):
    """Show an owner's full ID number once (chapter manager); the reveal is audited."""
    owner = _owner_or_404(owner_id)
    try:
        number = service.reveal_id_number(owner, actor=current_user, ip=client_ip())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("chapter.owners.detail", owner_id=owner_id))
    return _detail(owner, revealed=number)


@bp.route("/<int:owner_id>/edit", methods=["GET", "POST"])
def edit(owner_id: int):
    """Change an owner's card."""
    owner = _owner_or_404(owner_id)
    if owner.anonymised_at is not None:
        flash(_("This owner's personal data was removed on request."), "error")
        return redirect(url_for("chapter.owners.detail", owner_id=owner.id))
    form = OwnerForm(obj=owner, advisors=_active_advisors(keep=owner.advisor_id))
    if request.method == "GET":
        form.hobbies.data = "、".join(owner.hobbies or [])
    if form.validate_on_submit():
        try:
            service.update_owner(owner, form.values(owner), actor=current_user)
            db.session.commit()
            flash(_("Owner %(name)s has been saved.", name=owner.name), "success")
            return redirect(url_for("chapter.owners.detail", owner_id=owner.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/owners/form.html", form=form, owner=owner), \
        _status(request.method == "POST")


@bp.route("/<int:owner_id>/vehicles/new", methods=["GET", "POST"])
def vehicle_new(owner_id: int):
    """Register a vehicle of an owner."""
    owner = _owner_or_404(owner_id)
    form = VehicleForm()
    if form.validate_on_submit():
        try:
            vehicle = service.add_vehicle(owner, form.values())
            db.session.commit()
            flash(_("Vehicle %(vin)s has been added.", vin=vehicle.vin), "success")
            return redirect(url_for("chapter.owners.detail", owner_id=owner_id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/owners/vehicle_form.html", form=form, owner=owner,
                           vehicle=None), _status(request.method == "POST")


@bp.route("/vehicles/<int:vehicle_id>/edit", methods=["GET", "POST"])
def vehicle_edit(vehicle_id: int):
    """Change a vehicle's details."""
    vehicle = _vehicle_or_404(vehicle_id)
    owner = vehicle.owner
    form = VehicleForm(obj=vehicle)
    if form.validate_on_submit():
        try:
            service.update_vehicle(vehicle, form.values())
            db.session.commit()
            flash(_("Vehicle %(vin)s has been saved.", vin=vehicle.vin), "success")
            return redirect(url_for("chapter.owners.detail", owner_id=vehicle.owner_id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/owners/vehicle_form.html", form=form, owner=owner,
                           vehicle=vehicle), _status(request.method == "POST")


@bp.route("/vehicles/<int:vehicle_id>/visits/new", methods=["GET", "POST"])
def visit_new(vehicle_id: int):
    """Record a service visit (work order) of a vehicle."""
    vehicle = _vehicle_or_404(vehicle_id)
    owner = vehicle.owner
    form = VisitForm()
    if form.validate_on_submit():
        try:
            visit = service.add_visit(vehicle, form.values())
            db.session.commit()
            flash(_("Work order %(no)s has been recorded.", no=visit.order_no), "success")
            return redirect(url_for("chapter.owners.detail", owner_id=vehicle.owner_id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/owners/visit_form.html", form=form, owner=owner,
                           vehicle=vehicle, visits=service.owner_visits(owner, limit=5)), \
        _status(request.method == "POST")


@bp.route("/reassign", methods=["GET", "POST"])
@manager_only
def reassign():
    """Move a leaving advisor's owners (all, or those ticked) to another advisor at once."""
    advisors = service.advisors(current_user.chapter_id, with_counts=True)
    form = ReassignForm(advisors=advisors)
    if request.method == "GET":
        form.from_user_id.data = request.args.get("from", type=int)
    leaving = form.from_user_id.data
    owners = service.advisor_owners(leaving) if leaving else []
    if request.method == "POST" and form.validate_on_submit():
        selected = form.owner_ids.data if form.scope.data == "selected" else None
        try:
            moved = service.reassign_advisor(
                current_user.chapter_id, from_user_id=leaving, to_user_id=form.to_user_id.data,
                owner_ids=selected, actor=current_user, ip=client_ip())
            db.session.commit()
            names = {a.id: a.name for a in advisors}
            flash(ngettext("%(num)d owner moved from %(old)s to %(new)s.",
                           "%(num)d owners moved from %(old)s to %(new)s.", moved,
                           old=names.get(leaving, "?"), new=names.get(form.to_user_id.data, "?")),
                  "success")
            return redirect(url_for("chapter.owners.reassign", **{"from": leaving}))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("chapter/owners/reassign.html", form=form, owners=owners,
                           advisors=advisors, leaving=leaving), \
        _status(request.method == "POST")
