"""Stored types the engine does not write, as a hand-made column has them (`DECIMAL(4,2)`, `UBIGINT`,
`MAP(VARCHAR, INTEGER)`, `UUID`, ...): which values each takes as they are. A column of such a type is never
altered; a value it does not take goes to `<name>__v_json` like any other that does not fit."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from ingestor.names import validate_type
from ingestor.schema.kinds import FLOAT_EXACT, Kind


@dataclass(frozen=True)
class Native:
    """A type whose values the engine cannot check (UUID, TIME, BLOB, ...): it takes none."""

    name: str  # as the warehouse spells it (DDL may repeat it: validated)
    kind: ClassVar[Kind] = Kind.STRING  # the nearest kind (the type's values never take the fast path)

    def __post_init__(self) -> None:
        validate_type(self.name)

    def takes(self, value: Any) -> bool:
        """Whether the warehouse stores `value` (a JSON value, not null) in this type exactly as it is."""
        return False


@dataclass(frozen=True)
class Integers(Native):
    """An integer type of a range: INTEGER, UBIGINT, HUGEINT, ..."""

    low: int
    high: int
    kind: ClassVar[Kind] = Kind.INT64

    def takes(self, value: Any) -> bool:
        return type(value) is int and self.low <= value <= self.high


@dataclass(frozen=True)
class Decimals(Native):
    """DECIMAL(precision, scale), NUMERIC: a number whose digits it holds, read as the warehouse reads it
    (DuckDB through a FLOAT64: it must round back to the number's shortest text)."""

    precision: int
    scale: int
    kind: ClassVar[Kind] = Kind.FLOAT64

    def takes(self, value: Any) -> bool:
        limit: int = 10 ** (self.precision - self.scale)
        if type(value) is int:
            return abs(value) < limit
        if type(value) is not float:
            return False
        text = Decimal(repr(value))  # the number as its JSON text says it (finite: the reader refuses NaN)
        exponent = text.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -self.scale or abs(text) >= limit:
            return False
        return abs(Decimal(value) - text) < Decimal(5).scaleb(-self.scale - 1)


@dataclass(frozen=True)
class Floats(Native):
    """A binary floating-point type: DOUBLE (as a map's values), FLOAT (single precision)."""

    single: bool
    kind: ClassVar[Kind] = Kind.FLOAT64

    def takes(self, value: Any) -> bool:
        if type(value) is int:
            return abs(value) <= (2**24 if self.single else FLOAT_EXACT)
        if type(value) is not float:
            return False
        if not self.single:
            return True
        try:
            single: float = struct.unpack("f", struct.pack("f", value))[0]
        except OverflowError:
            return False
        return single == value


@dataclass(frozen=True)
class Scalars(Native):
    """A type that takes the values of some JSON types as they are (VARCHAR: strings; BOOLEAN: booleans)."""

    types: frozenset[type]

    def takes(self, value: Any) -> bool:
        return type(value) in self.types


@dataclass(frozen=True)
class Map(Native):
    """MAP(VARCHAR, V): an object whose values V takes (nulls too)."""

    values: Native

    def takes(self, value: Any) -> bool:
        return type(value) is dict and all(item is None or self.values.takes(item) for item in value.values())


def takes(native: Native, value: Any, repeated: bool) -> bool:
    """Whether a column of `native` (an array of it when `repeated`) stores `value` exactly as it is."""
    if not repeated:
        return native.takes(value)
    return type(value) is list and all(item is not None and native.takes(item) for item in value)
