"""`fate.decide`: every way a file can end, from the record of what happened to it (a pure function)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ingestor.landing import LandingFile
from ingestor.result import FileStatus
from ingestor.run.fate import Happened, Load, decide
from ingestor.staging.row_path import Staged

FILE = LandingFile("acme/landing/sub/2025_01_01_acme_events.jsonl", 42, "1")
BASE = Happened(FILE, "acme", "events")
ROWS = Staged(rows=3, path=Path("x.jsonl"), dropped=1, null_lines=2)
EARLIER = "an earlier version of it (10 bytes, 1 records) was loaded by run r; loaded whole"
ARCHIVE, REJECTED = "acme/archive/sub/2025_01_01_acme_events.jsonl", "acme/rejected/sub/2025_01_01_acme_events.jsonl"


@pytest.mark.parametrize(
    ("happened", "status", "reason", "destination", "rows"),
    [
        (replace(BASE, rejected_by_scan="no data type matches"), "rejected", "no data type matches", REJECTED, 0),
        (
            replace(BASE, unreadable="boom"),
            "failed",
            "the warehouse could not be read, left in landing: boom",
            None,
            0,
        ),
        (
            replace(BASE, not_tried="timeout"),
            "failed",
            f"not tried, left in landing: the warehouse failed on {BASE.data_type} earlier in this run: timeout",
            None,
            0,
        ),
        (
            replace(BASE, already_loaded=True),
            "already_loaded",
            "the ledger shows it loaded; archived without loading again",
            ARCHIVE,
            0,
        ),
        (replace(BASE, staged=Staged(reason="malformed NDJSON at line 2: x")), "rejected", None, REJECTED, 0),
        (replace(BASE, staged=Staged(path=Path("x"))), "empty", "empty file: no records", ARCHIVE, 0),
        (
            replace(BASE, staged=Staged(path=Path("x"), dropped=4)),
            "empty",
            "no rows: the normalizer dropped all 4 records",
            ARCHIVE,
            0,
        ),
        (replace(BASE, staged=Staged(path=Path("x")), earlier=EARLIER), "empty", EARLIER, ARCHIVE, 0),
        (replace(BASE, staged=ROWS, load=Load(notes=("n",))), "loaded", None, ARCHIVE, 3),
        (replace(BASE, staged=ROWS, load=Load(), earlier=EARLIER), "loaded", EARLIER, ARCHIVE, 3),
        (
            replace(BASE, staged=ROWS, load=Load(error="bad", refused=True)),
            "rejected",
            "the warehouse refused the rows: bad",
            REJECTED,
            0,
        ),
        (replace(BASE, staged=ROWS, load=Load(error="down")), "failed", "load failed, left in landing: down", None, 0),
        (replace(BASE, staged=ROWS, dry_run=True), "planned", None, None, 3),
        (replace(BASE, rejected_by_scan="ambiguous", dry_run=True), "would_reject", "ambiguous", None, 0),
    ],
)
def test_decide(happened: Happened, status: str, reason: str | None, destination: str | None, rows: int) -> None:
    outcome = decide(happened)
    expected_reason = reason if reason is not None or happened.staged is None else happened.staged.reason
    assert (outcome.status, outcome.reason, outcome.destination, outcome.rows) == (
        FileStatus(status),
        expected_reason,
        destination,
        rows,
    )
    assert outcome.path == FILE.name and outcome.bytes == 42 and outcome.data_type == "events"


def test_counts_and_notes_follow_the_staged_file() -> None:
    loaded = decide(replace(BASE, staged=ROWS, load=Load(notes=("a note",))))
    assert (loaded.dropped, loaded.null_lines, loaded.notes) == (1, 2, ["a note"])
    failed = decide(replace(BASE, staged=ROWS, load=Load(error="down")))
    assert (failed.rows, failed.dropped, failed.null_lines, failed.notes) == (0, 1, 2, [])
