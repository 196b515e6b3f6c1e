"""The run's steps seen from outside: outcomes in scan order whatever the load threads do, and each
table's live schema read once per run. The engine runs in-process (`engine.run`) with the real local
landing zone and the real DuckDB warehouse, seen through a wrapper."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from ingestor.plugins import load_plugins
from ingestor.result import FileOutcome, IngestResult
from ingestor.run import engine
from ingestor.run.tables import LiveSchemas
from ingestor.testing import Harness
from ingestor.warehouse import LoadReport, LoadRequest, Warehouse

from .conftest import AcmePlugin, OpenContext

LANDED = [  # (name below acme/landing/, records), in name order within each data type
    ("2025_01_01_00_00_acme_events.jsonl", [{"id": 1}]),
    ("2025_01_02_00_00_acme_events.jsonl", [{"id": 2}]),
    ("2025_01_01_00_00_acme_bob_profile.jsonl", [{"seen": "2025-01-01T00:00:00Z"}]),
    ("2025_01_02_00_00_acme_eve_profile.jsonl", [{"seen": "2025-01-02T00:00:00Z"}]),
    ("2025_01_01_00_00_acme_bob_player_profile.jsonl", [{"rating": 1200}]),
    ("a_stray_file.jsonl", [{"x": 1}]),
    ("z_stray_file.txt", [{"x": 2}]),
]
SCAN_ORDER = [  # the files no data type takes, then each data type's (catalog order), each in name order
    "a_stray_file.jsonl",
    "z_stray_file.txt",
    "2025_01_01_00_00_acme_events.jsonl",
    "2025_01_02_00_00_acme_events.jsonl",
    "2025_01_01_00_00_acme_bob_profile.jsonl",
    "2025_01_02_00_00_acme_eve_profile.jsonl",
    "2025_01_01_00_00_acme_bob_player_profile.jsonl",
]


class Wrapped:
    """The real warehouse, every attribute passed through unless a subclass says otherwise."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class ReverseLoads(Wrapped):
    """A test double for parallel loads. DuckDB loads one data type at a time (`max_parallel_loads` 1), and
    BigQuery's loads finish in whatever order the service likes, so neither can show deterministically that
    the result's order does not follow the load threads'. This double claims 3 parallel loads and holds each
    data type's load until the loads of the data types after it (in catalog order) have finished: they
    finish in reverse order. The loads themselves are the real DuckDB ones (one at a time, by construction)."""

    max_parallel_loads = 3

    def __init__(self, inner: Warehouse, tables: list[str]) -> None:
        super().__init__(inner)
        self.tables = tables  # in catalog order
        self.finished = {table: threading.Event() for table in tables}

    def load(self, request: LoadRequest) -> LoadReport:
        for later in self.tables[self.tables.index(request.table) + 1 :]:
            assert self.finished[later].wait(timeout=30), f"{later} never finished"
        try:
            return self.inner.load(request)  # type: ignore[no-any-return]
        finally:
            self.finished[request.table].set()


class CountingSchemas(Wrapped):
    """A spy: how often the run asked the warehouse for each table's schema."""

    def __init__(self, inner: Warehouse) -> None:
        super().__init__(inner)
        self.reads: Counter[str] = Counter()

    def table_schema(self, dataset: str, table: str) -> Any:
        self.reads[f"{dataset}.{table}"] += 1
        return self.inner.table_schema(dataset, table)


def _land(root: Path) -> None:
    for name, records in LANDED:
        path = root / "acme" / "landing" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def _run(tmp_path: Path, wrap: Any, run_context: OpenContext) -> tuple[IngestResult, list[FileOutcome], Any]:
    """One in-process run of service `acme` on a fresh landing folder and DuckDB file, through `wrap`."""
    root = tmp_path / "landing"
    _land(root)
    plugins = load_plugins([AcmePlugin()], entry_points=False, strict=True)
    live: list[FileOutcome] = []
    with run_context(
        root, tmp_path / "w.duckdb", plugins.catalog, wrap, views=plugins.views, on_file=live.append
    ) as context:
        return engine.run(context, ["acme"]), live, context.warehouse


def test_outcomes_come_in_scan_order_whatever_order_the_loads_finish_in(
    tmp_path: Path, run_context: OpenContext
) -> None:
    tables = ["acme__events", "acme__profile", "acme__player_profile"]
    result, live, _ = _run(tmp_path, lambda inner: ReverseLoads(inner, tables), run_context)
    assert [f.path for f in result.files] == [f"acme/landing/{name}" for name in SCAN_ORDER]
    assert [f.status.value for f in result.files] == ["rejected"] * 2 + ["loaded"] * 5
    # the live callback heard the loaded files as their loads finished: last data type first
    loaded = [f.path.rsplit("_acme_", 1)[1] for f in live if f.status.value == "loaded"]
    assert loaded == ["bob_player_profile.jsonl", "bob_profile.jsonl", "eve_profile.jsonl"] + ["events.jsonl"] * 2
    assert sorted(f.path for f in live) == sorted(f.path for f in result.files)


