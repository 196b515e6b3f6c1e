"""Nothing lost to a hostile file on the embedded backends: a file changed during a run, a
record too wide for DuckDB's memory, names at the 255-byte limit, a landing folder that is a symbolic link, a
record's own metadata values, out-of-range timestamps, keys renamed inside JSON columns, a file deleted mid-run.
The GCS variants are in tests/cloud/test_cloud_nothing_lost.py."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingestor.catalog import DataType, SourceFile
from ingestor.landing import LandingFile
from ingestor.run.ledger import LedgerEntry
from ingestor.schema import Column, Kind, Struct, changes
from ingestor.staging.staged import StagedFile
from ingestor.testing import Declarations, Harness
from ingestor.warehouse import LoadRequest, RowsRefused
from ingestor.warehouse.duckdb import DuckDBWarehouse

EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"
SMALL = "acme/landing/2025_01_02_00_00_acme_events.jsonl"


def _as_is(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    return record


# A plain data type (no normalizer, no hints), and two with a TIMESTAMP hint (one with a normalizer).
_HINTS: dict[str, str | Kind] = {"ts": Kind.TIMESTAMP}
EVENTS_TYPE = DataType(service="acme", name="events", dataset="acme_{env}", table="events")
ACME = Declarations(
    EVENTS_TYPE,
    DataType(service="acme", name="readings", dataset="acme_{env}", table="readings", schema_hints=_HINTS),
    DataType(
        service="acme", name="normalized", dataset="acme_{env}", table="normalized", schema_hints=_HINTS,
        normalize=_as_is,
    ),
)  # fmt: skip


def _lines(*ids: int) -> bytes:
    return b"".join(orjson.dumps({"id": i}) + b"\n" for i in ids)


def _result(run: Any) -> dict[str, Any]:
    return orjson.loads(run.stdout[run.stdout.index("{") :])  # type: ignore[no-any-return]


def _only(run: Any, exit_code: int) -> dict[str, Any]:
    """The outcome of the one file of a run (with `--json`) that ended with `exit_code`."""
    assert run.exit_code == exit_code, run.output
    [outcome] = _result(run)["files"]
    return outcome  # type: ignore[no-any-return]


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, ACME)


def test_a_file_appended_to_after_it_was_read_is_not_archived_and_its_new_records_load_next(
    h: Harness, monkeypatch: pytest.MonkeyPatch, at_checkpoint: Callable[..., None]
) -> None:
    path = h.land(EVENTS, _lines(1, 2, 3))
    at_checkpoint("after_stage", lambda: path.write_bytes(path.read_bytes() + _lines(4, 5)))
    outcome = _only(h.run("--service", "acme", "--json"), 1)
    assert outcome["status"] == "failed" and outcome["destination"] is None
    assert "3 records loaded, but" in outcome["reason"]
    assert "changed after it was read (27 -> 45 bytes): left in landing" in outcome["reason"]
    assert h.files("acme") == [EVENTS]  # left in landing, not archived with two records nobody loaded
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3],)]
    monkeypatch.undo()
    outcome = _only(h.run("--service", "acme", "--json"), 0)
    assert outcome["status"] == "loaded" and outcome["rows"] == 2
    assert "an earlier version of it (27 bytes, 3 records) was loaded by run" in outcome["reason"]
    assert "only the records appended after it were loaded now" in outcome["reason"]
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3, 4, 5],)]
    assert h.files("acme") == [EVENTS.replace("landing", "archive")]
    assert (h.landing / EVENTS.replace("landing", "archive")).read_bytes() == _lines(1, 2, 3, 4, 5)


def test_a_gzip_file_given_a_member_after_it_was_read_loads_only_the_new_member_next(
    h: Harness, monkeypatch: pytest.MonkeyPatch, at_checkpoint: Callable[..., None]
) -> None:
    gz = EVENTS + ".gz"
    path = h.land(gz, _lines(1, 2))
    at_checkpoint("after_stage", lambda: path.write_bytes(path.read_bytes() + gzip.compress(_lines(3))))
    assert "changed after it was read" in _only(h.run("--service", "acme", "--json"), 1)["reason"]
    monkeypatch.undo()
    outcome = _only(h.run("--service", "acme", "--json"), 0)
    assert outcome["rows"] == 1 and "only the records appended after it were loaded now" in outcome["reason"]
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3],)]
    assert h.files("acme") == [gz.replace("landing", "archive")]


def test_a_rejected_file_that_changes_before_its_move_leaves_no_stray_reason(
    h: Harness, at_checkpoint: Callable[..., None]
) -> None:
    path = h.land(EVENTS, b'{"id": 1}\n{not json\n')
    at_checkpoint("before_move", lambda: path.write_bytes(path.read_bytes() + _lines(2)))  # its reason is written
    outcome = _only(h.run("--service", "acme", "--json"), 1)
    assert outcome["status"] == "failed" and "changed after it was read" in outcome["reason"]
    assert h.files("acme") == [EVENTS]  # in landing, and no reason in rejected/ for a file that is not there


def test_a_reason_written_beside_another_file_is_withdrawn_when_the_file_takes_a_numbered_name(h: Harness) -> None:
    taken = EVENTS.replace("landing", "rejected")
    (h.landing / taken).parent.mkdir(parents=True)
    (h.landing / taken).write_bytes(b"an earlier file, left there without its reason\n")
    h.land(EVENTS, b"{not json\n")
    outcome = _only(h.run("--service", "acme", "--json"), 1)
    numbered = taken.replace(".jsonl", "__2.jsonl")
    assert outcome["status"] == "rejected" and outcome["destination"] == numbered
    assert h.files("acme") == [taken, numbered, numbered + ".reason.json"]
    assert orjson.loads((h.landing / (numbered + ".reason.json")).read_bytes())["destination"] == numbered


def test_a_file_overwritten_after_it_was_read_is_loaded_next_run_saying_what_was_loaded(
    h: Harness, monkeypatch: pytest.MonkeyPatch, at_checkpoint: Callable[..., None]
) -> None:
    path = h.land(EVENTS, _lines(1, 2, 3))
    at_checkpoint("after_stage", lambda: path.write_bytes(_lines(7, 8, 9)))
    assert h.run("--service", "acme").exit_code == 1
    assert h.files("acme") == [EVENTS]
    monkeypatch.undo()
    outcome = _only(h.run("--service", "acme", "--json"), 0)
    assert outcome["status"] == "loaded" and outcome["rows"] == 3
    assert "an earlier version of it (27 bytes, 3 records) was loaded by run" in outcome["reason"]
    assert "this version does not begin with it: loaded whole" in outcome["reason"]
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2, 3, 7, 8, 9],)]
    archived = EVENTS.replace("landing", "archive")
    assert h.files("acme") == [archived]
    assert (h.landing / archived).read_bytes() == _lines(7, 8, 9)


def test_a_file_deleted_after_its_rows_loaded_is_reported_as_gone(
    h: Harness, at_checkpoint: Callable[..., None]
) -> None:
    path = h.land(EVENTS, _lines(1, 2))
    at_checkpoint("after_commit", path.unlink)
    outcome = _only(h.run("--service", "acme", "--json"), 1)
    assert outcome["status"] == "failed" and outcome["destination"] is None
    assert outcome["reason"] == f"2 records loaded, but {EVENTS} is no longer in landing: nothing to move"
    assert h.query("SELECT list(id ORDER BY id) FROM acme_dev.events") == [([1, 2],)]


@pytest.mark.parametrize(
    ("nested", "records", "columnar"),
    [(False, 1, "1"), (True, 1, "0"), (False, 30, "1")],
    ids=["flat", "nested-row-path", "flat-30-records-columnar"],
)
def test_a_record_of_2500_keys_loads_beside_a_good_file(
    h: Harness, monkeypatch: pytest.MonkeyPatch, nested: bool, records: int, columnar: str
) -> None:
    """It used to exhaust DuckDB's 256 MB (each inserting thread holds ~100 KB per column), behind a
    misleading "transaction is aborted": both files failed on every run."""
    monkeypatch.setenv("INGESTOR_COLUMNAR", columnar)
    wide = {f"k{i}": i for i in range(2500)}
    h.land(EVENTS, [{"id": 1, "n": wide} if nested else {"id": 1, **wide}] * records)
    h.land(SMALL, _lines(2))
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.output
    assert [(f["status"], f["rows"]) for f in _result(run)["files"]] == [("loaded", records), ("loaded", 1)]
    total = "n.k2499" if nested else "k2499"
    assert h.query(f"SELECT count(*), sum({total}), max(id) FROM acme_dev.events") == [(records + 1, 2499 * records, 2)]


def test_an_error_inside_the_load_transaction_is_reported_as_it_is(tmp_path: Path) -> None:
    """The NDJSON insert reset its settings in `finally`, inside the aborted transaction: that raised
    "Current transaction is aborted" instead of the real error, which then was not classed as refused data."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    schema = Struct()
    schema.add(Column("id", Kind.INT64))
    staged = tmp_path / "staged.jsonl"
    staged.write_bytes(b'{"id": "not a number"}\n')
    entry = LedgerEntry(
        source_name=EVENTS, checksum="x", size=1, service="acme", data_type="events", table_name="acme_dev.events",
        rows=1, run_id="r", loaded_at="2025-01-01T00:00:00Z",
    )  # fmt: skip
    request = LoadRequest(
        data_type=EVENTS_TYPE, dataset="acme_dev", table="events", schema=schema,
        changes=changes(schema), files=[StagedFile(entry, staged, LandingFile(EVENTS, 1, "1"), widest=30)], run_id="r",
    )  # fmt: skip
    settings = "SELECT current_setting('memory_limit'), current_setting('threads')"
    before = wh.con.execute(settings).fetchall()
    with pytest.raises(RowsRefused) as refused:
        wh.load(request)
    assert "Failed to cast value to numerical" in str(refused.value)
    assert wh.con.execute(settings).fetchall() == before  # what the insert raised is reset after the rollback
    assert wh.table_schema("acme_dev", "events") is None  # rolled back


