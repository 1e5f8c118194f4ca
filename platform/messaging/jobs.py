"""The outbox dispatcher: claim (commit) → send → record (commit), one message at a time.

RQ runs a job at least once, and ``rq cron`` may enqueue a fan-out twice; neither
sends a message twice, because a message is sent only by the worker whose claim
(a compare-and-set UPDATE) was committed first. A worker that dies after claiming
leaves the row ``claimed``: the manager sees it, and after ``MESSAGING_CLAIM_TIMEOUT``
it is claimed and sent again (the provider sees the same ``client_ref``).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from clubplatform import jobs
from clubplatform.db import utcnow
from clubplatform.extensions import db
from clubplatform.messaging import service
from clubplatform.messaging.models import OutboxMessage
from clubplatform.messaging.senders import SENDERS
from clubplatform.tenancy import unscoped

JOB_NAME = "messaging-dispatch"


def dispatch_chapter(chapter_id: int, *, limit: int = 200, now: datetime | None = None) -> dict:
    """Send the chapter's due messages (call in the chapter's scope; commits)."""
    counts = {"sent": 0, "retrying": 0, "failed": 0, "claimed_elsewhere": 0}
    for message_id in service.due_message_ids(chapter_id, now=now, limit=limit):
        at = now or utcnow()
        claimed = service.claim(message_id, now=at)
        db.session.commit()  # the claim is durable before anything leaves
        if not claimed:
            counts["claimed_elsewhere"] += 1
            continue
        message = db.session.get(OutboxMessage, message_id)
        if message.attempts > service.max_attempts():
            service.record_failure(message, message.last_error or "gave up after a crash",
                                   permanent=True, now=at)
            db.session.commit()
            counts["failed"] += 1
            continue
        try:
            ref = SENDERS[message.channel](message, current_app.config)
        except service.SendError as exc:
            service.record_failure(message, str(exc), permanent=exc.permanent, now=at)
            counts["failed" if message.status == service.FAILED else "retrying"] += 1
        else:
            service.record_sent(message, ref, now=at)
            counts["sent"] += 1
        db.session.commit()
    return counts


@jobs.tracked
def dispatch(chapter_id: int, limit: int = 200) -> dict:
    """Send one chapter's due outbox messages."""
    counts = dispatch_chapter(chapter_id, limit=limit)
    return {**counts, "message": f"{counts['sent']} messages sent"}


@jobs.tracked
def dispatch_all(chapter_id: None = None) -> dict:
    """Fan out: one dispatch job per chapter with due messages (id per chapter and 5 minutes)."""
    now = utcnow()
    with unscoped("outbox fan-out: which chapters have messages due"):
        chapters = service.chapters_with_due_messages(now=now)
    db.session.commit()
    bucket = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    for cid in chapters:
        jobs.submit(dispatch, name=JOB_NAME, chapter_id=cid, key=f"{bucket:%Y%m%d%H%M}")
    return {"chapters": len(chapters), "message": f"{len(chapters)} chapters to dispatch"}
