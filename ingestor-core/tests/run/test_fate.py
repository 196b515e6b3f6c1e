"""`fate.decide`: every way a file can end, from the record of what happened to it (a pure function)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ingestor.errors import ReasonCode
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
    ("happened", "status", "reason", "destination", "rows", "code"),
    [
        (
            replace(BASE, rejected_by_scan="no data type matches", scan_code=ReasonCode.NO_DATA_TYPE),
            "rejected",
            "no data type matches",
            REJECTED,
            0,
            "no_data_type",
        ),
        (
            replace(BASE, unreadable="boom"),
            "failed",
            "the warehouse could not be read, left in landing: boom",
            None,
            0,
            "warehouse_unavailable",
        ),
        (
            replace(BASE, not_tried="timeout"),
            "failed",
            f"not tried, left in landing: the warehouse failed on {BASE.data_type} earlier in this run: timeout",
            None,
            0,
            "not_tried",
        ),
        (
            replace(BASE, already_loaded=True),
            "already_loaded",
            "the ledger shows it loaded; archived without loading again",
            ARCHIVE,
            0,
            None,
        ),
        (
            replace(BASE, staged=Staged(reason="record too long at line 2: x", code=ReasonCode.RECORD_TOO_LONG)),
            "rejected",
            None,
            REJECTED,
            0,
            "record_too_long",
        ),
        (
            replace(BASE, staged=Staged(reason="[Errno 28] No space left", code=ReasonCode.ENVIRONMENT, failed=True)),
            "failed",
            "staging failed, left in landing: [Errno 28] No space left",
            None,
            0,
            "environment",
        ),
        (replace(BASE, staged=Staged(path=Path("x"))), "empty", "empty file: no records", ARCHIVE, 0, None),
        (
            replace(BASE, staged=Staged(path=Path("x"), dropped=4)),
            "empty",
            "no rows: the normalizer dropped all 4 records",
            ARCHIVE,
            0,
            None,
        ),
        (replace(BASE, staged=Staged(path=Path("x")), earlier=EARLIER), "empty", EARLIER, ARCHIVE, 0, None),
        (replace(BASE, staged=ROWS, load=Load(notes=("n",))), "loaded", None, ARCHIVE, 3, None),
        (replace(BASE, staged=ROWS, load=Load(), earlier=EARLIER), "loaded", EARLIER, ARCHIVE, 3, None),
        (
            replace(BASE, staged=ROWS, load=Load(error="bad", code=ReasonCode.WAREHOUSE_REFUSED)),
            "rejected",
            "the warehouse refused the rows: bad",
            REJECTED,
            0,
            "warehouse_refused",
        ),
        (
            replace(BASE, staged=ROWS, load=Load(error="down", code=ReasonCode.DEADLINE)),
            "failed",
            "load failed, left in landing: down",
            None,
            0,
            "deadline",
        ),
        (
            replace(BASE, staged=ROWS, load=Load(error="no memory", code=ReasonCode.TOO_LARGE)),
            "failed",
            "load failed, left in landing: no memory",
            None,
            0,
            "too_large",
        ),
        (replace(BASE, staged=ROWS, dry_run=True), "planned", None, None, 3, None),
        (
            replace(BASE, rejected_by_scan="ambiguous", scan_code=ReasonCode.AMBIGUOUS_DATA_TYPE, dry_run=True),
            "would_reject",
            "ambiguous",
            None,
            0,
            "ambiguous_data_type",
        ),
    ],
)
def test_decide(
    happened: Happened, status: str, reason: str | None, destination: str | None, rows: int, code: str | None
) -> None:
    outcome = decide(happened)
    expected_reason = reason if reason is not None or happened.staged is None else happened.staged.reason
    assert (outcome.status, outcome.reason, outcome.destination, outcome.rows) == (
        FileStatus(status),
        expected_reason,
        destination,
        rows,
    )
    assert outcome.path == FILE.name and outcome.bytes == 42 and outcome.data_type == "events"
    assert outcome.reason_code == code  # a stable code for every rejected or failed file, none for the others


def test_counts_and_notes_follow_the_staged_file() -> None:
    loaded = decide(replace(BASE, staged=ROWS, load=Load(notes=("a note",))))
    assert (loaded.dropped, loaded.null_lines, loaded.notes) == (1, 2, ["a note"])
    failed = decide(replace(BASE, staged=ROWS, load=Load(error="down")))
    assert (failed.rows, failed.dropped, failed.null_lines, failed.notes) == (0, 1, 2, [])
