"""The demo's calendar and ids: a fixed last day, one Day's GMT/local bounds, Garmin's timestamp formats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

Record = dict[str, Any]
LAST_DAY = date(2025, 12, 31)
LOCAL_OFFSET = timedelta(hours=1)  # Europe/Paris in winter
USER_ID = 90000001
WATCH_ID = 3400000001
SCALE_ID = 3400000002
WATCH = "fenix 7X Pro Sapphire Solar"


def iso_time(moment: datetime) -> str:
    """Garmin's timestamp text: `2025-12-31T07:00:00.0`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0")


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the naive moment read as UTC."""
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


class Day:
    """One calendar day of the demo user: GMT/local bounds and helpers."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.iso = day.isoformat()
        self.local_start = datetime(day.year, day.month, day.day)
        self.gmt_start = self.local_start - LOCAL_OFFSET
        self.gmt_end = self.gmt_start + timedelta(days=1)

    def gmt(self, minutes: float) -> datetime:
        return self.gmt_start + timedelta(minutes=minutes)

    def bounds(self) -> Record:
        return {
            "startTimestampGMT": iso_time(self.gmt_start),
            "endTimestampGMT": iso_time(self.gmt_end),
            "startTimestampLocal": iso_time(self.local_start),
            "endTimestampLocal": iso_time(self.local_start + timedelta(days=1)),
        }

    def sleep_window(self) -> tuple[datetime, datetime]:
        """Last night's sleep (GMT): from about 23:00 local the day before to about 07:00."""
        return self.gmt(-60), self.gmt(7 * 60)
