"""Fixtures of the care tests (the SMTP server and SMS provider come from the messaging tests)."""

from __future__ import annotations

import pytest

from tests.platform.messaging.conftest import no_quiet_hours, sms_provider, smtp_server  # noqa: F401


@pytest.fixture
def chapter_id(db):
    from tests.factories import make_chapter

    return make_chapter().id
