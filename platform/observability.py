"""Observability: structured JSON logs, Prometheus metrics, the request id.

- Every request gets an id (the caller's ``X-Request-ID`` when it is sane, else a new
  one), sent back in ``X-Request-ID`` and put on every log line written while the
  request runs, with the user id and the chapter id of the open tenant scope. Job log
  lines carry the RQ job id instead.
- ``LOG_FORMAT=json`` (the default outside tests) writes one JSON object per line to
  stderr; ``LOG_FORMAT=text`` keeps Python's plain format (development).
- ``/metrics`` (Prometheus text format, ``prometheus_client``): request latency
  histogram by route, job durations and failures, queue depth (read from Redis at
  scrape time). Under gunicorn and RQ several processes write metrics: set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (``make prod`` and the Procfile do) and
  the endpoint sums every process of the machine. Readable from loopback only, or by
  anyone sending ``Authorization: Bearer $METRICS_TOKEN`` when that is set.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, abort, current_app, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import values as _values
from prometheus_client.core import GaugeMetricFamily

from clubplatform import tenancy

log = logging.getLogger("clubplatform.request")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_LOOPBACK = ("127.0.0.1", "::1")

def _metrics_process_id() -> str:
    """Whose files the metrics of this process go to (multiprocess mode).

    An RQ worker forks one work-horse per job; keyed by pid, every job would leave its own
    files behind and scrapes would slow down for ever. ``flask jobs worker`` sets
    ``CLUBPLATFORM_METRICS_ID`` to the worker's name, so its horses (one at a time) share
    the worker's files.
    """
    return os.environ.get("CLUBPLATFORM_METRICS_ID") or str(os.getpid())


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _values.ValueClass = _values.MultiProcessValue(process_identifier=_metrics_process_id)

#: request latency by method, route pattern (never the raw path: bounded label values)
REQUEST_SECONDS = Histogram(
    "clubplatform_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
JOB_SECONDS = Histogram(
    "clubplatform_job_duration_seconds",
    "Time a background job ran, by job and outcome",
    ["job", "outcome"],
    buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
)
JOB_FAILURES = Counter(
    "clubplatform_job_failures_total", "Background job attempts that raised", ["job"]
)


# ---------------------------------------------------------------------------- logging
class ContextFilter(logging.Filter):
    """Put the request id, user id, chapter id (or the job id) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = None
        record.user_id = None
        if has_request_context():
            record.request_id = g.get("request_id")
            user = g.get("_login_user")  # set by flask-login; never load a user from a log call
            if user is not None and getattr(user, "is_authenticated", False):
                record.user_id = getattr(user, "id", None)
        record.chapter_id = tenancy.current_chapter_id()
        record.job_id = _current_job_id()
        return True


def _current_job_id() -> str | None:
    try:
        from rq import get_current_job

        job = get_current_job()
    except Exception:  # outside a worker
        return None
    return job.id if job is not None else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, context ids and extras."""

    _STD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
        "message", "asctime", "request_id", "user_id", "chapter_id", "job_id", "taskName"}

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "user_id", "chapter_id", "job_id"):
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        for key, value in vars(record).items():  # extra={...} fields
            if key not in self._STD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


_HANDLER_NAME = "clubplatform-json"


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    """Install one stderr handler on the root logger (idempotent; replaces our own)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == _HANDLER_NAME:
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user_id)s "
            "chapter=%(chapter_id)s job=%(job_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    log.disabled = False  # a logging.config.fileConfig (alembic) may have disabled it


# ---------------------------------------------------------------------------- metrics
def observe_job(name: str, seconds: float, ok: bool) -> None:
    """Record one job attempt (called by :func:`clubplatform.jobs.tracked`)."""
    JOB_SECONDS.labels(job=name, outcome="ok" if ok else "failed").observe(seconds)
    if not ok:
        JOB_FAILURES.labels(job=name).inc()


class QueueCollector:
    """Queue depth read from Redis at scrape time (so every process agrees)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        from clubplatform.jobs import redis_connection

        depth = GaugeMetricFamily("clubplatform_queue_depth", "Jobs in the queue by state",
                                  labels=["queue", "state"])
        up = GaugeMetricFamily("clubplatform_redis_up", "1 when Redis answered the scrape")
        conn = redis_connection(self.app)
        if conn is None:
            yield up
            return
        try:
            from rq import Queue

            q = Queue(self.app.config["JOB_QUEUE"], connection=conn)
            depth.add_metric([q.name, "queued"], q.count)
            depth.add_metric([q.name, "started"], q.started_job_registry.count)
            depth.add_metric([q.name, "scheduled"], q.scheduled_job_registry.count)
            depth.add_metric([q.name, "deferred"], q.deferred_job_registry.count)
            depth.add_metric([q.name, "failed"], q.failed_job_registry.count)
            up.add_metric([], 1)
            yield depth
        except Exception:
            up.add_metric([], 0)
        yield up


def metrics_text(app: Flask) -> bytes:
    """The Prometheus exposition of this machine's processes plus the queue depth."""
    queue = CollectorRegistry()
    queue.register(QueueCollector(app))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY  # one process (flask run, tests)
    return generate_latest(processes) + generate_latest(queue)


def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].strip(), token)
    return request.remote_addr in _LOOPBACK


# ---------------------------------------------------------------------------- wiring
def init_app(app: Flask) -> None:
    if not app.config.get("TESTING") and app.config.get("LOG_FORMAT") in ("json", "text"):
        configure_logging(app.config["LOG_FORMAT"], app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _start() -> None:
        rid = request.headers.get("X-Request-ID", "")
        g.request_id = rid if _REQUEST_ID_RE.match(rid) else uuid.uuid4().hex
        g._t0 = time.perf_counter()

    @app.after_request
    def _finish(resp):
        rid = g.get("request_id")
        if rid:
            resp.headers["X-Request-ID"] = rid
        t0 = g.pop("_t0", None)
        if t0 is not None and request.endpoint != "observability.metrics":
            seconds = time.perf_counter() - t0
            route = request.url_rule.rule if request.url_rule is not None else "unmatched"
            REQUEST_SECONDS.labels(request.method, route, str(resp.status_code)).observe(seconds)
            log.info("%s %s %s", request.method, route, resp.status_code, extra={
                "method": request.method, "path": request.path, "status": resp.status_code,
                "duration_ms": round(seconds * 1000, 1)})
        return resp

    from flask import Blueprint

    bp = Blueprint("observability", __name__)

    @bp.route("/metrics")
    def metrics():
        if not _metrics_allowed():
            abort(404)
        return Response(metrics_text(current_app._get_current_object()),
                        mimetype=CONTENT_TYPE_LATEST)

    app.register_blueprint(bp)
