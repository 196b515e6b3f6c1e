"""DuckDB's dialect: quoting, the type map both ways, and which of its errors refuse the rows themselves."""

from __future__ import annotations

from typing import cast

import duckdb
from duckdb.sqltypes import DuckDBPyType

from ingestor.names import quote
from ingestor.schema import INT64_MAX, INT64_MIN, Column, Decimals, Floats, Integers, Kind, Map, Native, Scalars, Struct
from ingestor.warehouse.dialect import Dialect

DIALECT = Dialect(
    quote=quote,
    types={
        Kind.STRING: "VARCHAR",
        Kind.INT64: "BIGINT",
        Kind.FLOAT64: "DOUBLE",
        Kind.BOOL: "BOOLEAN",
        Kind.TIMESTAMP: "TIMESTAMPTZ",
        Kind.DATE: "DATE",
        Kind.JSON: "JSON",
    },
    aliases={
        "timestamp with time zone": Kind.TIMESTAMP,
        "timestamp": Kind.TIMESTAMP,  # naive: the UTC text staged for TIMESTAMPTZ casts to it as is
    },
    struct="STRUCT({})",
    array="{}[]",
    parameter="${}",
    safe_cast="TRY_CAST({} AS {})",
    items="UNNEST({}) AS _items(_item)",
    row_hash="hash({})",
)
DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.BinderException,
    duckdb.ConstraintException,
)  # (out of memory is not: the batch is split, and a file that cannot fit alone stays in landing, failed)


# Integer types the engine does not write (it writes BIGINT), by their ranges.
_INTEGERS = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "utinyint": (0, 2**8 - 1),
    "usmallint": (0, 2**16 - 1),
    "uinteger": (0, 2**32 - 1),
    "ubigint": (0, 2**64 - 1),
    "hugeint": (-(2**127), 2**127 - 1),
    "uhugeint": (0, 2**128 - 1),
}


def column_of(name: str, dtype: DuckDBPyType) -> Column:
    """The column of a stored DuckDB type (a type the engine does not write is a `Native` one)."""
    type_id = dtype.id
    if type_id == "list":
        inner = column_of(name, cast(DuckDBPyType, dtype.children[0][1]))
        inner.set_type(inner.kind, True, inner.fields)
        return inner
    if type_id == "struct":
        fields = Struct()
        for child_name, child_type in dtype.children:
            fields.add(column_of(str(child_name), cast(DuckDBPyType, child_type)))
        return Column(name, Kind.STRUCT, fields=fields)
    if str(dtype) == "JSON":
        return Column(name, Kind.JSON)
    kind = DIALECT.kind_of(type_id)
    if kind is not None:
        return Column(name, kind)
    native = native_of(dtype)
    return Column(name, native.kind, native=native)


def native_of(dtype: DuckDBPyType) -> Native:
    """What a DuckDB type the engine does not write takes: the integers of its range, the decimals of its
    precision, single-precision floats, maps of text keys whose values it can check; else nothing."""
    type_id, spelled = dtype.id, str(dtype)
    if type_id in _INTEGERS:
        return Integers(spelled, *_INTEGERS[type_id])
    if type_id == "decimal":
        params = {key: cast(int, value) for key, value in dtype.children}
        return Decimals(spelled, params["precision"], params["scale"])
    if type_id == "float":
        return Floats(spelled, single=True)
    if type_id == "map":
        key, value = (cast(DuckDBPyType, t) for _, t in dtype.children)
        values = _map_values(value)
        if key.id == "varchar" and str(key) != "JSON" and values is not None:
            return Map(spelled, values)
    return Native(spelled)


def _map_values(dtype: DuckDBPyType) -> Native | None:
    """What a map's values take (None: values the engine cannot check)."""
    if str(dtype) == "JSON":
        return None
    standard = {
        "bigint": Integers("BIGINT", INT64_MIN, INT64_MAX),
        "double": Floats("DOUBLE", single=False),
        "varchar": Scalars("VARCHAR", frozenset({str})),
        "boolean": Scalars("BOOLEAN", frozenset({bool})),
    }
    if dtype.id in standard:
        return standard[dtype.id]
    return native_of(dtype) if dtype.id in {*_INTEGERS, "decimal", "float"} else None
