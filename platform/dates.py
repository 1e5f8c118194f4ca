"""Business dates are Asia/Shanghai calendar dates; timestamps are stored in UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from clubplatform.db import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's business date in Asia/Shanghai."""
    return utcnow().astimezone(SHANGHAI).date()


def local(dt: datetime) -> datetime:
    """A UTC timestamp shown in Asia/Shanghai."""
    return dt.astimezone(SHANGHAI)


def day_start_utc(d: date) -> datetime:
    """The UTC instant at which the Shanghai business date ``d`` begins."""
    return datetime.combine(d, time.min, SHANGHAI).astimezone(ZoneInfo("UTC"))


def day_end_utc(d: date) -> datetime:
    """The UTC instant at which the Shanghai business date ``d`` ends (exclusive)."""
    return day_start_utc(d + timedelta(days=1))


def month_end(d: date) -> date:
    nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)
