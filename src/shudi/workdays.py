"""Working days on the Chinese calendar (statutory holidays and make-up working days)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_workday(day: date) -> tuple[bool, bool]:
    """(is it a working day, is the official calendar known for that year)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:
        # the State Council publishes each year's arrangement late in the previous year
        return day.weekday() < 5, False


def add_working_days(start: date, n: int) -> tuple[date, bool]:
    """The date n working days after `start` (n=0: `start` itself); and whether every day on the
    way was covered by the official calendar."""
    day, left, known = start, n, True
    while left > 0:
        day += timedelta(days=1)
        work, official = is_workday(day)
        known &= official
        if work:
            left -= 1
    return day, known
