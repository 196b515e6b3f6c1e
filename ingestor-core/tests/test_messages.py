"""Messages a person reads once: a malformed line's reason says its line once (and its column); the summary's
table counts every file of a type as the footer does (already loaded ones too), and the null lines; a file
no data type matches comes with the patterns tried. And what the environment's faults say, with real DuckDB and
a real file system: a landing file that cannot be read is the environment's fault, not the file's; a warehouse
error names the landing file, never an internal staging path; the busy message keeps DuckDB's words whole."""

from __future__ import annotations

import errno
import io
import json
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO

import duckdb
import pytest

from ingestor.catalog import DataType
from ingestor.landing import LandingFile
from ingestor.landing.local import LocalLanding
from ingestor.result import FileStatus
from ingestor.run.fate import Happened, decide
from ingestor.run.lease import LeaseBusy, open_warehouse
from ingestor.run.ledger import LedgerEntry
from ingestor.schema import Column, Kind, SchemaBuilder, Struct, changes
from ingestor.settings import Settings
from ingestor.staging.row_path import StageTask, stage_file
from ingestor.staging.staged import StagedFile
from ingestor.testing import Harness
from ingestor.warehouse import LoadRequest, RowsRefused
from ingestor.warehouse.duckdb import DuckDBWarehouse

EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"


def row(stdout: str, label: str) -> list[str]:
    """The cells of the summary table's row for `label`."""
    [line] = [line for line in stdout.splitlines() if f" {label} " in line]
    return [cell.strip() for cell in line.strip("│┃ ").split("│")]


def test_a_malformed_line_is_said_once_with_its_column(harness: Harness) -> None:
    harness.land(EVENTS, '{"id": 1}\n{"id": 2}\n{"id": 3,,}\n')
    run = harness.run("--service", "acme", "--json")
    [outcome] = json.loads(run.stdout)["files"]
    assert outcome["reason"] == "malformed NDJSON at line 3: unexpected character, expected a string key at column 10"


def test_the_summary_counts_every_file_and_null_line_of_a_type_as_the_footer_does(harness: Harness) -> None:
    harness.land(EVENTS, '{"id": 1}\nnull\n{"id": 2}\nnull\n')
    first = harness.run("--service", "acme")
    assert first.exit_code == 0, first.output
    assert row(first.stdout, "acme.events")[2:5] == ["1", "2", "2"]  # files, rows, null lines
    assert "1 files (1 loaded), 2 rows loaded, 2 null lines skipped; success" in first.stdout

    harness.land(EVENTS, '{"id": 1}\nnull\n{"id": 2}\nnull\n')  # delivered again: the ledger has it
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 3}])
    again = harness.run("--service", "acme")
    assert row(again.stdout, "acme.events")[2:4] == ["2 (1 loaded, 1 already_loaded)", "1"]
    assert "2 files (1 loaded, 1 already_loaded), 1 rows loaded; success" in again.stdout


def test_a_file_no_data_type_matches_comes_with_the_patterns_tried(harness: Harness) -> None:
    harness.land("acme/landing/2025_01_01_acme_evnts.jsonl", [{"id": 1}])
    plan = harness.run("--service", "acme", "--dry-run")
    assert plan.exit_code == 1
    assert row(plan.stdout, "acme (no data type)")[2] == "1 (1 would_reject)"
    assert "would_reject: acme/landing/2025_01_01_acme_evnts.jsonl — no data type matches\n" in plan.stdout
    tried = plan.stdout.split("the patterns tried on the names of acme (without .jsonl/.jsonl.gz):\n")[1]
    assert tried.splitlines()[:3] == [
        "  events: .+_acme_events",
        "  profile: .+_acme_(?P<username>.+)_profile",
        "  player_profile: .+_acme_(?P<username>.+)_player_profile",
    ]
    assert "1 files (1 would_reject), 0 rows planned; FAILED" in plan.stdout


NAME = "fz/landing/2025_01_01_fz_events.jsonl"
FZ_EVENTS = DataType(service="fz", name="events", dataset="fz_{env}", table="events")


class _FailingDisk(io.RawIOBase):
    """A file whose disk fails after its first bytes (EIO), as a dying disk or a lost network mount does."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        assert (offset, whence) == (0, io.SEEK_SET)  # staging starts at the start
        return 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self.first:
            raise OSError(errno.EIO, "Input/output error")
        n = min(len(buffer), len(self.first))
        buffer[:n], self.first = self.first[:n], self.first[n:]
        return n


class _FailingLanding(LocalLanding):
    def open(self, file: LandingFile) -> AbstractContextManager[IO[bytes]]:
        return io.BufferedReader(_FailingDisk(b'{"uid": 1}\n'), 4)


def test_a_landing_file_that_cannot_be_read_stays_in_landing(tmp_path: Path) -> None:
    """Before: any OSError while reading was taken for corrupt gzip data, and the good file rejected."""
    file = LandingFile(NAME, 100, "1")
    task = StageTask(file, {}, tmp_path / "0000001.jsonl")
    staged = stage_file(_FailingLanding(tmp_path), FZ_EVENTS, task, SchemaBuilder(), {}, max_record_bytes=1 << 20)
    assert (staged.failed, staged.reason, staged.rows) == (True, "[Errno 5] Input/output error", 0)
    assert not task.path.exists()
    fate = decide(Happened(file, "fz", "events", staged=staged))
    assert (fate.status, fate.reason, fate.destination) == (
        FileStatus.FAILED, "staging failed, left in landing: [Errno 5] Input/output error", None
    )  # fmt: skip


def test_a_warehouse_error_names_the_landing_file_not_the_staged_one(tmp_path: Path) -> None:
    staged = tmp_path / "ingestor-stage-x" / "0000001.jsonl"
    staged.parent.mkdir()
    staged.write_bytes(b'{"uid": "not a number"}\n')
    schema = Struct()
    schema.add(Column("uid", Kind.INT64))
    entry = LedgerEntry(
        source_name=NAME, checksum="x", size=1, service="fz", data_type="events", table_name="fz_dev.events",
        rows=1, run_id="r", loaded_at="2025-01-01T00:00:00Z",
    )  # fmt: skip
    request = LoadRequest(
        data_type=FZ_EVENTS, dataset="fz_dev", table="events", schema=schema, changes=changes(schema),
        files=[StagedFile(entry, staged, LandingFile(NAME, 1, "1"), widest=30)], run_id="r",
    )  # fmt: skip
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    with pytest.raises(RowsRefused) as refused:  # the rows themselves: the batch is split to isolate the file
        warehouse.load(request)
    warehouse.close()
    assert str(refused.value).startswith(f"Invalid Input Error: JSON transform error in the staged rows of {NAME}, ")
    assert str(tmp_path) not in str(refused.value)


def test_the_busy_message_keeps_duckdbs_words_whole(tmp_path: Path) -> None:
    """Before: the last 160 characters of the message, cut mid-word."""
    path = tmp_path / "a-folder-name-long-enough-to-push-the-start-of-duckdbs-words-out-of-any-cut" / "w.duckdb"
    path.parent.mkdir()
    hold = "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.read()\n"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(duckdb.IOException) as held:
            duckdb.connect(str(path))
        with pytest.raises(LeaseBusy) as busy:
            open_warehouse(f"duckdb://{path}", Settings())
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert " ".join(str(held.value).split()) in str(busy.value)  # DuckDB's words, whole
    assert str(busy.value).startswith(f"the warehouse duckdb://{path} is in use by another process; ")
