"""Progress in parts (ingestor/run/parts.py), with the real command: a data type's files load in parts of
INGESTOR_PART_FILES files, each committed and settled, its staged files deleted, before the next is staged; the
schema grows from part to part; a run killed after a part keeps it, and the next run finishes exactly once."""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pytest

from .conftest import SERVICE, Zone, wait_stopped

pytestmark = pytest.mark.timeout(120)
KILLED = -signal.SIGKILL
TWO = {"INGESTOR_PART_FILES": "2"}
HISTORY = "dp_ops_dev._ingestor_history"


def _events(zone: Zone, n: int) -> list[list[int]]:
    """`n` valid events files (the parts of two, in name order): each one's record ids."""
    return [zone.land_valid(f"2025_02_{day:02d}_fz_events.jsonl", 3) for day in range(1, n + 1)]


def _result(out: str) -> dict:  # type: ignore[type-arg]
    return orjson.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def test_a_run_in_parts_loads_every_record_once_and_adds_them_up(zone: Zone) -> None:
    """The standard corpus and a column that arrives as an integer in one part and a float in the next; events
    take three parts of two files (a rejected and an empty file among them), metrics the fourth."""
    zone.standard_corpus()
    zone.land_valid("2025_01_05_fz_events.jsonl", 2, score=1)
    zone.land_valid("2025_01_06_fz_events.jsonl", 2, score=0.5)
    done = zone.run_to_completion(**TWO)
    zone.check()
    assert [f"part {n} of 4" in done.stderr for n in (1, 2, 3, 4)] == [True] * 4
    # each part committed on its own: the loaded files' history rows, written in the loads, have 4 commit times
    commits = f"SELECT count(DISTINCT recorded_at) FROM {HISTORY} WHERE kind = 'file' AND status = 'loaded'"
    assert zone.query(commits) == [(4,)]
    result = _result(done.stdout)
    names = [f["path"].removeprefix(f"{SERVICE}/landing/") for f in result["files"]]
    assert names == [  # scan order, as in one part
        "notes.txt",
        "2025_01_01_fz_events.jsonl",
        "2025_01_03_fz_events.jsonl",
        "2025_01_04_fz_events.jsonl",
        "2025_01_05_fz_events.jsonl",
        "2025_01_06_fz_events.jsonl",
        "sub/2025_01_02_fz_events.jsonl.gz",
        "2025_01_01_fz_metrics.jsonl",
        "2025_01_02_fz_metrics.jsonl",
    ]
    events, metrics = result["tables"]
    assert (events["files"], events["rows"], metrics["files"], metrics["rows"]) == (4, 9, 2, 5)
    assert events["created"] and "score INT64" in events["columns_added"]  # in part 2, widened in part 3
    assert events["columns_widened"] == ["score INT64 -> FLOAT64"]
    assert (
        zone.query("SELECT score FROM fz_dev.events WHERE score IS NOT NULL ORDER BY score")
        == [(0.5,)] * 2 + [(1.0,)] * 2
    )


@pytest.mark.parametrize(
    ("fault", "committed"),
    [
        ("after_stage:2", 0),  # part 2 staged: part 1 committed and settled, nothing of part 2 loaded
        ("after_commit:2", 2),  # part 2 committed, not settled: the next run archives it from the ledger
    ],
)
def test_a_run_killed_after_a_part_keeps_it_and_the_next_finishes_once(zone: Zone, fault: str, committed: int) -> None:
    files = _events(zone, 5)
    assert zone.run(fault=fault, **TWO).returncode == KILLED
    first, second = sorted(zone.expect.valid)[:2], sorted(zone.expect.valid)[2:4]
    assert zone.files("archive") == first  # part 1 settled
    assert sorted(uid for uid, _ in zone.rows()) == sorted(u for uids in files[: 2 + committed] for u in uids)
    assert [name.removeprefix(f"{SERVICE}/landing/") for name, _ in zone.ledger()] == (first + second)[: 2 + committed]
    assert zone.files("landing") == sorted(set(zone.expect.valid) - set(first))
    again = _result(zone.run_to_completion(**TWO).stdout)
    zone.check()
    statuses = [f["status"] for f in again["files"]]
    assert statuses == ["already_loaded"] * committed + ["loaded"] * (3 - committed)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_parts_staged_files_are_gone_once_it_settled(zone: Zone, dry_run: bool) -> None:
    """Stopped once part 2 is staged: the staging folder holds part 2's rows and nothing of part 1. A dry run goes
    in parts too, and writes nothing."""
    files = _events(zone, 5)
    args = ["--dry-run"] if dry_run else []
    process = zone.start(*args, fault="after_stage:2:STOP", **TWO)
    try:
        wait_stopped(process)
        staged = [path for path in zone.tmp.rglob("*") if path.is_file()]
        uids = sorted(orjson.loads(line)["uid"] for path in staged for line in path.read_bytes().splitlines())
        assert (len(staged), uids) == (2, files[2] + files[3])
        assert zone.files("archive") == ([] if dry_run else sorted(zone.expect.valid)[:2])
    finally:
        process.send_signal(signal.SIGCONT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert _staging_folders(zone.tmp) == []
    if dry_run:
        result = _result(out)
        assert [f["status"] for f in result["files"]] == ["planned"] * 5 and result["tables"][0]["rows"] == 15
        assert not zone.database.exists() and zone.files("archive") == []
    else:
        zone.check()


def _staging_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("ingestor-stage-"))
