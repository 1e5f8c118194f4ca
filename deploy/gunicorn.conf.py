"""gunicorn settings for production (``gunicorn -c deploy/gunicorn.conf.py wsgi:app``).

Environment: ``BIND`` (default 127.0.0.1:8000, behind the reverse proxy / load balancer),
``WEB_CONCURRENCY`` (default 2 x cores + 1), ``PROMETHEUS_MULTIPROC_DIR`` (metrics of all
workers summed by /metrics).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = 60               # a request slower than this is killed and logged
graceful_timeout = 30      # SIGTERM: finish in-flight requests for up to 30 s
keepalive = 5
max_requests = 5000        # recycle workers now and then: memory stays flat
max_requests_jitter = 500
accesslog = None           # the app writes one JSON line per request (clubplatform.observability)
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """Let the Prometheus multiprocess collector forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
