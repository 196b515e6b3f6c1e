"""The demo user: one random stream, the mixins' data types, and every record of one type over some days."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from ingestor_garmin.demo.activities import Activities
from ingestor_garmin.demo.activity_payloads import ActivityPayloads
from ingestor_garmin.demo.body import Body
from ingestor_garmin.demo.day import LAST_DAY, Day, Record
from ingestor_garmin.demo.nights import Nights
from ingestor_garmin.demo.snapshots import Snapshots
from ingestor_garmin.demo.summaries import Summaries
from ingestor_garmin.demo.training import Training
from ingestor_garmin.demo.wellness import Wellness


class DemoUser(Activities, ActivityPayloads, Nights, Wellness, Body, Summaries, Training, Snapshots):
    """Generates one user's records, type by type, from one random stream."""

    def __init__(self, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.days = [Day(LAST_DAY - timedelta(days=days - 1 - i)) for i in range(days)]
        self.rhr = 48
        self.vo2 = 47.0
        self.mass = 72000.0
        self.activities: dict[str, list[Record]] = {}
        for index, day in enumerate(self.days):
            self.activities[day.iso] = self._activities(index, day, last=index == len(self.days) - 1)
        self.weigh_ins = self._weigh_ins()

    def records(self, name: str, days: list[Day]) -> list[Record]:
        """Every record of data type `name` for a run of consecutive days."""
        if name in {"endurance_score", "hill_score"}:
            return [getattr(self, name)(days)]
        if name == "activities":
            return [{**a, "data_type": "activities"} for d in days for a in self.activities[d.iso]]
        if name.startswith("activity_"):
            method: Callable[[Record], Record | None] = getattr(self, name)
            found = (method(a) for d in days for a in self.activities[d.iso])
            return [r for r in found if r is not None]
        out: list[Record] = []
        for day in days:
            produced = getattr(self, name)(day)
            out.extend([produced] if isinstance(produced, dict) else produced)
        return out
