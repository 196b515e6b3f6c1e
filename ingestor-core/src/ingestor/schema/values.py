"""JSON values as columns take them: their kind, and the normalized text of strings and hinted types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import orjson

from ingestor.schema.types import FLOAT_EXACT, INT64_MAX, INT64_MIN, Column, Kind

_SCALAR_KINDS = {str: Kind.STRING, bool: Kind.BOOL, int: Kind.INT64, float: Kind.FLOAT64}


def as_text(value: Any) -> str:
    """A JSON value as the text a STRING column of an existing table takes (no value is lost)."""
    return value if type(value) is str else orjson.dumps(value).decode()


def inserted_at(moment: datetime, column: Column | None) -> str:
    """The run's start as the inserted-at column takes it: ISO-8601 with its offset; in a STRING
    column of an existing table (the seed system's), naive UTC ISO-8601, as that system wrote it."""
    if column is not None and column.stored and column.kind is Kind.STRING:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return moment.isoformat()


def parse_timestamp(value: str) -> str:
    """An ISO-8601 string as a UTC timestamp string; naive values are taken as UTC. ValueError (quoting
    the value as given) when it is not one, or is out of range in UTC (`0001-01-01T00:00:00+14:00`)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC).isoformat()
    except (ValueError, OverflowError) as error:
        why = "out of range" if isinstance(error, OverflowError) else "invalid"
        raise ValueError(f"{why} timestamp {value!r}") from None


def parse_date(value: str) -> str:
    """An ISO-8601 date string, validated (ValueError quoting the value as given)."""
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"invalid date {value!r}") from None


PARSERS = {Kind.TIMESTAMP: parse_timestamp, Kind.DATE: parse_date}  # hinted kinds whose strings are parsed


def beyond_float(value: Any) -> bool:
    """Whether `value` is an integer a FLOAT64 may not hold exactly (beyond 2^53)."""
    return type(value) is int and not -FLOAT_EXACT <= value <= FLOAT_EXACT


def value_kind(value: Any) -> tuple[Kind, bool] | None:
    """The (kind, repeated) of a JSON value; None when it carries no type (null, {}, []). An array mixing
    floats with integers beyond 2^53 is JSON (as FLOAT64 those integers would change)."""
    kind = _SCALAR_KINDS.get(type(value))
    if kind is not None:
        if kind is Kind.INT64 and not INT64_MIN <= value <= INT64_MAX:
            return Kind.JSON, False
        return kind, False
    if type(value) is dict:
        return (Kind.STRUCT, False) if value else None
    if type(value) is list:
        element_kind: Kind | None = None
        large = False
        for item in value:
            if item is None or type(item) is list:
                return Kind.JSON, False
            found = value_kind(item)
            if found is None:
                continue
            k = found[0]
            large = large or beyond_float(item)
            if element_kind is None or element_kind is k:
                element_kind = k
            elif {element_kind, k} == {Kind.INT64, Kind.FLOAT64}:
                element_kind = Kind.FLOAT64
            else:
                return Kind.JSON, False
        if large and element_kind is Kind.FLOAT64:
            return Kind.JSON, False
        return (element_kind, True) if element_kind is not None else None
    return None
