"""SIGTERM (Cloud Run stopping a task): the run ends cleanly with exit 143, releases its lease, leaves nothing the
next run cannot finish; the transaction in flight rolls back (or had committed)."""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

import pytest

from ingestor.run import faults, stopping
from ingestor.testing import Harness

from .conftest import SERVICE, Zone, plugin_module, wait_stopped

SLOW_PLUGIN = '''
"""A plugin whose loading takes long enough for the SIGTERM of a task stopped during start-up to come meanwhile
(it sends it itself, to be sure of the moment)."""
import os, signal, time

os.kill(os.getpid(), signal.SIGTERM)
time.sleep(30)
'''

pytestmark = pytest.mark.timeout(120)
TERMINATED = 143


def _terminated_cleanly(done_returncode: int, stderr: str) -> None:
    assert done_returncode == TERMINATED, stderr[-3000:]
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("fault", "rows_after"),
    [
        ("before_publish:1", 0),  # mid-transaction: rolled back, not a row stays
        ("after_commit:1", 5),  # committed just before: the rows stay, the ledger says so
        ("mid_move:4", 5),  # in the middle of a move
        ("after_stage:2", 0),  # all staged, before any load
    ],
)
def test_sigterm_at_a_precise_point(zone: Zone, fault: str, rows_after: int) -> None:
    zone.standard_corpus()
    done = zone.run(fault=f"{fault}:TERM")
    _terminated_cleanly(done.returncode, done.stderr)
    assert len(zone.rows()) == rows_after and sum(n for _, n in zone.ledger()) == rows_after
    assert not (zone.landing / SERVICE / "_state").exists()  # lease released
    runs = zone.query("SELECT status FROM dp_ops_dev._ingestor_history WHERE kind = 'run'")
    assert runs == [("stopped",)], done.stderr  # even from inside a transaction: it was rolled back first
    zone.run_to_completion()
    zone.check()


def test_a_stopped_run_records_what_it_settled_in_the_history(zone: Zone) -> None:
    """Stopped once every data type is staged, before any load: the files that settled before the stop (two
    rejected, one empty) have their history rows, and the run its own, `stopped`."""
    zone.standard_corpus()
    done = zone.run(fault="after_stage:2:TERM")
    _terminated_cleanly(done.returncode, done.stderr)
    history = "dp_ops_dev._ingestor_history"
    files = zone.query(f"SELECT status, object_name FROM {history} WHERE kind = 'file' ORDER BY object_name")
    assert files == [
        ("rejected", f"{SERVICE}/landing/2025_01_03_fz_events.jsonl"),
        ("empty", f"{SERVICE}/landing/2025_01_04_fz_events.jsonl"),
        ("rejected", f"{SERVICE}/landing/notes.txt"),
    ]
    assert zone.query(f"SELECT status, files, rows FROM {history} WHERE kind = 'run'") == [("stopped", 3, 0)]
    zone.run_to_completion()
    zone.check()
    runs = zone.query(f"SELECT status FROM {history} WHERE kind = 'run' ORDER BY recorded_at")
    assert runs[0] == ("stopped",) and len(runs) >= 2


def test_sigterm_from_outside(zone: Zone) -> None:
    """The signal as Cloud Run sends it, from another process, while the run is at work."""
    zone.standard_corpus()
    process = zone.start(fault="after_stage:1:STOP")
    wait_stopped(process)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGCONT)
    _, stderr = process.communicate(timeout=60)
    _terminated_cleanly(process.returncode, stderr)
    assert zone.rows() == [] and "2025_01_01_fz_events.jsonl" in zone.files("landing")
    zone.run_to_completion()
    zone.check()


def test_sigterm_during_start_up(tmp_path: Path) -> None:
    """SIGTERM while the plugins load, before the run handles signals: exit 143 with a message, not death by the
    signal (before: -15)."""
    site = tmp_path / "site"  # the distribution the zone loads (ingestor-fz), here this slow one
    info = site / "ingestor_fz-0.0.1.dist-info"
    info.mkdir(parents=True)
    (site / "slow_plugin.py").write_text(SLOW_PLUGIN)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ingestor-fz\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text("[ingestor]\nfz = slow_plugin\n")
    done = Zone(tmp_path, site).run()
    assert done.returncode == TERMINATED, done.stderr[-3000:]
    assert "stopped by SIGTERM" in done.stderr and "Traceback" not in done.stderr


