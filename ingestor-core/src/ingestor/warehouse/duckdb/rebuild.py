"""A rebuild's replacement on DuckDB (see `ingestor.warehouse.rebuild`): one transaction creates the work table,
fills it with the staged rows and the carried-over ones, renames the live table to its backup (or drops it), gives
the work table its name and rewrites the ledger entries. A crash anywhere before COMMIT leaves nothing of it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import duckdb

from ingestor.names import quote
from ingestor.run import faults
from ingestor.run.ledger import LEDGER_TABLE, ledger_schema
from ingestor.schema import Column, Struct
from ingestor.staging.staged import ARROW_SUFFIX
from ingestor.warehouse.dialect import storable
from ingestor.warehouse.duckdb.inserts import Inserts, scannable
from ingestor.warehouse.duckdb.types import DIALECT

if TYPE_CHECKING:
    from ingestor.warehouse.rebuild import RebuildRequest


class Connected(Protocol):
    """What a rebuild uses of `DuckDBWarehouse`."""

    con: duckdb.DuckDBPyConnection
    inserts: Inserts

    def _transaction(self) -> AbstractContextManager[None]: ...
    def _ensure_dataset(self, dataset: str) -> None: ...
    def _ensure_table(self, dataset: str, table: str, schema: Struct) -> None: ...
    def _stored_columns(self, dataset: str, table: str) -> list[Column] | None: ...


def replace(warehouse: Connected, request: RebuildRequest) -> int:
    """Replace the table and its ledger entries in one transaction; the rows it holds now (DuckDB's errors raised
    as they are, after the ROLLBACK)."""
    con, ds = warehouse.con, request.dataset
    live, work = DIALECT.table(ds, request.table), DIALECT.table(ds, request.work)
    with warehouse._transaction():
        warehouse._ensure_dataset(ds)
        warehouse._ensure_table(ds, LEDGER_TABLE, ledger_schema())
        existing = warehouse._stored_columns(ds, request.table)
        con.execute(f"DROP TABLE IF EXISTS {work}")
        con.execute(f"CREATE TABLE {work} ({DIALECT.definition(storable(request.schema))})")
        _insert_staged(warehouse, request, work)
        if existing is not None:
            _carry_over(warehouse, request, [c.name for c in existing], live, work)
        faults.checkpoint("rebuild_before_swap")  # test-only: the work table full, the live one untouched
        if existing is not None and request.backup:
            con.execute(f"ALTER TABLE {live} RENAME TO {quote(request.backup)}")
        elif existing is not None:
            con.execute(f"DROP TABLE {live}")
        con.execute(f"ALTER TABLE {work} RENAME TO {quote(request.table)}")
        _rewrite_ledger(warehouse, request)
        rows = con.execute(f"SELECT COUNT(*) FROM {live}").fetchone()  # noqa: S608
    return int(rows[0]) if rows else 0


def _insert_staged(warehouse: Connected, request: RebuildRequest, work: str) -> None:
    """The staged files' rows into the work table, as a load inserts them."""
    ndjson = [f for f in request.files if f.path.suffix != ARROW_SUFFIX]
    if ndjson:
        paths = [f.path for f in ndjson]
        warehouse.inserts.ndjson(work, storable(request.schema), paths, max(f.widest for f in ndjson))
    arrow = [f.path for f in request.files if f.path.suffix == ARROW_SUFFIX]
    if arrow:
        warehouse.inserts.arrow(work, request.schema, arrow)


def _carry_over(warehouse: Connected, request: RebuildRequest, columns: list[str], live: str, work: str) -> None:
    """The live rows whose source file is not rebuilt, into the work table (each column cast to its new type)."""
    kept = [name for name in columns if request.schema.get(name) is not None]
    names = ", ".join(quote(name) for name in kept)
    source = request.data_type.source_file_column
    with scannable(warehouse.con, [{"v": v} for v in sorted(request.rebuilt)] or [{"v": None}]) as rebuilt:
        if any(name.lower() == source.lower() for name in columns):
            column = quote(source)
            where = f"{column} IS NULL OR {column} NOT IN (SELECT v FROM {rebuilt} WHERE v IS NOT NULL)"  # noqa: S608
        else:
            where = "TRUE"
        warehouse.con.execute(f"INSERT INTO {work} ({names}) SELECT {names} FROM {live} WHERE {where}")  # noqa: S608


def _rewrite_ledger(warehouse: Connected, request: RebuildRequest) -> None:
    """The ledger entries of the replaced names (of this data type) deleted, the staged files' written."""
    con, ledger = warehouse.con, DIALECT.table(request.dataset, LEDGER_TABLE)
    dt = request.data_type
    if request.replaced:
        with scannable(con, [{"n": n} for n in sorted(request.replaced)]) as names:
            con.execute(
                f"DELETE FROM {ledger} WHERE service = $service AND data_type = $data_type "  # noqa: S608
                f"AND source_name IN (SELECT n FROM {names})",
                {"service": dt.service, "data_type": dt.name},
            )
    if request.files:
        with scannable(con, [f.entry.model_dump() for f in request.files]) as entries:
            con.execute(f"INSERT INTO {ledger} BY NAME SELECT * FROM {entries}")  # noqa: S608
