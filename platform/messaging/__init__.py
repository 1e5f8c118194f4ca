"""Messaging: the outbox every capability sends member messages through, exactly once.

Public API (import from :mod:`clubplatform.messaging.service`)::

    from clubplatform.messaging import service as messaging

    msg = messaging.queue_message(
        chapter_id=chapter.id,            # the tenant; must match the open scope
        member_id=member.id,              # who it is for (None for a non-member)
        channel="email",                  # "portal" | "email" | "sms"
        kind="event_invitation",          # what it is (free text, ≤ 48 chars)
        dedupe_key=messaging.dedupe_key("event_invitation", member.id, event.starts_on),
        recipient=member.email,           # e-mail, mobile, or the portal user's id
        language=member.locale,           # "zh_Hans_CN" | "en" ("zh"/"en" accepted)
        subject="…", body="…",            # either literal text …
        template="chapter/events/messages/invitation",   # … or <template>.<zh|en>.txt,
        context={"event": "…"},           #   first line = subject, rest = body
        not_before=None,                  # earliest send (UTC); quiet hours are added
    )                                     # → OutboxMessage, or None if the key exists

- ``dedupe_key`` is unique per chapter: ``dedupe_key(kind, member_id, due_on)`` makes
  "one per member, kind and due date". Queueing the same key again returns ``None``
  and changes nothing, so callers may run twice.
- The **caller** checks consent (``hq.members`` ``consent_<channel>``) and skips
  anonymised members: the kernel does not read the member database.
- SMS and e-mail are held back during the quiet hours (``MESSAGING_QUIET_HOURS``,
  default ``"21-9"`` Asia/Shanghai); portal notifications are not.
- ``queue_message`` only flushes: the edge commits. Messages go out when the
  dispatcher runs: ``clubplatform.messaging.jobs.dispatch(chapter_id)`` (tracked RQ job)
  or ``dispatch_all`` (fan-out, registered in ``clubplatform.schedule`` every 5 minutes).

Exactly once: the dispatcher claims a row (compare-and-set UPDATE ``queued → claimed``)
and commits before sending, then records ``sent`` or the failure. A retried or duplicated
job finds the row claimed or sent and sends nothing. A crash after the claim leaves the
row ``claimed`` (visible to the manager); after ``MESSAGING_CLAIM_TIMEOUT`` seconds
(default 600) it is claimed again, with the same provider reference
(``senders.client_ref``). A failed send goes back to ``queued`` with a backoff
(``MESSAGING_BACKOFF`` seconds, default 60/300/1800/7200) and is ``failed`` after
``MESSAGING_MAX_ATTEMPTS`` (default 5) tries or at once on a permanent error;
``service.retry_failed(msg)`` puts a failed message back.

Channels (:mod:`clubplatform.messaging.senders`):

- ``portal``: marked sent and shown in the member portal;
  ``service.notifications(member_id)``, ``service.unread_count(member_id)``,
  ``service.mark_read(member_id, message_id=None)``.
- ``email``: SMTP with ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS``,
  ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_DEFAULT_SENDER``.
- ``sms``: the provider's JSON API at ``SMS_GATEWAY_URL`` with ``SMS_GATEWAY_KEY``
  (``POST {"to", "text", "client_ref"}`` → ``{"id"}``).

Reading for managers: ``service.message_query(status=…, kind=…)``,
``service.status_counts()``.
"""
