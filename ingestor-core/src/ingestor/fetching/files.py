"""Landing file names and create-only writes, and the digests snapshot bookmarks keep."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson

from ingestor.fetching.request import FetchError
from ingestor.landing import Landing

Precision = Literal["microsecond", "second"]
"""How precise a landing file name's timestamp is (a fetcher writing at most one file a second may use seconds)."""


def file_timestamp(moment: datetime, precision: Precision = "microsecond") -> str:
    """`YYYY_MM_DD_HH_MM_SS_ffffff` in UTC (sorts like time; two runs never share one), or
    `YYYY_MM_DD_HH_MM_SS` for an ingest side that only accepts seconds."""
    return moment.astimezone(UTC).strftime("%Y_%m_%d_%H_%M_%S" + ("_%f" if precision == "microsecond" else ""))


def ndjson(records: Iterable[Mapping[str, Any]]) -> bytes:
    """One JSON object per line, UTF-8."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def digest(value: Any) -> str:
    """A stable sha256 of a JSON value (what snapshot bookmarks remember)."""
    return "sha256:" + hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_landing_file(
    landing: Landing, service: str, suffix: str, data: bytes, moment: datetime, precision: Precision = "microsecond"
) -> str:
    """Create `{service}/landing/{timestamp}_{suffix}.jsonl`, never replacing an object: when the
    name is taken, the timestamp moves on by one unit (the suffix, which the ingester matches,
    stays as it is). Returns the object name."""
    step = timedelta(microseconds=1) if precision == "microsecond" else timedelta(seconds=1)
    for _ in range(1000):
        name = f"{service}/landing/{file_timestamp(moment, precision)}_{suffix}.jsonl"
        if landing.write(name, data, create_only=True):
            return name
        moment += step
    raise FetchError(f"no free landing file name for {suffix!r}")
