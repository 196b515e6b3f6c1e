"""The promise both warehouses share, stated once: every load stages its rows and ledger entries,
then publishes rows, ledger and history rows in one transaction (`SQLWarehouse.load`). A load that dies or
fails at the publish leaves none of them; the same load run again publishes all of them together. DuckDB and
BigQuery (the local API server) alike, through the `before_publish` checkpoint (ingestor.run.faults)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingestor.ops.history import HISTORY_TABLE, history_schema
from ingestor.run import faults
from ingestor.run.ledger import LEDGER_TABLE
from ingestor.schema import Column, Kind
from ingestor.warehouse import LoadError
from ingestor.warehouse.bigquery import BigQueryWarehouse
from ingestor.warehouse.duckdb import DuckDBWarehouse
from ingestor.warehouse.sql import SQLWarehouse

from .test_bigquery_warehouse import PROJECT, _dataset, make_request

pytestmark = pytest.mark.timeout(300)
FILES = {"acme/landing/a.jsonl": [{"id": 1}, {"id": 2}], "acme/landing/b.jsonl": [{"id": 3}]}


class Crash(BaseException):
    """The process dies at a checkpoint (as under SIGKILL, nothing of the load's own code runs after it)."""


@pytest.fixture(params=["duckdb", "bigquery"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLWarehouse]:
    if request.param == "duckdb":
        duck = DuckDBWarehouse(tmp_path / "w.duckdb")
        yield duck
        duck.close()
    else:  # (not closed: it shares the session's client)
        yield BigQueryWarehouse(PROJECT, client=request.getfixturevalue("bq_client"), retry_wait=0)


@pytest.fixture
def checkpoints() -> Iterator[list[str]]:
    """The checkpoints reached, in order; a test may swap the handler (see `crash_at`)."""
    seen: list[str] = []
    faults.install(seen.append)
    yield seen
    faults.install(None)


def crash_at(wanted: str, seen: list[str]) -> None:
    def handler(point: str) -> None:
        seen.append(point)
        if point == wanted:
            raise Crash(point)

    faults.install(handler)


def count(wh: SQLWarehouse, dataset: str, table: str) -> int:
    """Rows of a table; 0 when it does not exist (DuckDB rolls back the table a failed load created)."""
    if not wh._exists(dataset, table):
        return 0
    return int(wh._select(f"SELECT COUNT(*) AS n FROM {wh.dialect.table(dataset, table)}", {})[0]["n"])


def published(wh: SQLWarehouse, dataset: str, ops: str) -> tuple[int, int, int]:
    """(rows, ledger entries, history rows) published."""
    return count(wh, dataset, "things"), count(wh, dataset, LEDGER_TABLE), count(wh, ops, HISTORY_TABLE)


def test_rows_ledger_and_history_are_published_together_or_not_at_all(
    warehouse: SQLWarehouse, tmp_path: Path, checkpoints: list[str]
) -> None:
    wh, dataset = warehouse, _dataset()
    ops = f"{dataset}_ops"

    def request() -> Any:
        return dataclasses.replace(make_request(tmp_path, wh, dataset, FILES), history_dataset=ops)

    # Dies once the rows and entries are staged: nothing is published.
    crash_at("before_publish", checkpoints)
    with pytest.raises(Crash):
        wh.load(request())
    assert checkpoints == ["before_publish"]
    assert published(wh, dataset, ops) == (0, 0, 0)

    # The publish itself fails on its history rows (a history table whose run_id cannot hold a run's id), after
    # the rows and before the ledger: the transaction publishes none of them.
    faults.install(checkpoints.append)
    history = wh.dialect.table(ops, HISTORY_TABLE)
    wh._ensure_dataset(ops)
    wh._execute(f"DROP TABLE IF EXISTS {history}")  # (BigQuery's was created before the crash: not transactional)
    wrong = history_schema()
    wrong.columns["run_id"] = Column("run_id", Kind.INT64)
    wh._ensure_table(ops, HISTORY_TABLE, wrong)
    with pytest.raises(LoadError):
        wh.load(request())
    assert checkpoints == ["before_publish", "before_publish"]
    assert published(wh, dataset, ops) == (0, 0, 0)

    # The same load, with the history table as it should be: rows, ledger and history rows all at once.
    wh._execute(f"DROP TABLE {history}")
    report = wh.load(request())
    assert report.rows == 3 and checkpoints == ["before_publish"] * 3
    assert published(wh, dataset, ops) == (3, 2, 2)
    assert sorted(wh.loaded_names(dataset, "acme", "things").items()) == [
        ("acme/landing/a.jsonl", 2),
        ("acme/landing/b.jsonl", 1),
    ]
