"""The demo landing zone's files: a backfill of the first third of the days, then one file per day and type."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta

import orjson

from ingestor_garmin.demo.day import Record
from ingestor_garmin.demo.user import DemoUser
from ingestor_garmin.types import DATA_TYPES

GZIPPED = {"heart_rate"}  # written as .jsonl.gz, as the fetchers may


def _ndjson(records: list[Record]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def demo_landing(days: int = 21, seed: int = 7) -> dict[str, bytes]:
    """`{object name: NDJSON bytes}` under `garmin/landing/` for every data type over `days` days."""
    if days < 1:
        return {}
    user = DemoUser(days, seed)
    backfill = user.days[: days // 3] if days >= 3 else []
    files: dict[str, bytes] = {}
    names = [dt.name for dt in DATA_TYPES]
    if backfill:
        span = f"{backfill[0].day:%Y_%m_%d}_to_{backfill[-1].day:%Y_%m_%d}"
        for name in names:
            records = user.records(name, backfill)
            if records:
                files[f"garmin/landing/historical/{span}_HISTORICAL_garmin_{name}.jsonl"] = _ndjson(records)
    for day in user.days[len(backfill) :]:
        fetched = datetime.combine(day.day + timedelta(days=1), datetime.min.time()) + timedelta(hours=6, minutes=15)
        for name in names:
            window = user.days[max(0, user.days.index(day) - 6) : user.days.index(day) + 1]
            records = user.records(name, window if name in {"endurance_score", "hill_score"} else [day])
            if not records:
                continue
            stem = f"garmin/landing/{fetched:%Y_%m_%d_%H_%M}_garmin_{name}"
            if name in GZIPPED:
                files[f"{stem}.jsonl.gz"] = gzip.compress(_ndjson(records), mtime=0)
            else:
                files[f"{stem}.jsonl"] = _ndjson(records)
    return files
