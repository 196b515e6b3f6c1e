"""What a warehouse does for `ingestor rebuild`: read a data type's ledger entries and its table's rows per source
file, and replace the table with one built again, with the ledger rewritten to match, in one atomic step.

The replacement (`Rebuilds.rebuild`) is atomic: the table's rows and the rebuilt files' ledger entries change
together, a reader sees the old table or the new one (never none, never a half-filled one), and views over it keep
working (they name it). On DuckDB a work table with the new schema, filled with the staged rows and the carried-over
ones, takes the table's name in one transaction (`duckdb/rebuild.py`); on BigQuery, which has no DDL in
transactions, the rebuilt files' rows are replaced in place by DML in one transaction (`bigquery/rebuild.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ingestor.catalog import DataType
from ingestor.names import validate_identifier
from ingestor.run.ledger import LEDGER_TABLE, LedgerEntry
from ingestor.schema import Struct
from ingestor.staging.staged import StagedFile

if TYPE_CHECKING:
    from ingestor.warehouse.sql import SQLWarehouse


@dataclass
class RebuildRequest:
    """Replace `dataset.table` with a table of `schema` holding the staged files' rows and the live rows whose
    source file column is not in `rebuilt`; replace the ledger entries of the names `replaced` by the files'."""

    data_type: DataType
    dataset: str
    table: str
    schema: Struct
    files: list[StagedFile]  # the staged archived files, each with its new ledger entry
    rebuilt: set[str]  # source file column values whose live rows are replaced
    replaced: set[str]  # landing names whose ledger entries (of this data type) are replaced
    backup: str | None  # the name the live table is kept under; None: dropped
    run_id: str

    @property
    def work(self) -> str:
        """The work table's name."""
        return validate_identifier(f"{self.table}__rebuild", "table")


@runtime_checkable
class Rebuilds(Protocol):
    """A warehouse that can rebuild a table (both backends)."""

    keeps_columns: bool  # the rebuilt table keeps the live table's columns and types (grows only): BigQuery

    def ledger_entries(self, dataset: str, service: str, data_type: str) -> list[LedgerEntry]:
        """Every ledger entry of a data type; none when the ledger does not exist."""
        ...

    def source_counts(self, dataset: str, table: str, column: str) -> dict[str | None, int]:
        """The table's rows per value of its source file column (None: rows without one); none when the table
        does not exist."""
        ...

    def rebuild(self, request: RebuildRequest) -> int:
        """Replace the table and its ledger entries atomically (see the module); the rows it holds now."""
        ...


# -- the reads of a rebuild, alike on every SQL warehouse (each backend's methods call these) ---------------------
def ledger_entries(warehouse: SQLWarehouse, dataset: str, service: str, data_type: str) -> list[LedgerEntry]:
    """Every ledger entry of a data type; none when the ledger does not exist."""
    with warehouse._reading():
        if not warehouse._exists(validate_identifier(dataset), LEDGER_TABLE):
            return []
        p = warehouse.dialect.parameter.format
        where = f" WHERE service = {p('service')} AND data_type = {p('data_type')}"
        query = warehouse._ledger_query(dataset) + where
        rows = warehouse._select(query, {"service": service, "data_type": data_type})
    return [LedgerEntry(**row) for row in rows]


def source_counts(warehouse: SQLWarehouse, dataset: str, table: str, column: str) -> dict[str | None, int]:
    """Rows per source file value (one GROUP BY); none when the table does not exist; all under None when it lacks
    the column."""
    with warehouse._reading():
        stored = warehouse._stored_columns(validate_identifier(dataset), validate_identifier(table))
        if stored is None:
            return {}
        source = warehouse.dialect.table(dataset, table)
        if not any(c.name.lower() == column.lower() for c in stored):
            rows = warehouse._select(f"SELECT COUNT(*) AS n FROM {source}", {})  # noqa: S608
            return {None: int(rows[0]["n"])} if rows[0]["n"] else {}
        q = warehouse.dialect.quote
        sql = f"SELECT {q(column)} AS v, COUNT(*) AS n FROM {source} GROUP BY 1"  # noqa: S608
        found: list[dict[str, Any]] = warehouse._select(sql, {})
    return {row["v"]: int(row["n"]) for row in found}