def test_each_tables_schema_is_read_once_per_run(tmp_path: Path, run_context: OpenContext) -> None:
    result, _, spy = _run(tmp_path, CountingSchemas, run_context)
    assert result.success is False and result.totals["loaded"] == 5  # (the two stray files are rejected)
    # three tables loaded, the view refreshed over two of them: one read each
    assert spy.reads == {"lake_dev.acme__events": 1, "lake_dev.acme__profile": 1, "lake_dev.acme__player_profile": 1}


def test_each_tables_schema_is_read_once_per_run_and_copied_once_per_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_context: OpenContext
) -> None:
    """A run in parts (one file each): the warehouse is asked for each table's schema once in the whole run, and
    each part copies it once, for its schema builder to grow; the reconciled schema staging made is the one the
    load uses (before: copied three times per part and data type, and reconciled twice)."""
    copies: Counter[str] = Counter()
    get = LiveSchemas.get

    def counted(self: LiveSchemas, dataset: str, table: str, loading: Any = None) -> Any:
        copies[f"{dataset}.{table}"] += 1
        return get(self, dataset, table, loading)

    monkeypatch.setattr(LiveSchemas, "get", counted)
    monkeypatch.setenv("INGESTOR_PART_FILES", "1")
    result, _, spy = _run(tmp_path, CountingSchemas, run_context)
    assert result.totals["loaded"] == 5 and [f.path for f in result.files] == [f"acme/landing/{n}" for n in SCAN_ORDER]
    assert spy.reads == {"lake_dev.acme__events": 1, "lake_dev.acme__profile": 1, "lake_dev.acme__player_profile": 1}
    # one part per file: events and profile have two files each, player_profile one
    assert copies == {"lake_dev.acme__events": 2, "lake_dev.acme__profile": 2, "lake_dev.acme__player_profile": 1}


def test_a_file_too_large_for_duckdbs_memory_alone_stays_in_landing(
    harness: Harness, duckdb_fails_on: Callable[[bytes, type[Exception], str], None]
) -> None:
    """DuckDB out of memory is the environment's fault: the batch is split (fewer files may fit), and a file
    that still does not fit alone stays in landing as failed, never rejected (before: rejected with DuckDB's
    message). DuckDB's own out-of-memory error is raised for the file marked `huge` (a real one needs a
    record wider than any test should write)."""
    duckdb_fails_on(
        b'"huge"', duckdb.OutOfMemoryException, "Out of Memory Error: could not allocate block of size 256.0 KiB"
    )
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1}])
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 2, "size": "huge"}])
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl", [{"id": 3}])
    run = harness.run("--service", "acme", "--json")
    outcomes = {f["path"].rsplit("/", 1)[1][:10]: f for f in json.loads(run.stdout)["files"]}
    assert run.exit_code == 1
    assert {day: o["status"] for day, o in outcomes.items()} == {
        "2025_01_01": "loaded", "2025_01_02": "failed", "2025_01_03": "loaded"
    }  # fmt: skip
    assert outcomes["2025_01_02"]["reason"].startswith("load failed, left in landing: Out of Memory Error")
    assert outcomes["2025_01_02"]["reason_code"] == "too_large"
    assert harness.files("acme/landing/") == ["acme/landing/2025_01_02_00_00_acme_events.jsonl"]
    assert harness.query("SELECT id FROM lake_dev.acme__events ORDER BY id") == [(1,), (3,)]


def test_after_an_outage_a_data_types_later_parts_are_not_tried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load that fails for the warehouse's sake (not the rows') ends its data type for this run: its later parts
    stay in landing, failed, untried (on BigQuery each would wait out the same deadline again); the other data
    type loads. DuckDB's I/O error is raised for the acme files' inserts: a real one needs a failing disk."""
    from ingestor.warehouse.duckdb.inserts import Inserts

    insert, tried = Inserts.ndjson, []

    def ndjson(self: Inserts, target: str, columns: list[Any], paths: list[Path], widest: int) -> None:
        if "acme__events" in target:
            tried.append(len(paths))
            raise duckdb.IOException("IO Error: Could not write file: Input/output error")
        insert(self, target, columns, paths, widest)

    monkeypatch.setattr(Inserts, "ndjson", ndjson)
    for day in (1, 2, 3):
        harness.land(f"acme/landing/2025_01_0{day}_00_00_acme_events.jsonl", [{"id": day}])
    harness.land("other/landing/2025_01_01_00_00_other_things.jsonl", [{"n": 1}])
    run = harness.run("--service", "acme,other", "--json", env={"INGESTOR_PART_FILES": "1"})
    outcomes = {f["path"]: f for f in json.loads(run.stdout)["files"]}
    assert run.exit_code == 1 and tried == [1]  # one part tried, the two after it not
    first, *later = (outcomes[f"acme/landing/2025_01_0{day}_00_00_acme_events.jsonl"] for day in (1, 2, 3))
    assert first["status"] == "failed" and first["reason"].startswith("load failed, left in landing: IO Error")
    assert first["reason_code"] == "warehouse_unavailable"
    for outcome in later:
        assert outcome["status"] == "failed" and outcome["reason_code"] == "not_tried"
        assert outcome["reason"].startswith("not tried, left in landing: the warehouse failed on events earlier")
    assert outcomes["other/landing/2025_01_01_00_00_other_things.jsonl"]["status"] == "loaded"
    assert len(harness.files("acme/landing/")) == 3
