"""Job functions used by the job tests (importable by dotted path, as RQ needs)."""

from __future__ import annotations

from clubplatform import jobs
from clubplatform.tenancy import current_scope


@jobs.tracked
def report_scope(chapter_id):
    """Return the tenant scope the job ran in, with progress saved on the way."""
    jobs.report_progress(1, 2)
    jobs.report_progress(2, 2)
    return {"scope": current_scope(), "chapter_id": chapter_id}


@jobs.tracked
def always_fails(chapter_id):
    raise RuntimeError("the partner system is down")


@jobs.tracked
def echo_args(chapter_id, text, mapping):
    """Return the arguments the job was given."""
    return {"chapter_id": chapter_id, "text": text, "mapping": mapping}
