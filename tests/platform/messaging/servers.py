"""Real servers the messaging tests send to: an SMTP server (aiosmtpd) and a fake SMS provider."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "subject": str(msg["Subject"]), "message_id": msg["Message-ID"],
                              "body": msg.get_content().strip()})
        return "250 OK"


class SmtpServer:
    """An SMTP server on 127.0.0.1 that keeps what it receives in ``messages``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = _Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[dict]:
        return self.inbox.messages

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class SmsProvider:
    """A provider's JSON API: ``POST /send`` with a bearer key; de-duplicates ``client_ref``.

    ``fail_with`` makes the next answers an HTTP error code (e.g. 500, 400).
    """

    KEY = "test-sms-key"

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.delivered: dict[str, dict] = {}
        self.fail_with: int | None = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                auth_ok = self.headers.get("Authorization") == f"Bearer {provider.KEY}"
                provider.received.append({**body, "auth_ok": auth_ok})
                if provider.fail_with or not auth_ok:
                    self._answer(provider.fail_with or 401, {"error": "refused"})
                    return
                ref = body["client_ref"]
                provider.delivered.setdefault(ref, body)
                self._answer(200, {"id": f"sms-{ref}"})

            def _answer(self, code, payload):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
