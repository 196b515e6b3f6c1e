"""Where rows go: the interface the engine talks to, and its backends."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ingestor.catalog import DataType
from ingestor.errors import IngestorError, ReasonCode, RefusedError, TransientError
from ingestor.extras import import_optional
from ingestor.run.ledger import LedgerEntry
from ingestor.schema import Column, SchemaChange, Struct
from ingestor.staging.staged import StagedFile

if TYPE_CHECKING:
    from ingestor.settings import Settings

# scheme -> ("module:class", the extra it needs); imported only when used, to keep start-up light.
BACKENDS = {
    "duckdb": ("ingestor.warehouse.duckdb:DuckDBWarehouse", ""),
    "bigquery": ("ingestor.warehouse.bigquery:BigQueryWarehouse", "gcp"),
}


class LoadError(IngestorError):
    """A load (or a read of the warehouse) that did not happen. Its kind says why: `WarehouseUnavailable` (an
    outage, a deadline: the data type's later parts are not tried), `RowsRefused` or `TooLarge` (the rows: a
    batch is split to isolate the file). A plain LoadError is a failure of the warehouse, as an outage."""

    code = ReasonCode.WAREHOUSE_UNAVAILABLE


class WarehouseUnavailable(LoadError, TransientError):
    """The warehouse failed, not the rows: down, unreachable, busy, an error of its own. Try again later."""


class WarehouseBusy(WarehouseUnavailable):
    """The warehouse is held by another process (DuckDB's file lock): nothing was done, try again later."""


class DeadlineExceeded(WarehouseUnavailable):
    """The warehouse did not answer within its deadline."""

    code = ReasonCode.DEADLINE


class RowsRefused(LoadError, RefusedError):
    """The warehouse refused the rows themselves: retrying the same rows cannot succeed."""

    code = ReasonCode.WAREHOUSE_REFUSED


class TooLarge(LoadError, RefusedError):
    """The warehouse ran out of memory: fewer files may fit (the batch is split); a file that does not fit alone
    is the environment's fault, not its own (it stays in landing)."""

    code = ReasonCode.TOO_LARGE


@dataclass
class LoadRequest:
    """One data type's batch: make the table fit `schema`, append the staged rows, record the ledger."""

    data_type: DataType
    dataset: str
    table: str
    schema: Struct
    changes: list[SchemaChange]
    files: list[StagedFile]
    run_id: str
    attempt: int = 0
    history_dataset: str | None = None  # where the loaded files' history rows go, in the same commit


@dataclass
class LoadReport:
    """What a load did."""

    rows: int
    job_ids: list[str] = field(default_factory=list)


# (dataset, table, output column -> source column, output column -> constant) per source of a view
ViewSources = list[tuple[str, str, dict[str, str], dict[str, str]]]


class Warehouse(ABC):
    """An analytical store of datasets and tables, with the ledger beside the data (the backends derive from
    `ingestor.warehouse.sql.SQLWarehouse`, which implements most of it)."""

    url: str
    read_only: bool  # opened for a dry run: nothing is written
    max_parallel_loads: int = 1  # how many data types may load at once (1: one after another)
    loads_arrow: bool = False  # whether staged files may be Arrow IPC (the columnar path) besides NDJSON

    @abstractmethod
    def table_schema(self, dataset: str, table: str) -> Struct | None:
        """The table's columns (marked stored), or None when it does not exist."""

    @abstractmethod
    def largest_integer(self, dataset: str, table: str, column: Column) -> int:
        """The largest magnitude among the integers of the table's top-level INT64 column `column` (of its items
        when it is an array; 0 when it holds none)."""

    @abstractmethod
    def loaded(self, datasets: set[str], names: list[str]) -> dict[str, list[LedgerEntry]]:
        """Ledger lookup: for each object name already loaded, its ledger rows (one per version loaded)."""

    @abstractmethod
    def load(self, request: LoadRequest) -> LoadReport:
        """All or nothing: schema changes, rows and ledger entries. Raises LoadError."""

    @abstractmethod
    def ensure_view(
        self,
        dataset: str,
        name: str,
        columns: list[str],
        sources: ViewSources,
    ) -> None:
        """Create or replace `dataset.name` as the UNION ALL of sources
        (dataset, table, output column -> source column, output column -> constant)."""

    @abstractmethod
    def ensure_latest_view(
        self, dataset: str, name: str, table: str, key: list[str], newest: list[str], replace: bool
    ) -> bool:
        """Create `dataset.name` as the newest row of `table` per `key` (newest by the `newest` columns,
        descending) if it is missing, or replace it (`replace`); whether it was written."""

    @abstractmethod
    def append_history(self, dataset: str, rows: list[dict[str, Any]]) -> None:
        """Append rows to `dataset`'s run history (see ingestor.ops.history), all or none."""

    @abstractmethod
    def read_history(self, dataset: str, query: str, since: datetime) -> list[dict[str, Any]]:
        """Rows of `query`: SQL naming the history table `{history}`, a TIMESTAMP parameter `{since}` and the
        column `{rows}` (quoted: a reserved word in BigQuery); none when the history table does not exist."""

    @abstractmethod
    def days_covered(self, dataset: str, table: str, column: str, since: date) -> dict[date, int]:
        """Records per day of `column`'s date (a DATE; a TIMESTAMP's UTC date; a STRING's leading YYYY-MM-DD)
        from `since` on, the records of earlier days counted on the day before `since` (so a caller knows the
        data began before it); none when the table or column does not exist or holds no dates."""

    @abstractmethod
    def loaded_names(self, dataset: str, service: str, data_type: str) -> dict[str, int]:
        """Rows loaded per landing object name of a data type, from `dataset`'s ledger; none when it is absent."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


def open_warehouse(url: str, settings: Settings, read_only: bool = False) -> Warehouse:
    """The warehouse backend for a URL (`duckdb:///path.duckdb`, `bigquery://project`), configured by `settings`."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    target = BACKENDS.get(scheme)
    if target is None:
        raise ValueError(f"unsupported warehouse URL {url!r}: use one of {', '.join(s + '://' for s in BACKENDS)}")
    backend = import_optional(*target, f"a {scheme}:// warehouse")
    return backend.from_url(url, settings, read_only=read_only)  # type: ignore[no-any-return]
