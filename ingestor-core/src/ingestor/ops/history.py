"""The run history: one row per run and one per file outcome, in `{dataset}._ingestor_history`.

It lives in the warehouse beside the data, in one dataset per environment (`dp_ops_{env}` unless
`INGESTOR_HISTORY_DATASET` says otherwise), so `ingestor status` reads one table. Rows are only
ever appended:

- a file whose rows were loaded gets its row in the load's own transaction, derived from its ledger
  row (`from_ledger`): it survives any crash exactly as the ledger does, and a rolled-back load
  leaves none;
- every other outcome (rejected, empty, already loaded, failed) and the run's own row are appended
  at the end of the run, in one transaction (DuckDB) or one load job (BigQuery). A run stopped by
  SIGTERM or Ctrl-C records them too, for the files that settled before the stop, with a run row
  `stopped`. A run killed outright (SIGKILL) leaves its loaded files' rows and no run row; the files
  it rejected are in `rejected/` with their reason.

Dry runs write nothing. A plugin that takes over `ingest` records its loaded files the same way by
passing `context.history_dataset` in its `LoadRequest`s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ingestor.result import FileStatus, IngestResult
from ingestor.run.ledger import ledger_schema
from ingestor.schema import Column, Kind, Struct

if TYPE_CHECKING:
    from ingestor.warehouse import Warehouse

HISTORY_TABLE = "_ingestor_history"
log = logging.getLogger("ingestor.run.engine")
DEFAULT_DATASET = "dp_ops_{env}"

_COLUMNS = {
    "run_id": Kind.STRING,
    "kind": Kind.STRING,  # "run" or "file"
    "status": Kind.STRING,  # a file's FileStatus; a run's "succeeded", "failed" or "stopped" (SIGTERM, Ctrl-C)
    "service": Kind.STRING,  # a run's services, comma-separated
    "data_type": Kind.STRING,
    "object_name": Kind.STRING,
    "table_name": Kind.STRING,
    "files": Kind.INT64,
    "rows": Kind.INT64,
    "bytes": Kind.INT64,
    "reason": Kind.STRING,
    "reason_code": Kind.STRING,  # a rejected or failed file's `ReasonCode` (added to an older table when written)
    "destination": Kind.STRING,
    "run_started_at": Kind.TIMESTAMP,
    "recorded_at": Kind.TIMESTAMP,
    "seconds": Kind.FLOAT64,
}

# A loaded file's history row over its ledger row: ledger columns, or SQL both warehouses' dialects accept.
_FROM_LEDGER = {
    "run_id": "run_id",
    "kind": "'file'",
    "status": f"'{FileStatus.LOADED.value}'",
    "service": "service",
    "data_type": "data_type",
    "object_name": "source_name",
    "table_name": "table_name",
    "rows": "rows",
    "bytes": "size",
    "run_started_at": "loaded_at",
    "recorded_at": "CURRENT_TIMESTAMP",
}


def history_schema() -> Struct:
    """The history table's columns."""
    struct = Struct()
    for name, kind in _COLUMNS.items():
        struct.add(Column(name, kind))
    return struct


def from_ledger(quote: Callable[[str], str]) -> tuple[str, str]:
    """(column list, select list) that turn ledger rows into loaded files' history rows; `quote` quotes an
    identifier in the warehouse's dialect (`rows` is a reserved word in BigQuery)."""
    ledger = ledger_schema().columns
    select = ", ".join(
        f"{quote(expr) if expr in ledger else expr} AS {quote(name)}" for name, expr in _FROM_LEDGER.items()
    )
    return ", ".join(quote(name) for name in _FROM_LEDGER), select


def run_rows(result: IngestResult, recorded_at: datetime, *, stopped: bool = False) -> list[dict[str, Any]]:
    """The rows appended at the end of a run: every outcome not recorded by a load, and the run itself
    (`stopped`: ended by SIGTERM or Ctrl-C, the outcomes those that settled before)."""
    rows: list[dict[str, Any]] = [
        {
            "run_id": result.run_id,
            "kind": "file",
            "status": outcome.status.value,
            "service": outcome.service,
            "data_type": outcome.data_type,
            "object_name": outcome.path,
            "rows": outcome.rows,
            "bytes": outcome.bytes,
            "reason": outcome.reason,
            "reason_code": outcome.reason_code and outcome.reason_code.value,
            "destination": outcome.destination,
            "run_started_at": result.started_at,
            "recorded_at": recorded_at,
        }
        for outcome in result.files
        if outcome.status is not FileStatus.LOADED  # recorded in the load's transaction
    ]
    totals = result.totals
    rows.append(
        {
            "run_id": result.run_id,
            "kind": "run",
            "status": "stopped" if stopped else "succeeded" if result.success else "failed",
            "service": ",".join(result.services),
            "files": totals["files"],
            "rows": totals["rows"],
            "reason": ", ".join(f"{totals[s.value]} {s.value}" for s in FileStatus if totals[s.value]) or None,
            "run_started_at": result.started_at,
            "recorded_at": recorded_at,
            "seconds": (recorded_at - result.started_at).total_seconds(),
        }
    )
    return rows


def record_run(warehouse: Warehouse, dataset: str, result: IngestResult, stopped: bool) -> None:
    """Append the run's row and its outcomes not recorded by a load; a failure is logged and fails the run
    (`history_error`), never stops it (the files are where the result says, the loaded ones in the history already)."""
    assert result.finished_at is not None
    try:
        warehouse.append_history(dataset, run_rows(result, result.finished_at, stopped=stopped))
    except Exception as error:  # a LoadError, or any other error of the warehouse's client: the run goes on
        log.error("the run history could not be written to %s: %s", dataset, error)
        result.history_error = str(error)  # the run fails: its record is missing (a full disk, say)
