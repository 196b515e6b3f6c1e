"""The engine end to end through the CLI, on a local folder + a DuckDB file."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from ingestor.landing.local import LocalLanding
from ingestor.result import IngestResult
from ingestor.testing import Harness

EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"


def result_of(run) -> IngestResult:  # type: ignore[no-untyped-def]
    return IngestResult.model_validate_json(run.stdout)


def by_path(result: IngestResult) -> dict[str, str]:
    return {f.path: f.status.value for f in result.files}


def test_loads_archives_and_records_the_ledger(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    harness.land("acme/landing/sub/dir/2025_01_02_00_00_acme_events.jsonl", [{"id": 3}])
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    result = result_of(run)
    assert result.success and result.totals["loaded"] == 2 and result.totals["rows"] == 3
    assert harness.files() == [
        "acme/archive/2025_01_01_00_00_acme_events.jsonl",
        "acme/archive/sub/dir/2025_01_02_00_00_acme_events.jsonl",
    ]
    assert harness.query("SELECT id, name, _source_file FROM lake_dev.acme__events ORDER BY id") == [
        (1, "a", EVENTS),
        (2, "b", EVENTS),
        (3, None, "acme/landing/sub/dir/2025_01_02_00_00_acme_events.jsonl"),
    ]
    ledger = harness.query("SELECT source_name, rows, run_id FROM lake_dev._ingestor_ledger ORDER BY source_name")
    assert [(name, rows) for name, rows, _ in ledger] == [
        (EVENTS, 2),
        ("acme/landing/sub/dir/2025_01_02_00_00_acme_events.jsonl", 1),
    ]
    assert {run_id for *_, run_id in ledger} == {result.run_id}
    inserted = harness.query("SELECT DISTINCT typeof(_dp_inserted_at) FROM lake_dev.acme__events")
    assert inserted == [("TIMESTAMP WITH TIME ZONE",)]


def test_a_null_line_is_skipped_counted_and_the_rest_loaded(harness: Harness) -> None:
    harness.land(EVENTS, b'{"id": 1}\nnull\n{"id": 2}\nnull\n')
    only_nulls = "acme/landing/2025_01_02_00_00_acme_events.jsonl"
    harness.land(only_nulls, b"null\n")
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stderr
    outcomes = {f.path: (f.status.value, f.rows, f.null_lines) for f in result_of(run).files}
    assert outcomes == {EVENTS: ("loaded", 2, 2), only_nulls: ("empty", 0, 1)}
    assert harness.query("SELECT id FROM lake_dev.acme__events ORDER BY id") == [(1,), (2,)]


def test_rerun_after_success_loads_nothing(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    second = harness.run("--service", "acme", "--json")
    assert second.exit_code == 0 and result_of(second).files == []
    assert harness.query("SELECT count(*) FROM lake_dev.acme__events") == [(1,)]


def test_malformed_line_rejects_the_whole_file_with_its_line_number(harness: Harness) -> None:
    harness.land(EVENTS, '{"id": 1}\n{"id": 2}\n{"id": 3,,}\n{"id": 4}\n')
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 10}])
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 1
    outcome = next(f for f in result_of(run).files if f.path == EVENTS)
    assert outcome.status.value == "rejected" and "line 3" in (outcome.reason or "")
    assert harness.query("SELECT id FROM lake_dev.acme__events") == [(10,)]  # nothing of the bad file
    reason = json.loads((harness.landing / "acme/rejected/2025_01_01_00_00_acme_events.jsonl.reason.json").read_text())
    assert "line 3" in reason["reason"] and reason["file"] == EVENTS


def test_rejected_file_leaves_no_schema_trace(harness: Harness) -> None:
    harness.land(EVENTS, '{"id": 1, "only_in_bad_file": "x"}\nnot json\n')
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 2}])
    assert harness.run("--service", "acme").exit_code == 1
    columns = [row[0] for row in harness.query("DESCRIBE lake_dev.acme__events")]
    assert "only_in_bad_file" not in columns


def test_empty_file_is_archived_and_reported_empty(harness: Harness) -> None:
    harness.land(EVENTS, "")
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", "\n\n")
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0
    assert set(by_path(result_of(run)).values()) == {"empty"}
    assert harness.files("acme/landing") == []
    assert len(harness.files("acme/archive")) == 2


def test_unknown_file_is_rejected_with_reason_and_unrequested_type_untouched(harness: Harness) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_unknown.jsonl", [{"id": 1}])
    harness.land("acme/landing/notes.txt", "hello")
    harness.land("acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl", [{"seen": "2025-01-01T00:00:00Z"}])
    harness.land(EVENTS, [{"id": 1}])
    run = harness.run("--service", "acme", "--data-types", "events", "--json")
    assert run.exit_code == 1
    statuses = by_path(result_of(run))
    assert statuses["acme/landing/2025_01_01_00_00_acme_unknown.jsonl"] == "rejected"
    assert statuses["acme/landing/notes.txt"] == "rejected"
    assert "acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl" not in statuses
    assert harness.files("acme/landing") == ["acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl"]
    reason = json.loads((harness.landing / "acme/rejected/notes.txt.reason.json").read_text())
    assert reason["reason"] == "no data type matches"


def test_anchored_suffix_and_longest_type_wins(harness: Harness) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_bob_smith_player_profile.jsonl", [{"x": 1}])
    harness.land("acme/landing/2025_01_01_00_00_acme_bob_smith_profile.jsonl", [{"seen": "2025-01-01T10:00:00+02:00"}])
    harness.land("acme/landing/2025_01_01_00_00_acme_events_backup.jsonl", [{"id": 1}])
    run = harness.run("--service", "acme", "--json")
    outcomes = {f.path.rsplit("/", 1)[1]: f for f in result_of(run).files}
    assert outcomes["2025_01_01_00_00_acme_bob_smith_player_profile.jsonl"].data_type == "player_profile"
    assert outcomes["2025_01_01_00_00_acme_bob_smith_profile.jsonl"].data_type == "profile"
    assert outcomes["2025_01_01_00_00_acme_events_backup.jsonl"].status.value == "rejected"
    assert harness.query("SELECT username, seen_at::VARCHAR FROM lake_dev.acme__profile") == [
        ("bob_smith", "2025-01-01 08:00:00+00")
    ]


def test_gzip_and_crlf_and_bom(harness: Harness) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl.gz", [{"id": 1}, {"id": 2}])
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", b'\xef\xbb\xbf{"id": 3}\r\n{"id": 4}\r\n')
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl.gz", b"this is not gzip")
    run = harness.run("--service", "acme", "--json")
    statuses = by_path(result_of(run))
    assert statuses["acme/landing/2025_01_03_00_00_acme_events.jsonl.gz"] == "rejected"
    assert harness.query("SELECT list(id ORDER BY id) FROM lake_dev.acme__events") == [([1, 2, 3, 4],)]


def test_schema_evolves_across_runs(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1, "score": 1, "meta": {"a": 1}, "nested": {"n": 1}}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land(
        "acme/landing/2025_01_02_00_00_acme_events.jsonl",
        [{"id": 2, "score": 2.5, "meta": {"a": 2, "b": "new"}, "extra": True, "nested": {"n": 1.5}}],
    )
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stdout
    table = result_of(run).tables[0]
    assert "extra BOOL" in table.columns_added and "meta.b STRING" in table.columns_added
    assert table.columns_widened == ["score INT64 -> FLOAT64"]
    assert harness.query("SELECT id, score, meta.a, meta.b, extra FROM lake_dev.acme__events ORDER BY id") == [
        (1, 1.0, 1, None, None),
        (2, 2.5, 2, "new", True),
    ]
    # A nested INT64 the table already has cannot widen everywhere: the value goes to a variant column.
    assert harness.query("SELECT nested.n, nested.n__v_json FROM lake_dev.acme__events ORDER BY id") == [
        (1, None),
        (None, "1.5"),
    ]


def test_type_conflicts_never_lose_data(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1, "v": "text"}, {"id": 2, "v": {"deep": 1}}, {"id": 3, "v": [1, 2]}])
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0
    notes = result_of(run).tables[0].notes
    assert any(note.startswith("v: conflicting types") for note in notes)
    rows = harness.query("SELECT id, v FROM lake_dev.acme__events ORDER BY id")
    assert [(i, json.loads(v)) for i, v in rows] == [(1, "text"), (2, {"deep": 1}), (3, [1, 2])]
    # Next run: the stored column is typed JSON; anything fits.
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 4, "v": 7}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl", [{"id": 5, "name": "x", "n": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land("acme/landing/2025_01_04_00_00_acme_events.jsonl", [{"id": 6, "name": {"first": "y"}, "n": [2]}])
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0
    # The table's STRING column takes the object as its text; its INT64 column cannot take an array.
    assert harness.query("SELECT name, n, n__v_json FROM lake_dev.acme__events WHERE id >= 5 ORDER BY id") == [
        ("x", 1, None),
        ('{"first":"y"}', None, "[2]"),
    ]


def test_column_names_are_sanitized_and_case_duplicates_kept(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1, "Weird key!": 1, "9lives": 2, "ünï": 3, "dup": "lower", "DUP": "upper"}])
    assert harness.run("--service", "acme").exit_code == 0
    columns = {row[0] for row in harness.query("DESCRIBE lake_dev.acme__events")}
    assert {"Weird_key", "_9lives", "uni", "dup", "DUP__2"} <= columns
    assert harness.query('SELECT "Weird_key", _9lives, uni, dup, "DUP__2" FROM lake_dev.acme__events') == [
        (1, 2, 3, "lower", "upper")
    ]


def test_normalizer_failure_rejects_the_file(harness: Harness) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl", [{"seen": "2025-01-01"}, {"explode": True}])
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 1
    outcome = result_of(run).files[0]
    assert outcome.status.value == "rejected" and "line 2" in (outcome.reason or "") and "normalize" in outcome.reason


def test_bad_timestamp_goes_to_a_variant_not_the_floor(harness: Harness) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl", [{"seen": "2025-01-01T00:00:00Z"}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land("acme/landing/2025_01_02_00_00_acme_bob_profile.jsonl", [{"seen": "yesterday"}])
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.query("SELECT seen_at__v_json FROM lake_dev.acme__profile WHERE seen_at IS NULL") == [
        ('"yesterday"',)
    ]


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_dry_run_writes_nothing_and_prints_the_plan(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", [{"id": 2, "new_col": "x"}])
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl", "broken\n")
    harness.land("acme/landing/mystery.jsonl", [{"id": 3}])
    before = _tree(harness.root)
    run = harness.run("--service", "acme", "--dry-run", "--json")
    assert _tree(harness.root) == before
    result = result_of(run)
    assert result.dry_run and run.exit_code == 1
    assert by_path(result) == {
        "acme/landing/2025_01_02_00_00_acme_events.jsonl": "planned",
        "acme/landing/2025_01_03_00_00_acme_events.jsonl": "would_reject",
        "acme/landing/mystery.jsonl": "would_reject",
    }
    assert result.tables[0].columns_added == ["new_col STRING"] and result.tables[0].rows == 1


def test_dry_run_never_creates_the_warehouse(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    before = _tree(harness.root)
    run = harness.run("--service", "acme", "--dry-run")
    assert run.exit_code == 0, run.stdout
    assert not harness.database.exists() and _tree(harness.root) == before
    assert "1 planned" in run.stdout


def test_crash_between_load_and_move_never_loads_twice(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.land(EVENTS, [{"id": 1}, {"id": 2}])

    def crash(self, file, destination):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt("simulated crash after the load committed, before the move")

    monkeypatch.setattr(LocalLanding, "move", crash)
    crashed = harness.run("--service", "acme")
    assert crashed.exit_code == 130  # interrupted, as Ctrl-C would
    monkeypatch.undo()
    assert harness.files("acme/landing") == [EVENTS]
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0
    assert by_path(result_of(run)) == {EVENTS: "already_loaded"}
    assert harness.files() == ["acme/archive/2025_01_01_00_00_acme_events.jsonl"]
    assert harness.query("SELECT count(*) FROM lake_dev.acme__events") == [(2,)]


def test_same_name_again_with_new_content_is_loaded_and_archived_beside(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land(EVENTS, [{"id": 2}])
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.files() == [
        "acme/archive/2025_01_01_00_00_acme_events.jsonl",
        "acme/archive/2025_01_01_00_00_acme_events__2.jsonl",
    ]
    assert harness.query("SELECT list(id ORDER BY id) FROM lake_dev.acme__events") == [([1, 2],)]


def test_same_content_again_is_not_loaded_twice(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    harness.land(EVENTS, [{"id": 1}])  # the fetcher re-delivered the very same file
    run = harness.run("--service", "acme", "--json")
    assert by_path(result_of(run)) == {EVENTS: "already_loaded"}
    assert harness.query("SELECT count(*) FROM lake_dev.acme__events") == [(1,)]


def test_hidden_files_are_left_alone(harness: Harness) -> None:
    harness.land("acme/landing/.2025_01_01_00_00_acme_events.jsonl.tmp", "partial")
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0 and result_of(run).files == []
    assert harness.files("acme/landing") == ["acme/landing/.2025_01_01_00_00_acme_events.jsonl.tmp"]


def test_big_integers_and_deep_nesting_are_rejected_not_rounded(harness: Harness) -> None:
    harness.land(EVENTS, '{"id": 123456789012345678901234567890}\n')
    deep = '{"a":' * 2000 + "1" + "}" * 2000
    harness.land("acme/landing/2025_01_02_00_00_acme_events.jsonl", deep + "\n")
    harness.land("acme/landing/2025_01_03_00_00_acme_events.jsonl", [{"id": 18446744073709551615}])
    run = harness.run("--service", "acme", "--json")
    statuses = by_path(result_of(run))
    assert statuses[EVENTS] == "rejected"
    assert statuses["acme/landing/2025_01_02_00_00_acme_events.jsonl"] == "rejected"
    # Beyond INT64 but within 64 bits: kept exactly, as JSON.
    assert statuses["acme/landing/2025_01_03_00_00_acme_events.jsonl"] == "loaded"
    assert harness.query("SELECT id::VARCHAR FROM lake_dev.acme__events") == [("18446744073709551615",)]


def test_gzip_is_read_streaming(harness: Harness) -> None:
    lines = b"".join(b'{"id": %d, "pad": "%s"}\n' % (i, b"x" * 100) for i in range(20000))
    (harness.landing / "acme/landing").mkdir(parents=True)
    (harness.landing / "acme/landing/2025_01_01_00_00_acme_events.jsonl.gz").write_bytes(gzip.compress(lines))
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.query("SELECT count(*), max(id) FROM lake_dev.acme__events") == [(20000, 19999)]


def test_views_cover_the_tables_that_exist(harness: Harness) -> None:
    harness.land(EVENTS, [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.query("SELECT kind, username, id FROM lake_dev.acme__all") == [("events", None, 1)]
    harness.land("acme/landing/2025_01_02_00_00_acme_ann_profile.jsonl", [{"seen": "2025-01-01T00:00:00Z"}])
    assert harness.run("--service", "acme").exit_code == 0
    assert harness.query("SELECT kind, username, id FROM lake_dev.acme__all ORDER BY kind") == [
        ("events", None, 1),
        ("profile", "ann", None),
    ]


def test_a_hinted_column_keeps_its_type_in_its_first_load(harness: Harness) -> None:
    harness.land(
        "acme/landing/2025_01_01_00_00_acme_bob_profile.jsonl",
        [{"seen": "2025-01-01T00:00:00Z"}, {"seen": "not a time"}],
    )
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0
    assert harness.query(
        "SELECT typeof(seen_at), seen_at__v_json FROM lake_dev.acme__profile ORDER BY 2 NULLS FIRST"
    ) == [("TIMESTAMP WITH TIME ZONE", None), ("TIMESTAMP WITH TIME ZONE", '"not a time"')]
    assert any("declared TIMESTAMP" in n for n in result_of(run).tables[0].notes)


def test_a_normalizer_may_split_a_record_into_rows(tmp_path: Path) -> None:
    from ingestor import DataType, Service, hookimpl

    class Splitter:
        @hookimpl
        def services(self) -> list[Service]:
            return [
                Service(
                    data_types=[
                        DataType(
                            service="split",
                            name="readings",
                            dataset="s_{env}",
                            table="readings",
                            normalize=lambda record, source: [{"day": record["day"], "v": v} for v in record["values"]],
                        )
                    ]
                )
            ]

    h = Harness(tmp_path, Splitter())
    h.land(
        "split/landing/2025_01_01_00_00_split_readings.jsonl",
        [{"day": "d1", "values": [1, 2, 3]}, {"day": "d2", "values": []}],
    )
    run = h.run("--service", "split", "--json")
    assert run.exit_code == 0 and result_of(run).files[0].rows == 3
    assert h.query("SELECT day, v FROM s_dev.readings ORDER BY v") == [("d1", 1), ("d1", 2), ("d1", 3)]


@pytest.mark.parametrize("columnar", ["0", "1"])
def test_a_record_of_several_megabytes_loads(harness: Harness, monkeypatch: pytest.MonkeyPatch, columnar: str) -> None:
    # DuckDB's JSON reader is sized to the widest staged row (1 MB by default): this one is 5 MB.
    monkeypatch.setenv("INGESTOR_COLUMNAR", columnar)
    big = "x" * (5 * 2**20)
    harness.land(EVENTS, [{"id": 1, "blob": "small"}])
    harness.land(EVENTS.replace("00_00_", "00_01_"), [{"id": 2, "blob": big}, {"id": 3, "blob": big[: 2**20]}])
    run = harness.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.stdout
    assert harness.query("SELECT id, length(blob) FROM lake_dev.acme__events ORDER BY id") == [
        (1, 5),
        (2, len(big)),
        (3, 2**20),
    ]
    assert result_of(run).tables[0].columnar_files == int(columnar)  # the first file made the schema
