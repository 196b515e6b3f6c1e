"""Nothing lost to a hostile file on a GCS landing zone (the real client on the storage emulator;
DuckDB as the warehouse,
the part under test being the landing zone). The local variants are in tests/test_nothing_lost.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.timeout(300)
EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"


def _lines(*ids: int) -> bytes:
    return b"".join(orjson.dumps({"id": i}) + b"\n" for i in ids)


def _ids(database: Path, env: str) -> list[int]:
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return [i for (i,) in con.execute(f"SELECT id FROM acme_{env}.events ORDER BY id").fetchall()]


@pytest.mark.parametrize(
    ("new", "ids"),
    [(_lines(1, 2, 3, 4, 5), [1, 2, 3, 4, 5]), (_lines(7, 8, 9), [1, 2, 3, 7, 8, 9])],
    ids=["appended", "overwritten"],
)
def test_a_new_generation_written_between_read_and_move_stays_in_landing(
    cloud: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    at_checkpoint: Callable[..., None],
    new: bytes,
    ids: list[int],
) -> None:
    database = tmp_path / "w.duckdb"
    cloud.land(EVENTS, _lines(1, 2, 3))
    at_checkpoint("after_stage", lambda: cloud.land(EVENTS, new))
    first = cloud.run("--warehouse", f"duckdb:///{database}")
    assert first.exit_code == 1
    [outcome] = cloud.result(first)["files"]
    assert outcome["status"] == "failed" and "3 records loaded, but" in outcome["reason"]
    assert "changed after it was read (a new generation" in outcome["reason"]
    assert cloud.files("acme/") == [EVENTS]
    assert cloud.bucket.blob(EVENTS).download_as_bytes() == new  # the newer generation was not deleted
    monkeypatch.undo()
    second = cloud.run("--warehouse", f"duckdb:///{database}")
    [outcome] = cloud.result(second)["files"]
    assert outcome["status"] == "loaded" and second.exit_code == 0
    assert "an earlier version of it (27 bytes, 3 records) was loaded by run" in outcome["reason"]
    assert _ids(database, cloud.env) == ids
    assert cloud.files("acme/landing/") == []


def test_an_object_deleted_after_its_rows_loaded_is_reported_as_gone(
    cloud: Any, tmp_path: Path, at_checkpoint: Callable[..., None]
) -> None:
    database = tmp_path / "w.duckdb"
    cloud.land(EVENTS, _lines(1, 2))
    at_checkpoint("after_commit", cloud.bucket.blob(EVENTS).delete)
    run = cloud.run("--warehouse", f"duckdb:///{database}")
    assert run.exit_code == 1
    [outcome] = cloud.result(run)["files"]
    assert outcome["status"] == "failed" and outcome["destination"] is None
    assert outcome["reason"] == f"2 records loaded, but {EVENTS} is no longer in landing: nothing to move"
    assert _ids(database, cloud.env) == [1, 2] and cloud.files("acme/") == []
