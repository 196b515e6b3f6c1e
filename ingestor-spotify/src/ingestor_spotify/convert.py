"""Strict conversions of API values: a boolean is a JSON boolean, 0/1 or the string
"true"/"false" (never truthiness: "false" stays False, anything else becomes NULL); timestamps
become UTC; a `release_date` of precision year (`YYYY`) or month (`YYYY-MM`) becomes the first day
of that year or month."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ingestor import parse_timestamp

_RELEASE_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def to_bool(value: Any) -> bool | None:
    """A real boolean: JSON true/false, 0/1 or the strings "true"/"false"; else None."""
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


def to_int(value: Any) -> int | None:
    """An integer (ints, integral floats, digit strings); else None."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value)
    return None


def to_str(value: Any) -> str | None:
    """A string (numbers are written out); else None."""
    if isinstance(value, str):
        return value
    if type(value) in (int, float):
        return str(value)
    return None


def to_timestamp(value: Any) -> str | None:
    """An ISO-8601 timestamp as a UTC ISO string (naive values are UTC); else None."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def release_date(value: Any) -> tuple[str | None, str | None]:
    """(first day as YYYY-MM-DD, precision "year"/"month"/"day") of a Spotify `release_date`.

    The precision is read from the value itself, so it always describes the date column.
    Values that are no real date (Spotify has "0000") give (None, None).
    """
    found = _RELEASE_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        return None, None
    year, month, day = found.groups()
    try:
        first_day = date(int(year), int(month or 1), int(day or 1)).isoformat()
    except ValueError:
        return None, None
    return first_day, "day" if day else "month" if month else "year"
