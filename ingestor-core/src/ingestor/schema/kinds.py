"""The kinds of column (named as in BigQuery) and the integer bounds the type policy goes by."""

from __future__ import annotations

from enum import StrEnum

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_EXACT = 2**53  # integers up to this magnitude are exact in FLOAT64; beyond it a FLOAT64 may change them


class Kind(StrEnum):
    """A column type, named as in BigQuery."""

    STRING = "STRING"
    INT64 = "INT64"
    FLOAT64 = "FLOAT64"
    BOOL = "BOOL"
    TIMESTAMP = "TIMESTAMP"
    DATE = "DATE"
    JSON = "JSON"
    STRUCT = "STRUCT"
