"""Channel senders: portal notification, e-mail over SMTP, SMS through a gateway.

Each sender takes an :class:`~clubplatform.messaging.models.OutboxMessage` and the app
config, sends it and returns the provider's reference, or raises
:class:`~clubplatform.messaging.service.SendError` (``permanent=True`` is not retried).
The outbox id travels with every message (SMTP ``Message-ID``, the gateway's
``client_ref``), so a provider can recognise a resend after a crash.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate

from clubplatform.messaging.models import EMAIL, PORTAL, SMS, OutboxMessage
from clubplatform.messaging.service import SendError


def client_ref(message: OutboxMessage) -> str:
    """The idempotency reference a provider sees: stable across retries of one message."""
    return f"outbox-c{message.chapter_id}-{message.id}"


def send_portal(message: OutboxMessage, config: Mapping) -> str:
    """A portal notification is delivered by being marked sent: the portal shows it."""
    return client_ref(message)


def send_email(message: OutboxMessage, config: Mapping) -> str:
    """Send over SMTP (``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS``, ``MAIL_USERNAME``…)."""
    sender = config.get("MAIL_DEFAULT_SENDER", "club@localhost")
    domain = sender.rpartition("@")[2] or "localhost"
    msg = EmailMessage()
    msg["Subject"] = message.subject or message.kind
    msg["From"] = sender
    msg["To"] = message.recipient
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = f"<{client_ref(message)}@{domain}>"
    msg.set_content(message.body)
    try:
        with smtplib.SMTP(config.get("MAIL_SERVER", "127.0.0.1"), int(config.get("MAIL_PORT", 25)),
                          timeout=int(config.get("MAIL_TIMEOUT", 30))) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendError(f"recipient refused: {exc.recipients}", permanent=True) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                        permanent=500 <= exc.smtp_code < 600 and exc.smtp_code != 554) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP unavailable: {exc}") from exc
    if refused:
        raise SendError(f"recipient refused: {refused}", permanent=True)
    return msg["Message-ID"]


def send_sms(message: OutboxMessage, config: Mapping) -> str:
    """POST the SMS to the provider's JSON API (``SMS_GATEWAY_URL``, ``SMS_GATEWAY_KEY``).

    Request: ``{"to", "text", "client_ref"}`` with ``Authorization: Bearer <key>``;
    answer: ``{"id": …}``. 4xx (except 408/429) is permanent; 5xx, timeouts are retried.
    """
    url = config.get("SMS_GATEWAY_URL")
    if not url:
        raise SendError("SMS_GATEWAY_URL is not configured")
    payload = json.dumps({"to": message.recipient, "text": message.body,
                          "client_ref": client_ref(message)}).encode()
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        "Content-Type": "application/json",
        "Authorization": f"Bearer {config.get('SMS_GATEWAY_KEY') or ''}",
    })
    try:
        with urllib.request.urlopen(request, timeout=int(config.get("SMS_GATEWAY_TIMEOUT", 15))) as r:
            answer = json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
        raise SendError(f"SMS gateway HTTP {exc.code}", permanent=permanent) from exc
    except (TimeoutError, urllib.error.URLError, OSError, ValueError) as exc:
        raise SendError(f"SMS gateway unavailable: {exc}") from exc
    return str(answer.get("id") or client_ref(message))


SENDERS: dict[str, Callable[[OutboxMessage, Mapping], str]] = {
    PORTAL: send_portal, EMAIL: send_email, SMS: send_sms,
}
