"""The environment's faults are `failed`, never `rejected`: real full disks (small tmpfs
mounts) under the real `ingestor run`. A full staging disk (TMPDIR), a full disk under the DuckDB file (during a
load, during a checkpoint) and a full landing disk (during a move) each end the run with its result on stdout, exit
1 and no traceback; the good files stay in landing, never in rejected/, and the next run, with room, loads each of
them exactly once. Only the plugin's own exception rejects a file: a MemoryError, even from the normalizer, is the
environment's."""

from __future__ import annotations

import json
import random
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import SERVICE, Zone, install_plugin, ndjson, wait_stopped
from .limits import tmpfs

pytestmark = pytest.mark.timeout(180)
NO_SPACE = "[Errno 28] No space left on device"
PLUGIN = '''
"""Service `fz` for the environment-fault tests: plain data types, `normalized` with a normalizer, a view."""
import os
import signal

from ingestor import DataType, Service, View, ViewSource, hookimpl


def normalize(record, source):
    boom = record.get("boom")
    if boom == "memory":
        raise MemoryError("cannot allocate")
    if boom == "value":
        raise ValueError("cannot normalize this record")
    if boom == "kill":  # the staging process dies, as when the OOM killer takes it
        os.kill(os.getpid(), signal.SIGKILL)
    return {**record, "normalized": True}


@hookimpl
def services():
    return [Service(
        data_types=[
            DataType(service="fz", name="events", dataset="fz_{env}", table="events"),
            DataType(service="fz", name="metrics", dataset="fz_{env}", table="metrics"),
            DataType(service="fz", name="normalized", dataset="fz_{env}", table="normalized", normalize=normalize),
            DataType(service="fz", name="later", dataset="fz_{env}", table="later"),
        ],
        views=[View(service="fz", dataset="fz_{env}", name="uids", columns=("uid",), sources=tuple(
            ViewSource(dataset="fz_{env}", table=table, columns={"uid": "uid"}) for table in ("events", "later")
        ))],
    )]
'''


class EnvZone(Zone):
    """The fault zone with the tables of `normalized` and `later` counted in the promise's checks."""

    def rows(self, database: Path | None = None) -> list[tuple[int, str]]:
        found = super().rows(database)
        for table in ("normalized", "later"):
            if table in self.tables(database):
                found += self.query(f"SELECT uid, _source_file FROM fz_dev.{table}", database)
        return found

    def land_random(self, relative: str, n: int, seed: int) -> None:
        """A valid file of `n` records whose text DuckDB cannot compress much (fills a disk as it is)."""
        rng = random.Random(seed)
        uids = list(range(self._uid, self._uid + n))
        self._uid += n
        self.land(relative, ndjson({"uid": u, "v": rng.randbytes(32).hex()} for u in uids))
        self.expect.valid[relative] = uids

    def history_runs(self, run_id: str) -> list[tuple[Any, ...]]:
        tables = self.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'dp_ops_dev'")
        if ("_ingestor_history",) not in tables:
            return []
        return self.query(f"SELECT status FROM dp_ops_dev._ingestor_history WHERE kind = 'run' AND run_id = '{run_id}'")


@pytest.fixture(scope="module")
def env_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("env-site")
    install_plugin(path)
    (path / "fz_plugin.py").write_text(PLUGIN)
    return path


@pytest.fixture
def ez(tmp_path: Path, env_site: Path) -> EnvZone:
    return EnvZone(tmp_path, env_site)


def ended_with_result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """A run that met a fault: exit 1, its result on stdout, no traceback on stderr."""
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def outcome(result: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in result["files"] if f["path"] == f"{SERVICE}/landing/{name}")
    return found


def fill(folder: Path) -> Path:
    """A file that takes every free byte of `folder`'s disk."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:  # unbuffered: nothing left to write at close
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def remount(path: Path, size_mb: int) -> None:
    """More room on the tmpfs at `path` (its files kept)."""
    subprocess.run(["mount", "-o", f"remount,size={size_mb}m", str(path)], check=True, capture_output=True)


def history_told(ez: EnvZone, done: subprocess.CompletedProcess[str], result: dict[str, Any]) -> None:
    """The run's row is in the history, or the history could not be written and the result and the log say so."""
    if result["history_error"] is None:
        assert ez.history_runs(result["run_id"]) == [("failed",)]
    else:
        assert "the run history could not be written" in done.stderr


