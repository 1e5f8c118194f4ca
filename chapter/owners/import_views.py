"""Chapter pages: importing owners, vehicles and visits from the dealer system.

Upload (kind + file) → mapping page (the detected column for each field, correctable,
and the first rows) → start: the import runs as a job, followed on the Jobs page.
Between the upload and the start the file waits in the database (see
:func:`chapter.owners.importer.stage_upload`), so any app server can serve each step.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField

from chapter.owners import importer
from chapter.owners.jobs import JOB_NAMES, import_file
from clubplatform import jobs
from clubplatform.audit import service as audit
from clubplatform.errors import NotFound, ValidationFailed
from clubplatform.extensions import db
from clubplatform.forms import choices
from clubplatform.jobs.views import STATUS_LABELS
from clubplatform.security import client_ip

bp = Blueprint("imports", __name__, url_prefix="/imports")

#: prefix of the mapping form's fields (``map_name``, ``map_mobile`` …)
PREFIX = "map_"


class UploadForm(FlaskForm):
    kind = SelectField(_l("The file holds"), validate_choice=False, default=importer.OWNERS)
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(list(importer.KIND_LABELS.items()))


def mapping_form(kind: str, headers: list[str], detected: dict[str, int]) -> FlaskForm:
    """A form with one select per field of ``kind``: a column of the file, or none."""

    class MappingForm(FlaskForm):
        pass

    for name in importer.FIELDS[kind]:
        setattr(MappingForm, PREFIX + name,
                SelectField(importer.FIELD_LABELS[name], validate_choice=False))
    form = MappingForm()
    options = [("", _("— not in the file —"))] + [
        (str(i), h or _("Column %(n)s", n=i + 1)) for i, h in enumerate(headers)]
    for name in importer.FIELDS[kind]:
        select = form[PREFIX + name]
        select.choices = choices(options)
        if not form.is_submitted():
            select.data = str(detected[name]) if name in detected else ""
    return form


def _max_bytes() -> int:
    return current_app.config["MAX_UPLOAD_BYTES"]


def _staged_or_404(upload_id: str):
    try:
        return importer.get_staged_upload(current_user.chapter_id, upload_id)
    except NotFound:
        abort(404)


def _index(form: UploadForm, status: int = 200):
    cid = current_user.chapter_id
    page = render_template(
        "chapter/imports/index.html", form=form,
        staged=importer.staged_uploads(cid),
        runs=importer.recent_imports(cid, JOB_NAMES.values()),
        kind_labels=importer.KIND_LABELS, job_kinds={v: k for k, v in JOB_NAMES.items()},
        status_labels=STATUS_LABELS, fields=importer.FIELDS, aliases=importer.ALIASES,
        field_labels=importer.FIELD_LABELS, required=importer.required_fields)
    return page, status


@bp.route("/")
def index():
    """Upload a dealer-system file; the chapter's recent imports."""
    return _index(UploadForm())


@bp.route("/upload", methods=["POST"])
def upload():
    """Keep the uploaded file and show its columns for the mapping."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    kind = form.kind.data if form.kind.data in importer.KINDS else importer.OWNERS
    f = form.file.data
    content = f.read(_max_bytes() + 1)
    filename = f.filename or "import.csv"
    try:
        importer.preview(kind, filename, content, max_bytes=_max_bytes())
    except ValidationFailed as exc:
        form.file.errors = [str(m) for ms in exc.fields.values() for m in ms] or [str(exc.message)]
        return _index(form, 422)
    run = importer.stage_upload(current_user.chapter_id, current_user.id, kind, filename,
                                f.mimetype, content)
    db.session.commit()
    return redirect(url_for(".mapping", upload_id=run.id))


@bp.route("/<upload_id>/mapping", methods=["GET", "POST"])
def mapping(upload_id: str):
    """Check (and correct) which column holds each field, then start the import."""
    run, upload = _staged_or_404(upload_id)
    kind = run.result.get("kind", importer.OWNERS)
    try:
        preview = importer.preview(kind, upload.filename, upload.content, max_bytes=_max_bytes())
    except ValidationFailed as exc:  # the file was checked at upload; kept for safety
        flash(str(exc.message), "error")
        return redirect(url_for(".index"))
    form = mapping_form(kind, preview.headers, preview.mapping)
    if form.validate_on_submit():
        given = {name: (int(form[PREFIX + name].data) if form[PREFIX + name].data else None)
                 for name in importer.FIELDS[kind]}
        try:
            columns = importer.resolve_mapping(kind, preview.headers, given)
        except ValidationFailed as exc:
            for name, messages in exc.fields.items():
                if PREFIX + name in form:
                    form[PREFIX + name].errors = [str(m) for m in messages]
            flash(str(exc.message), "error")
        else:
            return _start(run, upload, kind, columns)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "chapter/imports/mapping.html", form=form, run=run, upload=upload, preview=preview,
        kind=kind, kind_label=importer.KIND_LABELS[kind], prefix=PREFIX,
        fields=importer.FIELDS[kind], required=importer.required_fields(kind),
        field_labels=importer.FIELD_LABELS), status


def _start(run, upload, kind: str, columns: dict[str, int]):
    filename, content_type, content = upload.filename, upload.content_type, upload.content
    audit.record("import_started", actor=current_user, ip=client_ip(),
                 chapter_id=current_user.chapter_id, target_type=kind,
                 details={"filename": filename, "bytes": len(content), "kind": kind,
                          "fields": sorted(columns)})
    importer.discard_upload(run)
    job = jobs.submit(import_file, kind, importer.full_mapping(kind, columns),
                      name=JOB_NAMES[kind], chapter_id=current_user.chapter_id,
                      user_id=current_user.id,
                      input_file=(filename, content_type, content))
    return redirect(url_for("jobs.detail", job_id=job.id))


@bp.route("/<upload_id>/discard", methods=["POST"])
def discard(upload_id: str):
    """Forget an upload that is waiting for its mapping."""
    run, _upload = _staged_or_404(upload_id)
    importer.discard_upload(run)
    db.session.commit()
    flash(_("The upload was discarded."), "success")
    return redirect(url_for(".index"))