def _named(total_bytes: int, tail: str = "_acme_events.jsonl") -> str:
    """A landing file name of `total_bytes` bytes (the file name alone) that the events type matches."""
    return "acme/landing/" + "é" * ((total_bytes - len(tail)) // 2) + "x" * ((total_bytes - len(tail)) % 2) + tail


def test_names_of_251_to_255_bytes_leave_landing_with_names_that_fit(h: Harness) -> None:
    loaded, bad, colliding = _named(251), _named(251, "_bad_acme_events.jsonl"), _named(255)
    h.land(loaded, _lines(1))
    h.land(bad, "not json\n")
    h.land(colliding, _lines(2))
    (h.landing / colliding.replace("landing", "archive")).parent.mkdir(parents=True)
    (h.landing / colliding.replace("landing", "archive")).write_bytes(_lines(99))  # an older file of that name
    run = h.run("--service", "acme", "--json")
    outcomes = {f["path"]: f for f in _result(run)["files"]}
    assert {p: o["status"] for p, o in outcomes.items()} == {loaded: "loaded", bad: "rejected", colliding: "loaded"}
    assert h.files("acme/landing") == []
    assert outcomes[loaded]["destination"] == loaded.replace("landing", "archive")  # it fits as it is
    renamed = outcomes[colliding]["destination"]
    assert renamed.startswith("acme/archive/éé") and renamed.endswith(".jsonl") and "__2" not in renamed
    assert (h.landing / renamed).read_bytes() == _lines(2) and len(renamed.rsplit("/", 1)[1].encode()) <= 255
    reasons = [f for f in h.files("acme/rejected") if f.endswith(".reason.json")]
    assert len(reasons) == 1 and len(reasons[0].rsplit("/", 1)[1].encode()) <= 255
    reason = orjson.loads((h.landing / reasons[0]).read_bytes())
    assert reason["file"] == bad and reason["destination"] == bad.replace("landing", "rejected")
    ledger = h.query("SELECT source_name FROM acme_dev._ingestor_ledger")
    assert sorted(ledger) == sorted([(colliding,), (loaded,)])  # the original names
    assert run.exit_code == 1


OTHER = Declarations(DataType(service="other", name="things", dataset="other_{env}", table="things"))


def test_a_landing_folder_linked_out_of_the_root_refuses_that_service_only(tmp_path: Path) -> None:
    h = Harness(tmp_path / "zone", ACME, OTHER)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "2025_01_01_00_00_acme_events.jsonl").write_bytes(_lines(1))
    (h.landing / "acme").mkdir(parents=True)
    (h.landing / "acme" / "landing").symlink_to(outside, target_is_directory=True)
    h.land("other/landing/2025_01_01_00_00_other_things.jsonl", _lines(2))
    run = h.run("--service", "acme,other", "--json")
    assert run.exit_code == 1
    outcomes = {f["path"]: (f["status"], f["reason"]) for f in _result(run)["files"]}
    assert outcomes["other/landing/2025_01_01_00_00_other_things.jsonl"] == ("loaded", None)
    status, reason = outcomes["acme/landing/"]
    assert status == "failed" and reason.startswith("service acme refused: ") and "leaves the landing root" in reason
    assert h.query("SELECT id FROM other_dev.things") == [(2,)]
    assert [p.name for p in outside.iterdir()] == ["2025_01_01_00_00_acme_events.jsonl"]  # untouched


