"""BigQuery's dialect and type map, and its DDL: a new table with the data type's partitioning and
clustering, an existing one evolved: top-level columns by ALTER TABLE, nested fields by a schema patch.
The emulator ignores schema patches for stored data and does not update its metadata after DDL: there the
nested additions are applied with `ALTER COLUMN SET DATA TYPE STRUCT<...>` and the metadata re-synced."""

from __future__ import annotations

import logging
from typing import Any

from google.cloud import bigquery

from ingestor.names import validate_identifier
from ingestor.schema import Column, Decimals, Kind, Native, Struct
from ingestor.warehouse import LoadRequest, WarehouseUnavailable
from ingestor.warehouse.bigquery.client import Api
from ingestor.warehouse.dialect import Dialect, storable
from ingestor.warehouse.sql import touched

log = logging.getLogger("ingestor.warehouse.bigquery")

DIALECT = Dialect(
    quote=lambda name: f"`{validate_identifier(name)}`",
    types={
        Kind.STRING: "STRING",
        Kind.INT64: "INT64",
        Kind.FLOAT64: "FLOAT64",
        Kind.BOOL: "BOOL",
        Kind.TIMESTAMP: "TIMESTAMP",
        Kind.DATE: "DATE",
        Kind.JSON: "JSON",
        Kind.STRUCT: "RECORD",  # a schema field's type (DDL spells out STRUCT<...>)
    },
    aliases={
        "INTEGER": Kind.INT64,
        "FLOAT": Kind.FLOAT64,
        "BOOLEAN": Kind.BOOL,
        "STRUCT": Kind.STRUCT,
    },
    struct="STRUCT<{}>",
    array="ARRAY<{}>",
    parameter="@{}",
    safe_cast="SAFE_CAST({} AS {})",
    items="UNNEST({}) AS _item",
    row_hash="FARM_FINGERPRINT(TO_JSON_STRING({}))",
)
_CLUSTERABLE = {Kind.STRING, Kind.INT64, Kind.BOOL, Kind.TIMESTAMP, Kind.DATE}
_DECIMALS = {"NUMERIC": (38, 9), "BIGNUMERIC": (76, 38)}  # default (precision, scale); BIGNUMERIC's is 76.76


def field_of(col: Column) -> bigquery.SchemaField:
    """The BigQuery field of a column."""
    mode = "REPEATED" if col.repeated else "NULLABLE"
    if col.native is not None:  # the table's own type (`NUMERIC(10, 2)`: NUMERIC of precision 10, scale 2)
        native = col.native
        field_type = native.name.split("(")[0]
        if isinstance(native, Decimals) and field_type != native.name:
            return bigquery.SchemaField(col.name, field_type, mode=mode, precision=native.precision, scale=native.scale)
        return bigquery.SchemaField(col.name, field_type, mode=mode)
    fields = [field_of(c) for c in storable(col.fields)] if col.kind is Kind.STRUCT and col.fields else []
    return bigquery.SchemaField(col.name, DIALECT.types[col.kind], mode=mode, fields=fields)


def fields_of(columns: list[Column]) -> list[bigquery.SchemaField]:
    """The BigQuery fields of columns."""
    return [field_of(c) for c in columns]


def column_of(field: bigquery.SchemaField) -> Column:
    """The column of a BigQuery field (a type the engine does not write is a `Native` one)."""
    repeated = field.mode == "REPEATED"
    kind = DIALECT.kind_of(field.field_type)
    if kind is None:
        native = native_of(field)
        return Column(field.name, native.kind, repeated=repeated, native=native)
    fields = None
    if kind is Kind.STRUCT:
        fields = Struct()
        for sub in field.fields:
            fields.add(column_of(sub))
    return Column(field.name, kind, repeated=repeated, fields=fields)


def native_of(field: bigquery.SchemaField) -> Native:
    """What a BigQuery type the engine does not write takes: NUMERIC and BIGNUMERIC the decimals of their
    precision and scale; any other (DATETIME, TIME, BYTES, GEOGRAPHY, INTERVAL, ...) nothing."""
    field_type = field.field_type.upper()
    if field_type not in _DECIMALS:
        return Native(field_type)
    if field.precision is None:
        return Decimals(field_type, *_DECIMALS[field_type])
    scale = field.scale or 0
    return Decimals(f"{field_type}({field.precision}, {scale})", int(field.precision), int(scale))


def _merged(existing: list[dict[str, Any]], struct: Struct) -> list[dict[str, Any]]:
    """The table's fields (API form, descriptions kept) with the struct's new fields and widenings."""
    out = []
    seen = set()
    for field in existing:
        field = dict(field)
        col = struct.get(field["name"])
        seen.add(field["name"].lower())
        if col is not None:
            if col.stored_kind is not None and col.kind is Kind.FLOAT64:
                field["type"] = "FLOAT"
            if col.fields is not None and field.get("fields") is not None:
                field["fields"] = _merged(field["fields"], col.fields)
        out.append(field)
    out.extend(field_of(c).to_api_repr() for c in storable(struct) if c.name.lower() not in seen)
    return out


def create_table(api: Api, request: LoadRequest) -> None:
    """The request's table, with the data type's time partitioning and clustering."""
    table = bigquery.Table(api.ref(request.dataset, request.table), schema=fields_of(storable(request.schema)))
    dt = request.data_type
    if dt.partition_by:
        col = request.schema.get(dt.partition_by)
        if col is not None and col.kind in (Kind.TIMESTAMP, Kind.DATE) and not col.repeated:
            table.time_partitioning = bigquery.TimePartitioning(field=col.name)
        else:
            log.warning("%s: cannot partition by %s (no such TIMESTAMP/DATE column)", dt.key, dt.partition_by)
    cluster = [
        c.name
        for name in dt.cluster_by
        if (c := request.schema.get(name)) is not None and c.kind in _CLUSTERABLE and not c.repeated
    ][:4]
    if cluster:
        table.clustering_fields = cluster
    api.create_table(table)


def evolve(api: Api, request: LoadRequest, emulator: bool) -> None:
    """Apply `request.changes`: ADD COLUMN / SET DATA TYPE for top-level, a schema patch for nested."""
    target = DIALECT.table(request.dataset, request.table)
    reached = touched(request)
    for col, inside in reached:
        if inside:
            continue
        if col.stored:
            api.query(
                f"ALTER TABLE {target} ALTER COLUMN {DIALECT.quote(col.name)} SET DATA TYPE {DIALECT.type_of(col)}"
            )
        else:
            api.query(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {DIALECT.quote(col.name)} {DIALECT.type_of(col)}")
    nested = [col for col, inside in reached if inside]
    if not nested and not emulator:
        return
    fresh = api.get_table(request.dataset, request.table)
    if fresh is None:
        raise WarehouseUnavailable(f"table {target} disappeared while its schema was changed")
    merged = _merged([f.to_api_repr() for f in fresh.schema], request.schema)
    fresh.schema = [bigquery.SchemaField.from_api_repr(f) for f in merged]
    api.update_table(fresh, ["schema"])
    if emulator:  # the emulator's stored columns ignore schema patches (the patch above re-synced its metadata)
        for col in nested:
            api.query(
                f"ALTER TABLE {target} ALTER COLUMN {DIALECT.quote(col.name)} SET DATA TYPE {DIALECT.type_of(col)}"
            )
