"""Reading: each landing file is read once per run. Its checksum (what the ledger records) is taken from the read
that stages it; a file the ledger knows is read once to find it loaded already; a batch split on refused rows
loads the staged rows again, never the landing file. The real local landing's opens of its files are counted."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from ingestor.catalog import DataType
from ingestor.landing import LandingFile
from ingestor.landing.local import LocalLanding
from ingestor.result import IngestResult
from ingestor.testing import Declarations, Harness

DAYS = [f"acme/landing/2025_01_0{day}_00_00_acme_events.jsonl" for day in (1, 2, 3, 4)]
EVENTS = DataType(service="acme", name="events", dataset="acme_{env}", table="events")


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, Declarations(EVENTS))


@pytest.fixture
def opens(h: Harness, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each landing file was opened (by its name), counted where the real LocalLanding opens it."""
    counted: Counter[str] = Counter()
    landing, original = h.landing / "acme/landing", Path.open

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        mode = args[0] if args else kwargs.get("mode", "r")
        if "r" in mode and self.is_relative_to(landing):
            counted[self.relative_to(h.landing).as_posix()] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    return counted


def _records(day: int, n: int = 3) -> list[dict[str, Any]]:
    return [{"id": day * 100 + i, "v": f"value {i}", "nested": {"a": i, "b": [i, i]}} for i in range(n)]


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _statuses(result: IngestResult) -> dict[str, str]:
    return {f.path: f.status.value for f in result.files}


def _ledger(h: Harness) -> dict[str, str]:
    return dict(h.query("SELECT source_name, checksum FROM acme_dev._ingestor_ledger"))


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "env", [{"INGESTOR_COLUMNAR": "0"}, {"INGESTOR_COLUMNAR_MIN_BYTES": "0"}], ids=["row-path", "columnar"]
)
def test_a_clean_run_reads_each_file_once_and_records_its_checksum(
    h: Harness, opens: Counter[str], env: dict[str, str]
) -> None:
    """Columnar: the first file is handed back (its columns are new) and the row path stages what was read."""
    landed = {name: _ndjson(_records(day)) for day, name in enumerate(DAYS, 1)}
    for name, data in landed.items():
        h.land(name, data)
    result = h.ingest("--service", "acme", env=env)
    assert _statuses(result) == dict.fromkeys(DAYS, "loaded")
    assert opens == dict.fromkeys(DAYS, 1)
    assert _ledger(h) == {name: _sha256(data) for name, data in landed.items()}
    if "INGESTOR_COLUMNAR_MIN_BYTES" in env:
        assert result.tables[0].columnar_files == len(DAYS) - 1


def test_files_found_loaded_already_are_read_once_and_not_loaded(h: Harness, opens: Counter[str]) -> None:
    """A crash between the load and the moves (or a fetcher delivering them again) leaves loaded files in landing:
    each is read once, for its checksum, and archived without staging."""
    for day, name in enumerate(DAYS, 1):
        h.land(name, _records(day))
    h.ingest("--service", "acme")
    for name in DAYS:
        os.replace(h.landing / name.replace("/landing/", "/archive/"), h.landing / name)
    opens.clear()
    result = h.ingest("--service", "acme")
    assert _statuses(result) == dict.fromkeys(DAYS, "already_loaded")
    assert opens == dict.fromkeys(DAYS, 1)
    assert h.query("SELECT count(*) FROM acme_dev.events") == [(3 * len(DAYS),)]


def test_an_appended_file_is_read_for_its_checksum_then_staged_from_its_new_records(
    h: Harness, opens: Counter[str]
) -> None:
    """A file the ledger knows with other content: the plan reads it once (its checksum and whether it begins with
    the version loaded), staging reads the records after that version (two opens; three before)."""
    first = _ndjson(_records(1))
    h.land(DAYS[0], first)
    h.ingest("--service", "acme")
    grown = first + _ndjson(_records(9, 2))
    h.land(DAYS[0], grown)
    opens.clear()
    result = h.ingest("--service", "acme")
    assert _statuses(result) == {DAYS[0]: "loaded"}
    assert "only the records appended after it were loaded now" in (result.files[0].reason or "")
    assert opens == {DAYS[0]: 2}
    assert h.query("SELECT count(*) FROM acme_dev.events") == [(5,)]
    assert {c for (c,) in h.query("SELECT checksum FROM acme_dev._ingestor_ledger")} == {_sha256(first), _sha256(grown)}


