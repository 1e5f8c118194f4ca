"""Recurring jobs, registered with ``rq cron`` (run exactly one ``rq cron`` process).

Start it from the repository root with::

    rq cron --url "$REDIS_URL" clubplatform.schedule

Cron strings are in UTC. Per-chapter work is fanned out: the registered function
enqueues one job per chapter with a deterministic id, so a second run of the same
day enqueues nothing new.
"""

from rq import cron

from clubplatform.jobs import import_job_function
from clubplatform.jobs.tasks import purge_job_runs, requeue_pending_runs

# 03:30 Asia/Shanghai = 19:30 UTC
cron.register(purge_job_runs, queue_name="default", args=(None,), cron="30 19 * * *",
              name="purge-job-runs")

# every minute: enqueue the job runs submitted while Redis was unreachable (each once; the
# sweep is a no-op when there are none)
cron.register(requeue_pending_runs, queue_name="default", args=(None,), cron="* * * * *",
              name="jobs-requeue")

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

# outbox dispatcher (issue 7): every 5 minutes, one dispatch job per chapter with messages due
# (deterministic id per chapter and 5-minute slot); quiet hours are kept by the rows' not_before.
cron.register(import_job_function("clubplatform.messaging.jobs.dispatch_all"),
              queue_name="default", args=(None,), cron="*/5 * * * *", name="messaging-dispatch")

# complaints: escalate missed call-back promises, complaints open beyond the chapter's limit
# and those not acknowledged the day they came in; hourly at :05 (UTC), fanned out one
# job per chapter with an id per chapter and Shanghai hour (a rerun enqueues nothing new).
cron.register(import_job_function("chapter.complaints.jobs.escalate_all_chapters"),
              queue_name="default", args=(None,), cron="5 * * * *", name="complaints-escalate")

# month-end figures: 00:30 Asia/Shanghai on the 1st = 16:30 UTC on the last day of the month
# before ("L"); snapshots the month just ended (Shanghai date at run time), kept if present.
cron.register(import_job_function("clubplatform.analytics.jobs.snapshot_month"),
              queue_name="default", args=(None,), cron="30 16 L * *",
              name="analytics-snapshot")

# events: after events end, mark no-shows and settle attendance points; 23:40 Asia/Shanghai =
# 15:40 UTC daily, fanned out one job per chapter with an id per chapter and day (idempotent).
cron.register(import_job_function("chapter.events.jobs.close_events_all"),
              queue_name="default", args=(None,), cron="40 15 * * *", name="events-close")

# daily care list (issue 7): 00:30 Asia/Shanghai = 16:30 UTC; one job per open chapter with
# the id care-list-c<chapter>-<day>; each catches up missed days and is idempotent.
cron.register(import_job_function("chapter.care.jobs.generate_all"), queue_name="default",
              args=(None,), cron="30 16 * * *", name="care-list")

# churn matrix snapshots (HQ's churn pages read them): 02:30 Asia/Shanghai on the 1st =
# 18:30 UTC on the last day of the month before ("L"); the job keeps the month just ended
# (Shanghai date at run time), one job per chapter with the id churn-snapshot-c<id>-<YYYY-MM>.
cron.register(import_job_function("chapter.churn.jobs.snapshot_all"), queue_name="default",
              args=(None,), cron="30 18 L * *", name="churn-snapshot")

# the person keys shared between chapters (the churn matrix's "serviced elsewhere"):
# 00:10 Asia/Shanghai = 16:10 UTC; the owners' triggers keep them, this mends a key two
# chapters wrote at the same moment
cron.register(import_job_function("chapter.owners.jobs.repair_person_keys"),
              queue_name="default", args=(None,), cron="10 16 * * *", name="person-keys")
