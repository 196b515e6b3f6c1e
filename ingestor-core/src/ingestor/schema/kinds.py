"""The kinds of column (named as in BigQuery) and the integer bounds the type policy goes by."""

from __future__ import annotations

from enum import StrEnum

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_EXACT = 2**53  # integers up to this magnitude are exact in FLOAT64; beyond it a FLOAT64 may change them


class Kind(StrEnum):
    """A column type, named as in BigQuery."""

    STRING = "STRING"
    """Text."""
    INT64 = "INT64"
    """A 64-bit integer (widens to FLOAT64 while no value beyond 2^53 is in it)."""
    FLOAT64 = "FLOAT64"
    """A double-precision number."""
    BOOL = "BOOL"
    """true or false."""
    TIMESTAMP = "TIMESTAMP"
    """An instant, in UTC: from an ISO-8601 string (one without offset is taken as UTC)."""
    DATE = "DATE"
    """A day: from a `YYYY-MM-DD` string."""
    JSON = "JSON"
    """Any JSON value, kept exactly as given."""
    STRUCT = "STRUCT"
    """An object, with typed fields."""
