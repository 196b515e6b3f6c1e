"""The demo user's state, shared by the data-type mixins: one random stream and the values that drift."""

from __future__ import annotations

import random

from ingestor_garmin.demo.day import Day, Record


class UserState:
    """What every mixin of `DemoUser` reads: its draws come from `rng`, in the order the types are asked for."""

    rng: random.Random
    days: list[Day]
    rhr: int  # resting heart rate, drifts in heart_rate
    vo2: float  # VO2 max, drifts in max_metrics
    mass: float  # grams, drifts with each weigh-in
    activities: dict[str, list[Record]]  # by calendar date
    weigh_ins: dict[str, list[Record]]  # by calendar date
