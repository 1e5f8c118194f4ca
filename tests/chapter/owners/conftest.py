"""Fixtures of the owner tests: the live server and browser of the platform's browser tests."""

from tests.platform.test_browser import browser, live_url  # noqa: F401 (fixtures)
