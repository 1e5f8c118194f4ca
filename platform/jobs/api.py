"""JSON API: the status of background jobs the caller may see."""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from clubplatform.api import Blueprint
from clubplatform.jobs.views import get_visible_run, run_status

blp = Blueprint("api_jobs", __name__, url_prefix="/jobs", description="Background jobs.")


class JobStatusSchema(Schema):
    id = fields.String()
    name = fields.String()
    status = fields.String(metadata={"description": "queued, started, finished or failed"})
    status_label = fields.String()
    progress = fields.Integer(metadata={"description": "0–100"})
    message = fields.String()
    result = fields.Dict()


@blp.route("/<job_id>")
class JobById(MethodView):
    @blp.response(200, JobStatusSchema)
    def get(self, job_id):
        """Status and progress of a job."""
        return run_status(get_visible_run(job_id))
