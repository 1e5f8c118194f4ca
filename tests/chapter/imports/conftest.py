"""Helpers for the import tests: run an import directly, or through the job queue."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from clubplatform.extensions import db
from clubplatform.jobs.models import JobRun
from clubplatform.tenancy import chapter_scope


@pytest.fixture
def run_import(app):
    """Import ``content`` into ``chapter`` with the service (no job); return the report."""
    from chapter.owners import importer

    def _run(chapter, content: bytes, kind: str = "owners", filename: str = "file.csv",
             mapping=None, **kwargs):
        cid = chapter.id
        with chapter_scope(cid):
            table, columns = importer.read_upload(
                kind, filename, content, mapping, max_bytes=app.config["MAX_UPLOAD_BYTES"])
            report = importer.import_table(kind, cid, table, columns,
                                           after_batch=db.session.commit, **kwargs)
            db.session.commit()
        return report

    return _run


def work_queue(app) -> None:
    """With real Redis the job waits in RQ: run a worker; inline it already ran."""
    from clubplatform.jobs import get_queue

    with app.app_context():
        queue = get_queue(app)
        if queue.is_async:
            from rq import SimpleWorker

            SimpleWorker([queue], connection=queue.connection).work(burst=True)


def last_run(name_prefix: str = "chapter.import_") -> JobRun:
    db.session.expire_all()
    return db.session.execute(
        sa.select(JobRun).where(JobRun.name.like(f"{name_prefix}%"),
                                JobRun.name != "chapter.import_upload")
        .order_by(JobRun.created_at.desc())).scalars().first()


def upload(client, content: bytes, filename: str = "owners.csv", kind: str = "owners"):
    return client.post("/chapter/imports/upload",
                       data={"kind": kind, "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")
