"""Recurring jobs, registered with ``rq cron`` (run exactly one ``rq cron`` process).

Start it from the repository root with::

    rq cron --url "$REDIS_URL" clubplatform.schedule

Cron strings are in UTC. Per-chapter work is fanned out: the registered function
enqueues one job per chapter with a deterministic id, so a second run of the same
day enqueues nothing new.
"""

from rq import cron

from clubplatform.jobs import import_job_function
from clubplatform.jobs.tasks import purge_job_runs

# 03:30 Asia/Shanghai = 19:30 UTC
cron.register(purge_job_runs, queue_name="default", args=(None,), cron="30 19 * * *",
              name="purge-job-runs")

# points settlement: 02:00 Asia/Shanghai on the 2nd = 18:00 UTC on the 1st; drafts the
# month before (one set-based job; re-drafting is idempotent). By path: the kernel does
# not import the wings.
cron.register(import_job_function("hq.settlement.jobs.draft_month"), queue_name="default",
              args=(None,),
              cron="0 18 1 * *", name="settlement-draft")

# points expiry and tier recomputation: 01:00 Asia/Shanghai on the 1st = 17:00 UTC on the
# last day of the month before ("L"); both work on the month just ended (Shanghai date
# at run time) and are idempotent. Birthday gifts: 08:00 Asia/Shanghai = 00:00 UTC daily.
cron.register(import_job_function("hq.points.jobs.expire_points"), queue_name="default",
              args=(None,), cron="0 17 L * *", name="points-expire")
cron.register(import_job_function("hq.points.jobs.recompute_tiers"), queue_name="default",
              args=(None,), cron="0 17 L * *", name="points-tiers")
cron.register(import_job_function("hq.points.jobs.give_birthday_points"), queue_name="default",
              args=(None,), cron="0 0 * * *", name="points-birthdays")