def test_the_handlers_are_only_installed_during_a_run(tmp_path: object) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    h = Harness(tmp_path, plugin_module())  # type: ignore[arg-type]
    h.land(f"{SERVICE}/landing/2025_01_01_fz_events.jsonl", [{"uid": 1}])
    seen = []
    faults.install(lambda point: seen.append(signal.getsignal(signal.SIGINT)) if point == "after_stage" else None)
    try:
        assert h.run("--service", SERVICE).exit_code == 0
    finally:
        faults.install(None)
    assert seen and seen[0] is not before[1]  # the run's own, while it ran
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


LONG_QUERY = "SELECT sum(a * b) FROM range(2000000000) t(a), range(5) u(b)"  # a minute, unless interrupted


def _interrupted_query(signum: int = signal.SIGTERM) -> None:
    """A real DuckDB query in this thread, the signal arriving while it runs: DuckDB's Python client turns the
    exception the handler raised into RuntimeError("Query interrupted")."""
    import os

    import duckdb

    con = duckdb.connect(config={"threads": 1})  # this thread runs every task and checks for signals between them
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signum))
    timer.start()
    try:
        con.execute(LONG_QUERY).fetchall()
    finally:
        timer.cancel()
        con.close()


@pytest.mark.parametrize(
    ("signum", "stop"), [(signal.SIGTERM, stopping.Terminated), (signal.SIGINT, KeyboardInterrupt)]
)
def test_a_stop_a_library_swallowed_still_ends_the_run(signum: int, stop: type[BaseException]) -> None:
    with pytest.raises(stop), stopping.honoured(), contextlib.suppress(RuntimeError):
        _interrupted_query(signum)  # (the RuntimeError taken as any `except Exception` would)
    stopping.check()  # the stop belonged to that block: nothing left asked


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGTERM, TERMINATED), (signal.SIGINT, 130)])
def test_a_stop_swallowed_mid_load_rolls_back_and_moves_nothing(tmp_path: Path, signum: int, exit_code: int) -> None:
    """SIGTERM or Ctrl-C interrupts a real DuckDB query inside the load's transaction (the `before_publish`
    point): the load fails with "Query interrupted" and rolls back, yet the run ends as stopped (143, or 130)
    with both files still in landing and no row stored; the next run loads them. (Before: the first file FAILED,
    the second loaded.)"""
    h = Harness(tmp_path, plugin_module())
    h.land(f"{SERVICE}/landing/2025_01_01_fz_events.jsonl", [{"uid": 1}, {"uid": 2}])
    h.land(f"{SERVICE}/landing/2025_01_01_fz_metrics.jsonl", [{"uid": 3}])
    faults.install(lambda point: _interrupted_query(signum) if point == "before_publish" else None)
    try:
        stopped = h.run("--service", SERVICE)
    finally:
        faults.install(None)
    assert stopped.exit_code == exit_code, stopped.output
    assert h.files() == [
        f"{SERVICE}/landing/2025_01_01_fz_events.jsonl",
        f"{SERVICE}/landing/2025_01_01_fz_metrics.jsonl",
    ]
    tables = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fz_dev'"
    assert h.query(tables) == []  # its one transaction rolled back
    assert h.query("SELECT kind, status FROM dp_ops_dev._ingestor_history") == [("run", "stopped")]
    assert h.run("--service", SERVICE).exit_code == 0
    assert h.files() == [
        f"{SERVICE}/archive/2025_01_01_fz_events.jsonl",
        f"{SERVICE}/archive/2025_01_01_fz_metrics.jsonl",
    ]
    assert h.query("SELECT uid FROM fz_dev.events UNION ALL SELECT uid FROM fz_dev.metrics ORDER BY uid") == [
        (1,),
        (2,),
        (3,),
    ]