# -- the staging disk (TMPDIR) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data_type", "columnar"),
    [("events", False), ("events", True), ("normalized", False)],
    ids=["row-path", "columnar-path", "normalizer"],
)
def test_a_full_staging_disk_leaves_the_good_file_in_landing(ez: EnvZone, data_type: str, columnar: bool) -> None:
    if columnar:  # the columnar path takes a file whose columns the table has: a first run makes it
        ez.land_valid(f"2025_01_01_fz_{data_type}.jsonl", 2)
        ez.run_to_completion()
    big = f"2025_01_02_fz_{data_type}.jsonl"
    ez.land_valid(big, 30_000)  # ~1 MB, more once staged: the 512 KB staging disk fills
    ez.land_valid("2025_01_02_fz_metrics.jsonl", 3)  # another data type goes on
    env = {} if columnar else {"INGESTOR_COLUMNAR": "0"}
    with tmpfs(ez.tmp, 0.5):
        done = ez.run("--log-level", "DEBUG", **env)
    result = ended_with_result(done)
    assert outcome(result, big) | {"bytes": 0} == {
        "path": f"{SERVICE}/landing/{big}", "service": SERVICE, "data_type": data_type, "status": "failed",
        "rows": 0, "bytes": 0, "dropped": 0, "null_lines": 0, "destination": None, "notes": [],
        "reason": f"staging failed, left in landing: {NO_SPACE}", "reason_code": "environment",
    }  # fmt: skip
    if columnar:  # the Arrow IPC write met the full disk, not a row path it handed the file to
        assert f"{big}: staged row by row" not in done.stderr
    assert outcome(result, "2025_01_02_fz_metrics.jsonl")["status"] == "loaded"
    assert ez.files("landing") == [big] and ez.files("rejected") == []
    assert ez.history_runs(result["run_id"]) == [("failed",)]
    again = ez.run_to_completion()  # with room
    assert again.returncode == 0 and outcome(json.loads(again.stdout), big)["status"] == "loaded"
    ez.check()


def test_a_memory_error_is_the_environments_fault_an_exception_the_plugins(ez: EnvZone) -> None:
    """The rule: whatever the normalizer raises rejects the file, but a MemoryError or an OSError (the machine's)."""
    ez.land("2025_01_01_fz_normalized.jsonl", ndjson([{"uid": 1}, {"uid": 2, "boom": "memory"}]))
    ez.land("2025_01_02_fz_normalized.jsonl", ndjson([{"uid": 3}, {"uid": 4, "boom": "value"}]))
    ez.land_valid("2025_01_03_fz_normalized.jsonl", 2)
    result = ended_with_result(ez.run())
    memory, value, good = (outcome(result, f"2025_01_0{d}_fz_normalized.jsonl") for d in (1, 2, 3))
    assert (memory["status"], memory["reason"]) == (
        "failed",
        "staging failed, left in landing: MemoryError: cannot allocate",
    )
    assert (memory["reason_code"], value["reason_code"]) == ("environment", "plugin_error")
    said = "line 2: the fz plugin could not normalize the record: ValueError: cannot normalize this record ("
    assert value["status"] == "rejected" and value["reason"].startswith(said)
    assert value["reason"].endswith("in fz_plugin.normalize)")  # the plugin's own line (errors.plugin_error)
    assert good["status"] == "loaded"
    assert ez.files("landing") == ["2025_01_01_fz_normalized.jsonl"]
    assert ez.files("rejected") == ["2025_01_02_fz_normalized.jsonl", "2025_01_02_fz_normalized.jsonl.reason.json"]
    assert ez.history_runs(result["run_id"]) == [("failed",)]


def test_a_staging_process_killed_fails_its_data_type_and_the_others_go_on(ez: EnvZone) -> None:
    """A staging worker process dies (as when the OOM killer takes it): no file tells which staged files it spoiled,
    so its data type's files stay in landing; the run ends with its result."""
    padding = b" " * (17 * 1024 * 1024)  # two files over 32 MB in all: staged by worker processes
    names = [f"2025_01_0{d}_fz_normalized.jsonl" for d in (1, 2)]
    for name in names:
        ez.land(name, ndjson([{"uid": 1, "boom": "kill"}]) + padding + b"\n")
    ez.land_valid("2025_01_01_fz_metrics.jsonl", 3)
    result = ended_with_result(ez.run(INGESTOR_WORKERS="2"))
    for name in names:
        failed = outcome(result, name)
        assert failed["status"] == "failed"
        assert failed["reason"].startswith("staging failed, left in landing: BrokenProcessPool: "), failed
        assert failed["reason_code"] == "environment"  # a process killed: the machine's, not the core's
    assert outcome(result, "2025_01_01_fz_metrics.jsonl")["status"] == "loaded"
    assert ez.files("landing") == names and ez.files("rejected") == []
    assert ez.history_runs(result["run_id"]) == [("failed",)]


# -- the DuckDB file's disk ------------------------------------------------------------------------------------------
@pytest.fixture
def small_database(ez: EnvZone) -> Iterator[Path]:
    """The zone's DuckDB file on a small tmpfs: each test sizes it (`remount`)."""
    with tmpfs(ez.root / "database", 64) as folder:
        ez.database = folder / "warehouse_dev.duckdb"
        yield folder


