"""Recurring jobs, registered with ``rq cron`` (run exactly one ``rq cron`` process).

Start it from the repository root with::

    rq cron --url "$REDIS_URL" clubplatform.schedule

Cron strings are in UTC. Per-chapter work is fanned out: the registered function
enqueues one job per chapter with a deterministic id, so a second run of the same
day enqueues nothing new.
"""

from rq import cron

from clubplatform.jobs.tasks import purge_job_runs

# 03:30 Asia/Shanghai = 19:30 UTC
cron.register(purge_job_runs, queue_name="default", args=(None,), cron="30 19 * * *",
              name="purge-job-runs")
