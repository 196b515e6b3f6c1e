"""The date a record is about (`DataType.date_column` or `date_group`), for `ingestor status`: the days a data
type's records cover over a window, and the days missing from it (a missed fetch, a watch not synced).

A date column is read in the warehouse (`Warehouse.days_covered`); a date group from the names of the files the
ledger holds (`Warehouse.loaded_names`). A day is missing when it lies in the window, up to yesterday (today may
not be fetched yet) and no earlier than the first day covered, and no record is about it. Only data types
expected at least daily (`expected_every` of 36 hours or less) are checked: a weekly type has days without data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ingestor.catalog import CADENCES, DataType, expectation, split_extension
from ingestor.warehouse import Warehouse

_DATE = re.compile(r"(\d{4})[-_]?(\d{2})[-_]?(\d{2})")


def day_of(text: str | None) -> date | None:
    """The date `text` starts with (`YYYY-MM-DD`, `YYYY_MM_DD` or `YYYYMMDD`), or None."""
    found = _DATE.match(text or "")
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups()))
    except ValueError:  # 2025_02_30
        return None


def date_source(dt: DataType) -> str | None:
    """Where the days of a data type checked daily come from (`column date`, `file name group day`), else None."""
    if dt.expected_every is None or expectation(dt.expected_every) > CADENCES["daily"]:
        return None
    if dt.date_column:
        return f"column {dt.date_column}"
    return f"file name group {dt.date_group}" if dt.date_group else None


@dataclass(frozen=True)
class Days:
    """The days of a data type over a window."""

    covered: dict[date, int]  # records per day they are about, in the window, sorted
    missing: list[date]  # days of the window, from the first covered up to yesterday, without a record


def days_of(dt: DataType, env: str, warehouse: Warehouse, start: date, today: date) -> Days:
    """The days covered and missing of a data type that declares a date, over `start`..`today`."""
    counts = _counts(dt, env, warehouse, start)
    covered = {day: counts[day] for day in sorted(counts) if start <= day <= today}
    first = min(counts, default=None)
    if first is None:
        return Days(covered, [])
    span = (today - max(first, start)).days
    window = (max(first, start) + timedelta(days=n) for n in range(span))  # up to yesterday
    return Days(covered, [day for day in window if day not in covered])


def _counts(dt: DataType, env: str, warehouse: Warehouse, since: date) -> dict[date, int]:
    """Records per day from `since` on (earlier ones on days before it)."""
    dataset = dt.dataset_for(env)
    if dt.date_column:
        return warehouse.days_covered(dataset, dt.table_for(env), dt.date_column, since)
    counts: dict[date, int] = {}
    for name, rows in warehouse.loaded_names(dataset, dt.service, dt.name).items():
        day = _named_day(dt, name)
        if day is not None and rows:
            counts[day] = counts.get(day, 0) + rows
    return counts


def _named_day(dt: DataType, name: str) -> date | None:
    """The date in a landing object's name, from the data type's date group."""
    split = split_extension(name.rsplit("/", 1)[-1])
    attributes = dt.match(split[0]) if split else None
    return day_of(attributes.get(dt.date_group or "")) if attributes else None
