"""Due dates in working days: weekends and Vietnam's public holidays (the ``holidays``
package, which computes the lunar ones — Tết, the Hùng Kings — and substitute days) are skipped.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
END_OF_WORKDAY = time(17, 0)


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (the day of receipt does not count)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def due_at(received_at: datetime, days: int) -> datetime:
    """End of the working day (17:00 Hà Nội time) ``days`` working days after receipt, in UTC."""
    local_day = received_at.astimezone(LOCAL).date()
    due_day = add_working_days(local_day, days)
    return datetime.combine(due_day, END_OF_WORKDAY, LOCAL).astimezone(timezone.utc)
