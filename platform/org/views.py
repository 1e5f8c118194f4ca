"""HQ pages for regions, dealers and chapters."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from clubplatform import jobs
from clubplatform.audit import service as audit
from clubplatform.errors import DomainError
from clubplatform.extensions import db
from clubplatform.forms import choices, show_domain_error
from clubplatform.org import service
from clubplatform.org.forms import (
    ChapterCloseForm,
    ChapterForm,
    ChapterRenameForm,
    DealerForm,
    ImportForm,
    RegionForm,
)
from clubplatform.org.jobs import import_dealers
from clubplatform.security import client_ip, hq_read_required, hq_write_required

bp = Blueprint("org", __name__, url_prefix="/hq/org")


def _status(form_posted: bool) -> int:
    return 422 if form_posted else 200


# --- regions -----------------------------------------------------------------------

@bp.route("/regions", methods=["GET", "POST"])
@hq_read_required
def regions():
    """List regions; HQ admins add one."""
    form = RegionForm()
    if request.method == "POST":
        if current_user.role != "hq_admin":
            from flask import abort

            abort(403)
        if form.validate_on_submit():
            try:
                service.save_region(code=form.code.data, name_zh=form.name_zh.data,
                                    name_en=form.name_en.data, actor=current_user, ip=client_ip())
                db.session.commit()
                flash(_("Region %(code)s has been saved.", code=form.code.data.upper()), "success")
                return redirect(url_for("org.regions"))
            except DomainError as exc:
                db.session.rollback()
                show_domain_error(form, exc)
    return render_template("org/regions.html", regions=service.list_regions(), form=form), \
        _status(request.method == "POST")


@bp.route("/regions/<int:region_id>", methods=["GET", "POST"])
@hq_write_required
def region_edit(region_id: int):
    """Rename a region."""
    region = service.get_region(region_id)
    form = RegionForm(obj=region)
    if form.validate_on_submit():
        try:
            service.save_region(code=form.code.data, name_zh=form.name_zh.data,
                                name_en=form.name_en.data, region=region, actor=current_user,
                                ip=client_ip())
            db.session.commit()
            flash(_("Region %(code)s has been saved.", code=region.code), "success")
            return redirect(url_for("org.regions"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("org/region_form.html", form=form, region=region), \
        _status(request.method == "POST")


# --- dealers -----------------------------------------------------------------------

def _region_choices():
    return choices([(0, "—")] + [(r.id, f"{r.code} · {r.display_name(_locale())}")
                                 for r in service.list_regions()])


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale())


@bp.route("/dealers")
@hq_read_required
def dealers():
    """Dealers, searchable, by region and whether they have a chapter."""
    q = request.args.get("q", "").strip()
    region_id = request.args.get("region", type=int)
    has = request.args.get("chapter", "")
    has_chapter = {"yes": True, "no": False}.get(has)
    stmt = service.dealer_query(q=q, region_id=region_id, has_chapter=has_chapter)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("org/dealers.html", page=page, q=q, region_id=region_id, has=has,
                           regions=service.list_regions(), import_form=ImportForm())


@bp.route("/dealers/new", methods=["GET", "POST"])
@hq_write_required
def dealer_new():
    """Add a dealer."""
    return _dealer_form(None)


@bp.route("/dealers/<int:dealer_id>", methods=["GET", "POST"])
@hq_write_required
def dealer_edit(dealer_id: int):
    """Edit a dealer: name, region, after-sales dates, closure."""
    return _dealer_form(service.get_dealer(dealer_id))


def _dealer_form(dealer):
    form = DealerForm(obj=dealer)
    form.region_id.choices = _region_choices()
    if form.validate_on_submit():
        try:
            data = {k: getattr(form, k).data for k in (
                "code", "name", "region_id", "city", "full_after_sales_since",
                "full_after_sales_until", "closed_on")}
            saved = service.save_dealer(data, dealer=dealer, actor=current_user, ip=client_ip())
            db.session.commit()
            flash(_("Dealer %(code)s has been saved.", code=saved.code), "success")
            return redirect(url_for("org.dealers"))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("org/dealer_form.html", form=form, dealer=dealer), \
        _status(request.method == "POST")


@bp.route("/dealers/import", methods=["POST"])
@hq_write_required
def dealer_import():
    """Upload a dealer list (CSV/XLSX); it is imported by a background job."""
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a CSV or XLSX file to import."), "error")
        return redirect(url_for("org.dealers"))
    upload = form.file.data
    content = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
    if len(content) > current_app.config["MAX_UPLOAD_BYTES"]:
        flash(_("The file is larger than %(mb)s MB.",
                mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)), "error")
        return redirect(url_for("org.dealers"))
    if not content:
        flash(_("The file is empty."), "error")
        return redirect(url_for("org.dealers"))
    audit.record("import_started", actor=current_user, ip=client_ip(), target_type="dealers",
                 details={"filename": upload.filename, "bytes": len(content)})
    run = jobs.submit(import_dealers, name="org.import_dealers", chapter_id=None,
                      user_id=current_user.id,
                      input_file=(upload.filename or "dealers.csv",
                                  upload.mimetype or "application/octet-stream", content))
    return redirect(url_for("jobs.detail", job_id=run.id))


# --- chapters ----------------------------------------------------------------------

@bp.route("/chapters")
@hq_read_required
def chapters():
    """Chapters by region and status."""
    q = request.args.get("q", "").strip()
    region_id = request.args.get("region", type=int)
    status = request.args.get("status", "")
    active = {"open": True, "closed": False}.get(status)
    page = db.paginate(service.chapter_query(q=q, region_id=region_id, active=active),
                       per_page=50, error_out=False)
    return render_template("org/chapters.html", page=page, q=q, region_id=region_id,
                           status=status, regions=service.list_regions())


def _dealer_choices():
    stmt = service.dealer_query(has_chapter=False)
    return choices([(0, "—")] + [(d.id, f"{d.code} · {d.name}")
                                 for d in db.session.execute(stmt).scalars()
                                 if d.full_after_sales_since and d.closed_on is None])


@bp.route("/chapters/new", methods=["GET", "POST"])
@hq_write_required
def chapter_new():
    """Found a chapter at a dealer with full after-sales function."""
    form = ChapterForm()
    form.dealer_id.choices = _dealer_choices()
    if request.method == "GET" and request.args.get("dealer", type=int):
        form.dealer_id.data = request.args.get("dealer", type=int)
    if form.validate_on_submit():
        try:
            chapter = service.open_chapter(dealer_id=form.dealer_id.data, name=form.name.data,
                                           founded_on=form.founded_on.data, actor=current_user,
                                           ip=client_ip())
            db.session.commit()
            flash(_("Chapter %(name)s has been founded.", name=chapter.name), "success")
            return redirect(url_for("org.chapter_detail", chapter_id=chapter.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
    return render_template("org/chapter_new.html", form=form), _status(request.method == "POST")


@bp.route("/chapters/<int:chapter_id>", methods=["GET", "POST"])
@hq_read_required
def chapter_detail(chapter_id: int):
    """A chapter: its dealer, staff, renaming and closing."""
    from clubplatform.auth.service import chapter_staff_query

    chapter = service.get_chapter(chapter_id)
    rename = ChapterRenameForm(obj=chapter, prefix="rename")
    close = ChapterCloseForm(prefix="close")
    action = request.form.get("action")
    if request.method == "POST":
        if current_user.role != "hq_admin":
            from flask import abort

            abort(403)
        try:
            if action == "rename" and rename.validate_on_submit():
                service.rename_chapter(chapter, rename.name.data, actor=current_user, ip=client_ip())
                db.session.commit()
                flash(_("The chapter has been renamed."), "success")
                return redirect(url_for("org.chapter_detail", chapter_id=chapter.id))
            if action == "close" and close.validate_on_submit():
                service.close_chapter(chapter, close.closed_on.data, actor=current_user,
                                      ip=client_ip())
                db.session.commit()
                flash(_("The chapter has been closed."), "success")
                return redirect(url_for("org.chapter_detail", chapter_id=chapter.id))
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(rename if action == "rename" else close, exc)
    staff = db.session.execute(chapter_staff_query(chapter.id)).scalars().all()
    return render_template("org/chapter_detail.html", chapter=chapter, rename=rename, close=close,
                           staff=staff), _status(request.method == "POST")
