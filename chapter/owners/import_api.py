"""JSON API: importing owners + vehicles or service visits from a dealer-system file."""

from __future__ import annotations

import json

from flask import current_app, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates

from chapter.console.api_access import chapter_staff_only
from chapter.owners import importer
from chapter.owners.jobs import JOB_NAMES, import_file
from clubplatform import jobs
from clubplatform.api import Blueprint
from clubplatform.audit import service as audit
from clubplatform.errors import ValidationFailed
from clubplatform.security import client_ip

blp = Blueprint("api_imports", __name__, url_prefix="/chapter/imports",
                description="Importing owners, vehicles and visits from a file (chapter).")


chapter_staff_only(blp)


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "CSV (UTF-8, UTF-8 with BOM, GBK) "
                                                          "or XLSX; the first row is the header"})


class ImportCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(importer.KINDS),
                         metadata={"description": "owners (owners + vehicles) or visits"})
    mapping = fields.String(
        load_default=None,
        metadata={"description": 'optional JSON object: field → column header or 0-based '
                                 'column index, null = not in the file, e.g. '
                                 '{"mobile": "联系电话", "email": null}; fields left out are '
                                 "recognised from the headers"})

    @validates("mapping")
    def _mapping_is_an_object(self, value, **kwargs):
        if value in (None, ""):
            return
        try:
            loaded = json.loads(value)
        except ValueError as exc:
            raise ValidationError(str(_l("Not valid JSON."))) from exc
        if not isinstance(loaded, dict):
            raise ValidationError(str(_l("Give an object: field → column.")))


class ImportStartedSchema(Schema):
    job_id = fields.String(metadata={"description": "follow it at /api/v1/jobs/{job_id}"})
    status_url = fields.String()
    kind = fields.String()
    mapping = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "field → column header used"})


@blp.route("")
class Imports(MethodView):
    @blp.arguments(ImportCreateSchema, location="form")
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(202, ImportStartedSchema)
    def post(self, data, files):
        """Upload a file and start its import as a job; returns the job id."""
        upload = files["file"]
        max_bytes = current_app.config["MAX_UPLOAD_BYTES"]
        content = upload.read(max_bytes + 1)
        kind = data["kind"]
        given = json.loads(data["mapping"]) if data.get("mapping") else None
        filename = upload.filename or "import.csv"
        # the headers and first rows are read now, so that a bad file or mapping answers
        # 422 at once; the job reads the whole file
        head = importer.preview(kind, filename, content, max_bytes=max_bytes)
        columns = importer.resolve_mapping(kind, head.headers, given)
        if not head.rows:
            msg = _l("The file has no rows under its header.")
            raise ValidationFailed(msg, {"file": [msg]})
        audit.record("import_started", actor=current_user, ip=client_ip(),
                     chapter_id=current_user.chapter_id, target_type=kind,
                     details={"filename": upload.filename, "bytes": len(content), "kind": kind,
                              "fields": sorted(columns), "via": "api"})
        run = jobs.submit(import_file, kind, importer.full_mapping(kind, columns),
                          name=JOB_NAMES[kind], chapter_id=current_user.chapter_id,
                          user_id=current_user.id,
                          input_file=(filename, upload.mimetype or "application/octet-stream",
                                      content))
        return {"job_id": run.id, "kind": kind,
                "status_url": url_for("api_jobs.JobById", job_id=run.id),
                "mapping": {f: head.headers[i] for f, i in columns.items()}}
