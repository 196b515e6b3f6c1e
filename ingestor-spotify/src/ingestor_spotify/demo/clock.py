"""The demo's calendar and time formats: the fixed end, Paris local time, file stamps and ISO-8601 strings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

END = datetime(2026, 4, 5, tzinfo=UTC)


def paris(moment: datetime) -> datetime:
    """The moment in Europe/Paris time (CET/CEST, EU rule: last Sundays of March and October, 01:00 UTC)."""

    def last_sunday(month: int) -> datetime:
        day = date(moment.year, month, 31)
        return datetime(moment.year, month, day.day - (day.weekday() + 1) % 7, 1, tzinfo=UTC)

    summer = last_sunday(3) <= moment < last_sunday(10)
    return moment.astimezone(timezone(timedelta(hours=2 if summer else 1)))


def stamp(moment: datetime) -> str:
    """The moment as a landing file name's prefix, e.g. `2026_04_05_21_30`."""
    return moment.strftime("%Y_%m_%d_%H_%M")


def iso_z(moment: datetime, millis: bool = False) -> str:
    """The UTC moment as ISO 8601 with a `Z`, to the millisecond when `millis`."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"
