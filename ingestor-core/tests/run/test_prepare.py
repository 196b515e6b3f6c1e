"""`ingestor.run.prepare`: while a part loads, the next one stages, against the schema the load leaves; kept when
that load commits as a whole, staged again against the table as it stands when it does not; either way each file
ends as it would had its part been staged after the load."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestor.run.prepare import Planned, Preparer, StagedType
from ingestor.testing import Harness
from ingestor.warehouse.duckdb.inserts import Inserts

PARTS_OF_ONE = {"INGESTOR_PART_FILES": "1"}


def _stages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], bool]]:
    """Each call of `Preparer.stage`: its files (their day) and whether it staged ahead of a load."""
    calls: list[tuple[list[str], bool]] = []
    stage = Preparer.stage

    def spy(self: Preparer, planned: Planned, loaded: threading.Event | None = None) -> StagedType:
        calls.append(([t.file.name.rsplit("/", 1)[1][8:10] for t in planned.tasks], planned.ahead is not None))
        return stage(self, planned, loaded)

    monkeypatch.setattr(Preparer, "stage", spy)
    return calls


def test_the_next_part_stages_while_a_part_loads(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Part 1's load waits until part 2 is staged (it never would be, were the parts staged in turn: the wait would
    end by its guard and the test fail); part 2 was staged against part 1's new column, and kept."""
    calls = _stages(monkeypatch)
    insert, waited = Inserts.ndjson, []
    staged_two = threading.Event()
    stage = Preparer.stage

    def stage_then_tell(self: Preparer, planned: Planned, loaded: threading.Event | None = None) -> StagedType:
        staged = stage(self, planned, loaded)
        if planned.ahead is not None:
            staged_two.set()
        return staged

    def ndjson(self: Inserts, target: str, columns: list[Any], paths: list[Path], widest: int) -> None:
        if not waited:
            waited.append(staged_two.wait(30))  # (a guard: a sequential run never sets it)
        insert(self, target, columns, paths, widest)

    monkeypatch.setattr(Preparer, "stage", stage_then_tell)
    monkeypatch.setattr(Inserts, "ndjson", ndjson)
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1, "score": 1}])
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 2, "score": 2, "note": "b"}])
    run = harness.run("--service", "acme", "--json", env=PARTS_OF_ONE)
    assert run.exit_code == 0, run.output
    assert waited == [True]
    assert calls == [(["01"], False), (["02"], True)]  # staged once each: part 2 ahead, kept
    (table,) = json.loads(run.stdout)["tables"]
    assert table["columns_added"][-3:] == ["id INT64", "score INT64", "note STRING"]  # (after the metadata columns)
    assert harness.query("SELECT id, score, note FROM lake_dev.acme__events ORDER BY id") == [(1, 1, None), (2, 2, "b")]


def test_a_part_staged_ahead_of_a_load_that_failed_is_staged_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, duckdb_fails_on: Callable[[bytes, type[Exception], str], None]
) -> None:
    """Part 1's rows are refused (its file rejected): part 2, staged against the schema part 1 would have left, is
    staged again against the table as it stands, so the rejected file's column is not added to the table."""
    calls = _stages(monkeypatch)
    duckdb_fails_on(b'"refuse me"', duckdb.ConversionException, "Conversion Error: refused")
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1, "only_here": "refuse me"}])
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 2}])
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl", [{"id": 3, "later": True}])
    run = harness.run("--service", "acme", "--json", env=PARTS_OF_ONE)
    statuses = {f["path"].rsplit("/", 1)[1][8:10]: f["status"] for f in json.loads(run.stdout)["files"]}
    assert statuses == {"01": "rejected", "02": "loaded", "03": "loaded"}
    query = "SELECT column_name FROM information_schema.columns WHERE table_name = 'acme__events'"
    columns = [name for (name,) in harness.query(query)]
    assert "only_here" not in columns and {"id", "later"} <= set(columns)
    assert harness.query("SELECT id FROM lake_dev.acme__events ORDER BY id") == [(2,), (3,)]
    # part 2 staged ahead, then again (part 1 failed); part 3 ahead of part 2's load, which committed: kept
    assert calls == [(["01"], False), (["02"], True), (["02"], False), (["03"], True)]


def test_a_part_staged_ahead_sees_the_loading_parts_columns_as_the_tables(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part 2, staged while part 1 loads, meets a text where part 1's new column holds integers: as for a column
    the table has (which it is once part 1 commits), the text goes to the column's variant, and the column keeps
    its type (a column new in the load itself would have turned JSON)."""
    calls = _stages(monkeypatch)
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1, "score": 1}])
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 2, "score": "high"}])
    run = harness.run("--service", "acme", "--json", env=PARTS_OF_ONE)
    assert run.exit_code == 0, run.output
    assert calls == [(["01"], False), (["02"], True)]
    query = "SELECT id, score, score__v_json FROM lake_dev.acme__events ORDER BY id"
    assert harness.query(query) == [(1, 1, None), (2, None, '"high"')]


def test_a_part_loaded_is_let_go(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """When a part loads, no batch of a part before the one before it is still held (before: each part staged
    ahead held the batch it was staged ahead of, through its schema builder, so a backlog's parts were all held
    to the run's end, ~2 KB a file)."""
    import gc
    import weakref

    from ingestor.run.load import Loader, TypeLoad

    batches: list[weakref.ref[TypeLoad]] = []
    held: list[int] = []  # at each load: how many batches of parts before the previous one are still alive
    load = Loader.load

    def watched(self: Loader, batch: TypeLoad) -> Any:
        gc.collect()
        held.append(sum(ref() is not None for ref in batches[:-1]))
        batches.append(weakref.ref(batch))
        return load(self, batch)

    monkeypatch.setattr(Loader, "load", watched)
    for day in range(1, 6):
        harness.land(f"acme/landing/2025_01_0{day}_00_00_acme_events.jsonl", [{"id": day, f"c{day}": day}])
    run = harness.run("--service", "acme", "--json", env=PARTS_OF_ONE)
    assert run.exit_code == 0, run.output
    assert held == [0, 0, 0, 0, 0]
