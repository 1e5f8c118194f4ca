"""Background jobs for the organisation."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from clubplatform import jobs
from clubplatform.auth.models import User
from clubplatform.errors import ValidationFailed
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.org import service
from clubplatform.tabular import error_report_csv, read_table


@jobs.tracked
def import_dealers(chapter_id: None) -> dict:
    """Import the dealer list uploaded with this job run (HQ job: no chapter)."""
    job_id = jobs.current_run_id()
    run = db.session.get(JobRun, job_id)
    user = db.session.get(User, run.user_id) if run and run.user_id else None
    locale = (user.locale if user and user.locale else current_app.config["BABEL_DEFAULT_LOCALE"])
    upload = jobs.read_input(job_id)
    with force_locale(locale):
        try:
            table = read_table(upload.filename, upload.content,
                               max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
            report = service.import_dealers(table, progress=jobs.report_progress)
        except ValidationFailed as exc:
            # the whole file is unusable: say why, write nothing
            return {"message": str(exc.message), "total": 0, "failed": 0}
        if report.errors:
            jobs.save_file(job_id, "errors", "dealer-import-errors.csv", "text/csv",
                           error_report_csv(report.errors, [_("Row"), _("Field"), _("Reason")]))
        summary = report.as_dict()
        summary["message"] = _(
            "%(total)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(failed)s with errors.", **summary)
    return summary
