"""Messages a person reads once: a malformed line's reason says its line once (and its column); the summary's
table counts every file of a type as the footer does (already loaded ones too), and the null lines; a file
no data type matches comes with the patterns tried."""

from __future__ import annotations

import json

from ingestor.testing import Harness

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
