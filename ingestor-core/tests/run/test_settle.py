"""`ingestor.run.settle`: the settler decides each file's fate from its record, moves the file where the outcome says,
and keeps the run's outcomes, each in its file's place in scan order whatever order the files settle in (a stopped
run lists those settled). Real local landing zone."""

from __future__ import annotations

from pathlib import Path

from ingestor.errors import ReasonCode
from ingestor.landing import open_landing
from ingestor.result import FileOutcome
from ingestor.run.fate import Happened, refused
from ingestor.run.settle import Settler
from ingestor.settings import Settings
from ingestor.staging.row_path import Staged

NAMES = ["fz/landing/a_stray.txt", "fz/landing/b_fz_events.jsonl", "fz/landing/c_fz_events.jsonl"]


def test_outcomes_keep_scan_order_whatever_order_files_settle_in(tmp_path: Path) -> None:
    for name in NAMES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('{"id": 1}\n')
    landing = open_landing(tmp_path.as_uri(), Settings())
    files = {file.name: file for file in landing.list("fz/landing/")}
    stray, empty, loaded = (files[name] for name in NAMES)
    records = [
        Happened(stray, "fz", rejected_by_scan="no data type matches"),
        Happened(empty, "fz", "events", staged=Staged()),
        Happened(loaded, "fz", "events", already_loaded=True),
    ]
    heard: list[FileOutcome] = []
    settler = Settler(landing, "run-1", False, heard.append)
    settler.expect(records)
    settler.settle(records[2:])  # the last file's fate is known first
    assert [o.path for o in settler.outcomes] == [NAMES[2]]  # what a stopped run would list: what settled
    settler.settle(records[:2])
    settler.report(
        refused("gone", "service gone is disabled", ReasonCode.PLUGIN_ERROR)
    )  # a service it could not run: after the others
    assert [(o.path, o.status.value) for o in settler.outcomes] == [
        (NAMES[0], "rejected"),
        (NAMES[1], "empty"),
        (NAMES[2], "already_loaded"),
        ("gone/landing/", "failed"),
    ]
    assert [o.path for o in heard] == [NAMES[2], NAMES[0], NAMES[1], "gone/landing/"]  # as they settled
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "fz/archive/b_fz_events.jsonl",
        "fz/archive/c_fz_events.jsonl",
        "fz/rejected/a_stray.txt",
        "fz/rejected/a_stray.txt.reason.json",
    ]
