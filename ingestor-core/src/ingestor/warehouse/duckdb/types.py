"""DuckDB's dialect: quoting, the type map both ways, and which of its errors refuse the rows themselves."""

from __future__ import annotations

from typing import cast

import duckdb
from duckdb.sqltypes import DuckDBPyType

from ingestor.names import quote
from ingestor.schema import Column, Kind, Struct
from ingestor.warehouse.sql import Dialect

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
        "integer": Kind.INT64,
        "smallint": Kind.INT64,
        "tinyint": Kind.INT64,
        "hugeint": Kind.INT64,
        "ubigint": Kind.INT64,
        "uinteger": Kind.INT64,
        "float": Kind.FLOAT64,
        "decimal": Kind.FLOAT64,
        "timestamp with time zone": Kind.TIMESTAMP,
        "timestamp": Kind.TIMESTAMP,
    },
    struct="STRUCT({})",
    array="{}[]",
    parameter="${}",
    safe_cast="TRY_CAST({} AS {})",
)
DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.BinderException,
    duckdb.ConstraintException,
    duckdb.OutOfMemoryException,  # split the batch to isolate what cannot fit (a very wide record)
)


def column_of(name: str, dtype: DuckDBPyType) -> Column:
    """The column of a stored DuckDB type (types the engine does not know are read as STRING)."""
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
    return Column(name, DIALECT.kind_of(type_id))
