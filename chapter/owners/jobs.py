"""Background jobs for a chapter's owners: importing the dealer system's files, and the
nightly repair of the person keys shared between chapters."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from chapter.owners import importer, person_keys
from clubplatform import jobs
from clubplatform.auth.models import User
from clubplatform.errors import ValidationFailed
from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.tabular import error_report_csv
from clubplatform.tenancy import unscoped

#: job names, by import kind (the Jobs page shows them)
JOB_NAMES = {importer.OWNERS: "chapter.import_owners", importer.VISITS: "chapter.import_visits"}


@jobs.tracked
def import_file(chapter_id: int, kind: str, mapping: dict[str, Any] | None = None) -> dict:
    """Import the owners+vehicles or visits file uploaded with this job run.

    ``mapping`` is field → column index (or header); fields it leaves out are detected
    from the headers. Each batch is committed as it is written, so a retry of the job
    (RQ runs a job at least once) finds the rows already there and changes nothing.
    """
    job_id = jobs.current_run_id()
    run = db.session.get(JobRun, job_id) if job_id else None
    user = db.session.get(User, run.user_id) if run and run.user_id else None
    locale = user.locale if user and user.locale else current_app.config["BABEL_DEFAULT_LOCALE"]
    upload = jobs.read_input(job_id)
    with force_locale(locale):
        try:
            table, columns = importer.read_upload(
                kind, upload.filename, upload.content, mapping,
                max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
            db.session.expunge(upload)  # the parsed table is all we need from here on
            del upload
            report = importer.import_table(kind, chapter_id, table, columns,
                                           progress=jobs.report_progress,
                                           after_batch=db.session.commit)
        except ValidationFailed as exc:
            # the whole file is unusable: say why, write nothing
            return {"message": _file_problem(exc), "total": 0, "failed": 0}
        if report.errors:
            jobs.save_file(job_id, "errors", f"{kind}-import-errors.csv", "text/csv",
                           error_report_csv(report.errors, [_("Row"), _("Field"), _("Reason")]))
        summary = report.as_dict()
        summary["kind"] = kind
        summary["message"] = _(
            "%(total)s rows: %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
            "%(failed)s with errors.", **summary)
    return summary


def _file_problem(exc: ValidationFailed) -> str:
    """One line for the Jobs page: the summary, then each column problem."""
    parts = [str(exc.message)]
    for name, messages in exc.field_messages().items():
        for message in messages:
            if message != parts[0]:
                label = importer.FIELD_LABELS.get(name)
                parts.append(f"{label}: {message}" if label else message)
    return " ".join(parts)


PERSON_KEYS_JOB = "person-keys"


@jobs.tracked
def repair_person_keys(chapter_id: int | None = None) -> dict:
    """Rebuild ``shared_person_keys`` from every chapter's owners (nightly, ``rq cron``).

    The owners' triggers keep it as they write; this catches a key two chapters wrote
    at the same moment. ``added``/``removed`` are 0 when there was nothing to mend.
    """
    with unscoped("person keys shared between chapters: every chapter's owners"):
        result = person_keys.repair()
    return {**result, "message": f"shared person keys: {result['added']} added, "
                                 f"{result['removed']} removed"}


#: jobs ``flask jobs run NAME`` can start (registered in ``chapter.JOBS``)
JOBS = {PERSON_KEYS_JOB: repair_person_keys}
