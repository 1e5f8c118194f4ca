"""Fixtures of the messaging tests: a real SMTP server and a fake SMS provider, wired in."""

from __future__ import annotations

import pytest

from tests.platform.messaging.servers import SmsProvider, SmtpServer


@pytest.fixture
def smtp_server(app, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
        monkeypatch.setitem(app.config, "MAIL_USERNAME", None)
        yield server


@pytest.fixture
def sms_provider(app, monkeypatch):
    with SmsProvider() as provider:
        monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", provider.url)
        monkeypatch.setitem(app.config, "SMS_GATEWAY_KEY", SmsProvider.KEY)
        yield provider


@pytest.fixture
def no_quiet_hours(app, monkeypatch):
    monkeypatch.setitem(app.config, "MESSAGING_QUIET_HOURS", "0-0")
