"""SIGKILL at every step boundary of a real `ingestor run`, then a run to completion: nothing lost, nothing twice.

The standard corpus settles in this order (7 moves): the unknown `notes.txt` (rejected at scan), then events:
the malformed file (rejected while staging), the empty file (archived), the two loaded files; then metrics: its
two loaded files. The fault points are described in ingestor/run/faults.py.
"""

from __future__ import annotations

import random
import signal
import subprocess

import pytest

from .conftest import SERVICE, Zone

pytestmark = pytest.mark.timeout(120)
KILLED = -signal.SIGKILL


@pytest.mark.parametrize(
    "fault",
    [
        "after_stage:1",  # events read and staged (its rejected/empty files settled), metrics not yet
        "after_stage:2",  # both types staged (loads run after all staging), nothing loaded
        "before_publish:2",  # inside the metrics DuckDB transaction: rows inserted, ledger not (events done before)
        "after_commit:2",  # metrics rows + ledger committed, not moved (events done before)
        "before_move:1",  # the very first move: a rejected file, its reason already written
        "before_move:5",  # halfway through the moves: a loaded events file, committed, not moved
        "mid_move:1",  # a rejected file linked into rejected/, not yet removed from landing
        "mid_move:4",  # a loaded file linked into archive/, not yet removed from landing
        "mid_move:7",  # the last move, half done
    ],
)
def test_sigkill_at_a_step_boundary_then_rerun(zone: Zone, fault: str) -> None:
    zone.standard_corpus()
    crashed = zone.run(fault=fault)
    assert crashed.returncode == KILLED, crashed.stderr[-3000:]
    assert (zone.landing / SERVICE / "_state" / "lease.json").exists()  # the dead run's lease stays behind
    zone.run_to_completion()
    zone.check()


def test_a_killed_transaction_leaves_nothing_behind(zone: Zone) -> None:
    """DuckDB: rows and ledger are one transaction; a kill between them leaves neither, and the next run
    loads every file once."""
    zone.standard_corpus()
    assert zone.run(fault="before_publish:1").returncode == KILLED
    assert zone.rows() == [] and zone.ledger() == []
    assert "2025_01_01_fz_events.jsonl" in zone.files("landing")
    zone.run_to_completion()
    zone.check()


def test_a_kill_after_commit_is_settled_from_the_ledger(zone: Zone) -> None:
    """Committed but not moved: the next run archives from the ledger (`already_loaded`), loading nothing again."""
    zone.standard_corpus()
    assert zone.run(fault="after_commit:1").returncode == KILLED
    assert len(zone.rows()) == 5 and len(zone.ledger()) == 2
    done = zone.run_to_completion()
    statuses = {f["path"].removeprefix(f"{SERVICE}/landing/"): f["status"] for f in _result(done)["files"]}
    assert statuses["2025_01_01_fz_events.jsonl"] == statuses["sub/2025_01_02_fz_events.jsonl.gz"] == "already_loaded"
    assert statuses["2025_01_01_fz_metrics.jsonl"] == "loaded"
    zone.check()


def test_kills_at_random_moments_until_done(zone: Zone) -> None:
    """Chaos: SIGKILL at random moments (any instruction, inside DuckDB's commit too) until a run completes."""
    rng = random.Random(5)
    for day in range(1, 9):
        zone.land_valid(f"2025_02_{day:02d}_fz_events.jsonl", 200)
        zone.land_valid(f"d{day % 3}/2025_02_{day:02d}_fz_metrics.jsonl.gz", 100)
    zone.land_rejected("2025_02_13_fz_events.jsonl", b'{"uid": -5}\n[1]\n')
    codes = [zone.run(fault="before_move:6").returncode]  # one sure kill, whatever the machine's speed
    for delay in [rng.uniform(0.3, 2.5) for _ in range(8)]:
        process = zone.start()
        try:
            codes.append(process.wait(timeout=delay))
        except subprocess.TimeoutExpired:
            process.kill()
            codes.append(process.wait(timeout=30))
        finally:
            process.communicate(timeout=30)
        if codes[-1] in (0, 1):
            break
    assert codes[0] == KILLED and set(codes) <= {KILLED, 0, 1}, codes
    zone.run_to_completion()  # and once more: nothing left, nothing loaded again
    zone.check()


def _result(done: object) -> dict:  # type: ignore[type-arg]
    import orjson

    out = done.stdout  # type: ignore[attr-defined]
    return orjson.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def test_staging_left_by_a_kill_is_removed_by_the_next_run(zone: Zone) -> None:
    """A killed run leaves its staging folder (SIGKILL runs no cleanup; on Cloud Run it takes memory): the next run
    removes it at start, saying so, and cleans its own."""
    zone.standard_corpus()
    assert zone.run(fault="after_commit:1").returncode == KILLED
    leftovers = sorted(p.name for p in zone.tmp.iterdir())
    assert len(leftovers) == 1 and leftovers[0].startswith("ingestor-stage-")
    done = zone.run_to_completion()
    assert list(zone.tmp.iterdir()) == []
    assert f"removed {zone.tmp / leftovers[0]}: the staging folder of a run that ended without" in done.stderr
    zone.check()


def test_the_history_survives_a_kill_like_the_ledger(zone: Zone) -> None:
    """A killed transaction leaves no history row; a kill after the commit leaves the loaded files' rows (written in
    the commit) and no run row; the next run adds its own, and every loaded file is `loaded` exactly once. (The
    files the killed run had rejected are in rejected/ with their reason, not in the history: see history.py.)"""
    history = "SELECT object_name, status, run_id FROM dp_ops_dev._ingestor_history WHERE kind = 'file'"
    zone.standard_corpus()
    assert zone.run(fault="before_publish:1").returncode == KILLED
    assert zone.query("SELECT count(*) FROM information_schema.tables WHERE table_name = '_ingestor_history'") == [(0,)]
    assert zone.run(fault="after_commit:1").returncode == KILLED
    crashed = zone.query(history)
    assert sorted((name, status) for name, status, _ in crashed) == [
        (f"{SERVICE}/landing/2025_01_01_fz_events.jsonl", "loaded"),
        (f"{SERVICE}/landing/sub/2025_01_02_fz_events.jsonl.gz", "loaded"),
    ]
    assert zone.query("SELECT count(*) FROM dp_ops_dev._ingestor_history WHERE kind = 'run'") == [(0,)]
    done = _result(zone.run_to_completion())
    zone.check()
    rows = zone.query(history)
    loaded = sorted(name for name, status, _ in rows if status == "loaded")
    assert loaded == sorted(name for name, _ in zone.ledger())  # each loaded file once, as in the ledger
    again = {name: status for name, status, run_id in rows if run_id == done["run_id"]}
    assert again[f"{SERVICE}/landing/2025_01_01_fz_events.jsonl"] == "already_loaded"
    assert again[f"{SERVICE}/landing/2025_01_01_fz_metrics.jsonl"] == "loaded"
    assert "rejected" not in again.values()  # settled by the killed run
    runs = zone.query("SELECT run_id, status, files FROM dp_ops_dev._ingestor_history WHERE kind = 'run'")
    assert runs == [(done["run_id"], "succeeded", len(done["files"]))]