@pytest.mark.parametrize("data_type", ["readings", "normalized"])
def test_an_out_of_range_timestamp_is_kept_as_json_like_any_unparseable_value(
    h: Harness, monkeypatch: pytest.MonkeyPatch, data_type: str
) -> None:
    """It rejected the whole file, blaming the plugin (OverflowError); notes quoted 'notTa time'."""
    monkeypatch.setenv("INGESTOR_COLUMNAR_MIN_BYTES", "0")  # the columnar path tries it first (no normalizer)
    values = ["2025-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "not a time", "9999-12-31T23:59:59-01:00"]
    h.land(f"acme/landing/2025_01_01_00_00_acme_{data_type}.jsonl", [{"id": i, "ts": v} for i, v in enumerate(values)])
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.output
    [table] = _result(run)["tables"]
    assert h.query(f"SELECT id, ts::VARCHAR, ts__v_json::VARCHAR FROM acme_dev.{data_type} ORDER BY id") == [
        (0, "2025-01-01 00:00:00+00", None),
        (1, None, '"0001-01-01T00:00:00+14:00"'),
        (2, None, '"not a time"'),
        (3, None, '"9999-12-31T23:59:59-01:00"'),
    ]
    notes = " ".join(table["notes"])
    assert "out of range timestamp '0001-01-01T00:00:00+14:00'" in notes and "stored in ts__v_json" in notes
    assert "invalid timestamp 'not a time'" in notes


@pytest.mark.parametrize("columnar", ["1", "0"])
def test_a_records_own_metadata_values_are_kept_like_any_clashing_key(
    h: Harness, monkeypatch: pytest.MonkeyPatch, columnar: str
) -> None:
    """Strings were overwritten by the metadata, silently; non-strings went to `_source_file__v_json`, where
    a second spelling's overwrote them. Every key naming a metadata column goes to `<key>__2`,
    whose type follows the values (here strings and a number: JSON)."""
    monkeypatch.setenv("INGESTOR_COLUMNAR", columnar)
    monkeypatch.setenv("INGESTOR_COLUMNAR_MIN_BYTES", "0")
    records = [
        {"id": 1, "_source_file": "user-value", "_dp_inserted_at": "2020-01-01T00:00:00Z"},
        {"id": 2, "_SOURCE_FILE": 7},
        {"id": 3},
    ]
    h.land(EVENTS, records)
    assert h.run("--service", "acme").exit_code == 0
    rows = h.query(
        "SELECT id, _source_file, _source_file__2, _dp_inserted_at > '2021-01-01', _dp_inserted_at__2 "
        "FROM acme_dev.events ORDER BY id"
    )
    assert rows == [
        (1, EVENTS, '"user-value"', True, "2020-01-01T00:00:00Z"),
        (2, EVENTS, "7", True, None),
        (3, EVENTS, None, True, None),
    ]


@pytest.mark.parametrize(
    "env",
    [
        {"INGESTOR_COLUMNAR": "0"},
        {"INGESTOR_COLUMNAR_MIN_BYTES": "0"},
        {"INGESTOR_WORKERS": "2", "INGESTOR_COLUMNAR": "0"},
    ],
    ids=["row-path", "columnar", "worker-processes"],
)
def test_a_json_column_holds_the_source_value_exactly(
    h: Harness, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], request: pytest.FixtureRequest
) -> None:
    """A column that became JSON held the earlier rows as conformed (`{"a":1,"A__2":2}`, nulls dropped)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    in_workers = request.getfixturevalue("staging_in_workers") if "INGESTOR_WORKERS" in env else None
    first = [{"id": 1, "n": {"a": 1, "A": 2}}, {"id": 2, "n": {"a b": None, "c": {}, "d": [1]}}]
    h.land(EVENTS, first)
    h.land(SMALL, [{"id": 3, "n": {"x": 1}}, {"id": 4, "n": [{"a": 1}]}])
    run = h.run("--service", "acme", "--json")
    assert run.exit_code == 0, run.output
    assert any("n: conflicting types" in note for note in _result(run)["tables"][0]["notes"])
    stored = h.query("SELECT id, n::VARCHAR FROM acme_dev.events ORDER BY id")
    assert [(i, orjson.loads(n)) for i, n in stored] == [
        (1, {"a": 1, "A": 2}),
        (2, {"a b": None, "c": {}, "d": [1]}),
        (3, {"x": 1}),
        (4, [{"a": 1}]),
    ]
    assert in_workers in (None, [2])  # worker processes staged both files


@pytest.mark.parametrize("bucket", ["../../x", "a/b", "..", "UPPER", "x"])
def test_a_bucket_that_is_not_a_bucket_name_is_refused(h: Harness, bucket: str) -> None:
    """`--bucket ../../x` resolved outside `--data-dir` without a word."""
    run = h.run("--service", "acme", "--bucket", bucket)
    assert run.exit_code == 2
    assert f"{bucket!r} is not a bucket name" in run.output
    assert not (h.root.parent.parent / "x").exists()  # where ../../x led
