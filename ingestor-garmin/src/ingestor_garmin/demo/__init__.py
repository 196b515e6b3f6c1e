"""A deterministic demo landing zone: every Garmin data type over N days, shaped like the real payloads.

The same seed always gives the same bytes: the calendar is anchored on a fixed last day, values come
from `random.Random(seed)`, gzip headers carry no timestamp. The first third of the days arrives as a
backfill (`..._HISTORICAL_garmin_<type>.jsonl`), the rest as one fetch file per day and type.
"""

from ingestor_garmin.demo.day import LAST_DAY, LOCAL_OFFSET, SCALE_ID, USER_ID, WATCH, WATCH_ID, Record
from ingestor_garmin.demo.landing import GZIPPED, demo_landing
from ingestor_garmin.demo.user import DemoUser

__all__ = [
    "GZIPPED",
    "LAST_DAY",
    "LOCAL_OFFSET",
    "SCALE_ID",
    "USER_ID",
    "WATCH",
    "WATCH_ID",
    "DemoUser",
    "Record",
    "demo_landing",
]