def test_a_full_disk_under_the_duckdb_file_during_a_load(ez: EnvZone, small_database: Path) -> None:
    remount(small_database, 3)
    ez.land_random("2025_01_01_fz_events.jsonl", 30_000, seed=1)  # 2.5 MB each, more in the WAL
    ez.land_random("2025_01_01_fz_metrics.jsonl", 30_000, seed=2)
    ez.land_valid("2025_01_01_fz_normalized.jsonl", 3)
    where = ("--warehouse", f"duckdb://{ez.database}")
    done = ez.run(*where)
    result = ended_with_result(done)
    failed = [f for f in result["files"] if f["status"] == "failed"]
    assert failed and ez.files("rejected") == []
    for f in failed:  # the disk's own words, not a ROLLBACK's failure that hid them
        assert f["reason"].startswith("load failed, left in landing: ") and "No space left on device" in f["reason"], f
    history_told(ez, done, result)
    remount(small_database, 64)
    assert ez.run_to_completion(*where).returncode == 0
    ez.check()


@pytest.mark.parametrize("later", [True, False], ids=["a-later-load", "no-later-load"])
def test_a_full_disk_under_the_duckdb_file_during_a_checkpoint(ez: EnvZone, small_database: Path, later: bool) -> None:
    """DuckDB checkpoints once its WAL passes 16 MB: a COMMIT is durable in the WAL, the checkpoint after it fails
    for the disk and invalidates the database. A later load fails cleanly, so does the history (the run fails for
    it even when every file loaded); the next run, with room, replays the WAL and loads the rest."""
    remount(small_database, 26)  # the WAL (~24 MB) fits, a checkpoint beside it does not
    ez.land_random("2025_01_01_fz_events.jsonl", 100_000, seed=1)
    ez.land_random("2025_01_01_fz_metrics.jsonl", 100_000, seed=2)
    ez.land_valid("2025_01_01_fz_normalized.jsonl", 3)
    if later:
        ez.land_valid("2025_01_01_fz_later.jsonl", 3)
    where = ("--warehouse", f"duckdb://{ez.database}")
    done = ez.run(*where)
    result = ended_with_result(done)
    assert "autocheckpoint failed" in done.stderr, done.stderr[-3000:]  # the case this test is about
    if later:
        last = outcome(result, "2025_01_01_fz_later.jsonl")
        assert last["status"] == "failed" and "No space left on device" in last["reason"], last
    else:
        assert result["totals"]["loaded"] == 3
    assert "No space left on device" in result["history_error"] and not result["success"]
    assert ez.files("rejected") == []
    remount(small_database, 64)
    assert ez.run_to_completion(*where).returncode == 0
    ez.check()
    # What the first run reported loaded is what it committed (a durable COMMIT is a load, whatever fails after it)
    committed = ez.query(f"SELECT source_name FROM fz_dev._ingestor_ledger WHERE run_id = '{result['run_id']}'")
    assert sorted(name for (name,) in committed) == sorted(
        f["path"] for f in result["files"] if f["status"] == "loaded"
    )


# -- the landing disk ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "status"),
    [("after_stage:1:STOP", "failed"), ("before_move:1:STOP", "rejected")],
    ids=["before-the-reason", "after-the-reason"],
)
def test_a_full_landing_disk_during_a_move(ez: EnvZone, fault: str, status: str) -> None:
    """The landing zone's disk fills while the run is frozen: before a rejected file's reason is written (it cannot
    be: the file stays in landing, FAILED, nothing half-written left), or once it is (the move itself needs no room:
    the file is rejected). Either way the result says where each file is."""
    with tmpfs(ez.landing, 1) as landing:
        ez.land_valid("2025_01_01_fz_events.jsonl", 3)
        ez.land_rejected("2025_01_01_fz_metrics.jsonl", b'{"uid": -1}\n{"uid": \n')
        first = ez.start(fault=fault)
        try:
            wait_stopped(first)
            filler = fill(landing)
        finally:
            first.send_signal(signal.SIGCONT)
            out, err = first.communicate(timeout=60)
        result = ended_with_result(subprocess.CompletedProcess(first.args, first.returncode, out, err))
        rejected = outcome(result, "2025_01_01_fz_metrics.jsonl")
        assert rejected["status"] == status, rejected
        if status == "failed":
            assert rejected["reason"].endswith(f"move failed, left in landing: {NO_SPACE}")
            assert ez.files("rejected") == []  # no reason file, not even a hidden temporary one
        for f in result["files"]:  # the result says where each file is
            assert (landing / (f["destination"] or f["path"])).is_file(), f
        filler.unlink()
        ez.run_to_completion()
        ez.check()


def test_a_landing_disk_too_full_for_the_lease_ends_the_run_with_one_line(ez: EnvZone) -> None:
    """The run cannot take its lease (a file in the landing zone): nothing is done, and it says so in one line."""
    with tmpfs(ez.landing, 1) as landing:
        ez.land_valid("2025_01_01_fz_events.jsonl", 3)
        filler = fill(landing)
        done = ez.run()
        assert (done.returncode, done.stdout) == (1, "") and "Traceback" not in done.stderr, done.stderr[-3000:]
        assert done.stderr.endswith(
            f"Error: the run stopped: {NO_SPACE}; what it did not settle stays in landing for the next run\n"
        )
        assert ez.files("landing") == ["2025_01_01_fz_events.jsonl"]
        filler.unlink()
        ez.run_to_completion()
        ez.check()