def _rewritten_before_its_second_read(h: Harness, name: str, opens: Counter[str], mp: pytest.MonkeyPatch) -> None:
    """The file `name` is rewritten before it is opened a second time, with the same size and modification time
    (what a move cannot see): `value` becomes `VALUE`."""
    path = h.landing / name
    stat = path.stat()
    original = LocalLanding.open

    def open_(self: LocalLanding, file: LandingFile) -> Any:
        if file.name == name and opens[file.name] == 1:
            with open(path, "rb") as before:  # (the builtin: not counted)
                data = before.read()
            with open(path, "wb") as after:
                after.write(data.replace(b"value", b"VALUE"))
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        return original(self, file)

    mp.setattr(LocalLanding, "open", open_)


def test_a_file_that_reads_otherwise_than_planned_stays_in_landing(
    h: Harness, opens: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read twice in a run (the plan read it: the ledger knows its name) must read the same both times. Here
    it changes between the two reads: it stays in landing, failed, and nothing of it is loaded (before: loaded,
    under the first read's checksum, and archived)."""
    h.land(DAYS[0], _records(1))
    h.ingest("--service", "acme")
    h.land(DAYS[0], _records(2))
    _rewritten_before_its_second_read(h, DAYS[0], opens, monkeypatch)
    opens.clear()
    result = h.ingest("--service", "acme")
    assert _statuses(result) == {DAYS[0]: "failed"}
    assert "changed during the run" in (result.files[0].reason or "")
    assert h.files("acme/landing") == [DAYS[0]]
    assert h.query("SELECT count(*) FROM acme_dev.events WHERE v LIKE 'VALUE%'") == [(0,)]


def test_a_batch_split_on_refused_rows_reads_no_landing_file_again(
    h: Harness, opens: Counter[str], duckdb_fails_on: Callable[[bytes, type[Exception], str], None]
) -> None:
    """The warehouse refuses one file's rows: the batch is split in halves until that file is isolated, each half
    loading the staged rows again. DuckDB's conversion error is raised for the file marked `refused` (a real one
    needs rows the schema does not describe, which staging never writes)."""
    duckdb_fails_on(
        b'"refused"', duckdb.ConversionException, "Conversion Error: a value the table's column cannot hold"
    )
    for day, name in enumerate(DAYS, 1):
        h.land(name, [*_records(day), {"id": 0, "v": "refused"}] if day == 3 else _records(day))
    result = h.ingest("--service", "acme", env={"INGESTOR_COLUMNAR": "0"})
    assert _statuses(result) == {**dict.fromkeys(DAYS, "loaded"), DAYS[2]: "rejected"}
    assert opens == dict.fromkeys(DAYS, 1)


def test_a_file_staged_again_is_read_again_from_landing(h: Harness, opens: Counter[str]) -> None:
    """The one case that reads a file twice in a run: a column becomes JSON after a file's rows were staged (here
    in both files: the second file's record turned it), so the file is staged again, and read again: its staged
    rows hold conformed values, not the source's, and cannot serve. Its second read must give the same checksum
    (three and two reads before)."""
    h.land(DAYS[0], [{"id": 1, "n": {"a": 1, "A": 2}}])
    h.land(DAYS[1], [{"id": 2, "n": [1]}])
    result = h.ingest("--service", "acme", env={"INGESTOR_COLUMNAR": "0"})
    assert _statuses(result) == dict.fromkeys(DAYS[:2], "loaded")
    assert opens == dict.fromkeys(DAYS[:2], 2)
    assert [orjson.loads(n) for (n,) in h.query("SELECT n::VARCHAR FROM acme_dev.events ORDER BY id")] == [
        {"a": 1, "A": 2},
        [1],
    ]


@pytest.mark.parametrize(
    "env", [{"INGESTOR_COLUMNAR": "0"}, {"INGESTOR_COLUMNAR_MIN_BYTES": "0"}], ids=["row-path", "columnar"]
)
def test_a_file_that_changed_before_it_is_staged_again_stays_in_landing(
    h: Harness, opens: Counter[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """Staged again, a file must read as it did the first time: rewritten in between, it stays in landing, failed,
    nothing of it loaded (before: its second read's rows were loaded under its first read's checksum)."""
    h.land(DAYS[0], [{"id": 1, "n": {"a": 1}, "v": "value"}])
    h.land(DAYS[1], [{"id": 2, "n": {"a": 2}, "v": "value"}])
    h.land(DAYS[2], [{"id": 3, "n": [1], "v": "value"}])
    _rewritten_before_its_second_read(h, DAYS[0], opens, monkeypatch)
    result = h.ingest("--service", "acme", env=env)
    assert _statuses(result) == {DAYS[0]: "failed", DAYS[1]: "loaded", DAYS[2]: "loaded"}
    assert "changed during the run" in (result.files[0].reason or "")
    assert h.files("acme/landing") == [DAYS[0]]
    assert h.query("SELECT id, v FROM acme_dev.events ORDER BY id") == [(2, "value"), (3, "value")]
