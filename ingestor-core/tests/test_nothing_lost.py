"""Hostile cases of the second campaign (issue 17) on the embedded backends: a file changed during a run, a
record too wide for DuckDB's memory, names at the 255-byte limit, a landing folder that is a symbolic link, a
record's own metadata values, out-of-range timestamps, keys renamed inside JSON columns, a file deleted mid-run.
The GCS variants are in tests/cloud/test_cloud_nothing_lost.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingestor import engine
from ingestor.catalog import DataType
from ingestor.hookspecs import hookimpl
from ingestor.testing import Harness

EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"


class Acme:
    """One plain data type (no normalizer, no hints)."""

    @hookimpl
    def list_types(self) -> list[DataType]:
        return [DataType(service="acme", name="events", dataset="acme_{env}", table="events")]


def _lines(*ids: int) -> bytes:
    return b"".join(orjson.dumps({"id": i}) + b"\n" for i in ids)


def _result(run: Any) -> dict[str, Any]:
    return orjson.loads(run.stdout[run.stdout.index("{") :])  # type: ignore[no-any-return]


def _only(run: Any, exit_code: int) -> dict[str, Any]:
    """The outcome of the one file of a run (with `--json`) that ended with `exit_code`."""
    assert run.exit_code == exit_code, run.output
    [outcome] = _result(run)["files"]
    return outcome  # type: ignore[no-any-return]


def _at(point: str, act: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run `act` the first time the run reaches the fault checkpoint `point` (a writer acting at the worst moment)."""
    checkpoint, acted = engine.faults.checkpoint, []

    def hook(name: str) -> None:
        if name == point and not acted:
            acted.append(name)
            act()
        checkpoint(name)

    monkeypatch.setattr(engine.faults, "checkpoint", hook)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, Acme())


def test_a_file_appended_to_after_it_was_read_is_not_archived_and_its_new_records_load_next(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = h.land(EVENTS, _lines(1, 2, 3))
    _at("after_stage", lambda: path.write_bytes(path.read_bytes() + _lines(4, 5)), monkeypatch)
    outcome = _only(h.run("--service", "acme", "--json"), 1)
    assert outcome["status"] == "failed" and outcome["destination"] is None
    assert "3 records loaded, but" in outcome["reason"]
    assert "changed after it was read (27 -> 45 bytes): left in landing" in outcome["reason"]
    assert h.files("acme") == [EVENTS]  # left in landing, not archived with two records nobody loaded
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3],)]
    monkeypatch.undo()
    outcome = _only(h.run("--service", "acme", "--json"), 0)
    assert outcome["status"] == "loaded" and outcome["rows"] == 2
    assert "an earlier version of it (27 bytes, 3 records) was loaded by run" in outcome["reason"]
    assert "only the records appended after it were loaded now" in outcome["reason"]
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3, 4, 5],)]
    assert h.files("acme") == [EVENTS.replace("landing", "archive")]
    assert (h.landing / EVENTS.replace("landing", "archive")).read_bytes() == _lines(1, 2, 3, 4, 5)


def test_a_file_overwritten_after_it_was_read_is_loaded_next_run_saying_what_was_loaded(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = h.land(EVENTS, _lines(1, 2, 3))
    _at("after_stage", lambda: path.write_bytes(_lines(7, 8, 9)), monkeypatch)
    assert h.run("--service", "acme").exit_code == 1
    assert h.files("acme") == [EVENTS]
    monkeypatch.undo()
    outcome = _only(h.run("--service", "acme", "--json"), 0)
    assert outcome["status"] == "loaded" and outcome["rows"] == 3
    assert "an earlier version of it (27 bytes, 3 records) was loaded by run" in outcome["reason"]
    assert "this version does not begin with it: loaded whole" in outcome["reason"]
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3, 7, 8, 9],)]
    archived = EVENTS.replace("landing", "archive")
    assert h.files("acme") == [archived]
    assert (h.landing / archived).read_bytes() == _lines(7, 8, 9)


def test_a_file_deleted_after_its_rows_loaded_is_reported_as_gone(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    path = h.land(EVENTS, _lines(1, 2))
    _at("after_commit", path.unlink, monkeypatch)
    outcome = _only(h.run("--service", "acme", "--json"), 1)
    assert outcome["status"] == "failed" and outcome["destination"] is None
    assert outcome["reason"] == f"2 records loaded, but {EVENTS} is no longer in landing: nothing to move"
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2],)]
