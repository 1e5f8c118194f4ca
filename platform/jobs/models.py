"""Records of background jobs, their progress and their files, for the Jobs page."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from clubplatform.db import CreatedAtMixin, UTCDateTime
from clubplatform.extensions import db

QUEUED = "queued"
STARTED = "started"
FINISHED = "finished"
FAILED = "failed"
STATUSES = (QUEUED, STARTED, FINISHED, FAILED)


class JobRun(CreatedAtMixin, db.Model):
    """One run of a background job; its id is the RQ job id (it carries the tenant)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('queued','started','finished','failed')", name="status_known"
        ),
        sa.Index("ix_job_runs_user_created", "user_id", "created_at"),
        sa.Index("ix_job_runs_chapter_created", "chapter_id", "created_at"),
        # the sweeper's lookup: the queued runs (few: waiting for a worker, or for Redis)
        sa.Index("ix_job_runs_waiting", "created_at",
                 postgresql_where=sa.text("status = 'queued'"),
                 sqlite_where=sa.text("status = 'queued'")),
    )

    #: the RQ job id, e.g. ``org.import_dealers:hq:3f2a…``
    id: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    #: registered job name, e.g. ``org.import_dealers``
    name: Mapped[str] = mapped_column(sa.String(64))
    #: the chapter the job works for; None for HQ and platform jobs
    chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))
    #: the user who started it; None for scheduled jobs
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    #: queued → started → finished | failed
    status: Mapped[str] = mapped_column(sa.String(16), default=QUEUED)
    #: percentage done, 0–100, as last saved by the job
    progress: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: one-line outcome or error for the user
    message: Mapped[str] = mapped_column(sa.Text, default="")
    #: small JSON result (counts and the like)
    result: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: attempts started so far (RQ runs a job at least once)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: dotted path of the job function, e.g. ``clubplatform.org.jobs.import_dealers``: with
    #: the columns below, what a run needs to be enqueued later (None on runs from before
    #: migration 0010)
    function: Mapped[str | None] = mapped_column(sa.String(255))
    #: the function's arguments after ``chapter_id`` (JSON primitives)
    args: Mapped[list | None] = mapped_column(sa.JSON)
    #: RQ's retry policy, ``{"max": 3, "intervals": [10, 60, 300]}``; None: no retry
    retry: Mapped[dict | None] = mapped_column(sa.JSON)
    #: seconds RQ lets the job run before it stops it
    timeout: Mapped[int | None] = mapped_column(sa.Integer)
    #: when the run reached the job queue; None while it waits because Redis could not be
    #: reached at submit time (:func:`clubplatform.jobs.requeue_pending` enqueues it later)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobFile(CreatedAtMixin, db.Model):
    """A file a job reads (the upload) or writes (its error report).

    Kept in the database so that any worker on any machine can read it.
    """

    __tablename__ = "job_files"
    __table_args__ = (sa.UniqueConstraint("job_id", "kind", name="uq_job_files_job_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the job run
    job_id: Mapped[str] = mapped_column(sa.ForeignKey("job_runs.id", ondelete="CASCADE"))
    #: ``input`` or ``errors``
    kind: Mapped[str] = mapped_column(sa.String(16))
    #: file name offered for download
    filename: Mapped[str] = mapped_column(sa.String(255))
    #: MIME type
    content_type: Mapped[str] = mapped_column(sa.String(128))
    #: the bytes
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
