"""Every rejected or failed file carries a stable `reason_code` beside its reason (`ingestor.errors.ReasonCode`):
each code for its case, end to end through `ingestor run --json` on a real DuckDB warehouse and a local landing
zone; in `<name>.reason.json` and the history table (an older one gets the column). The
exception kinds callers catch (`TransientError`, `RefusedError`) are checked where the load splits its batch."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingestor import DataType, SourceFile
from ingestor.errors import IngestorError, ReasonCode, RefusedError, TransientError
from ingestor.landing import FileChanged, UnsafeName
from ingestor.staging.reader import MalformedFile
from ingestor.testing import Declarations, Harness
from ingestor.warehouse import (
    DeadlineExceeded,
    LoadError,
    RowsRefused,
    TooLarge,
    WarehouseBusy,
    WarehouseUnavailable,
)

from .conftest import AcmePlugin, OtherPlugin

LANDING = "acme/landing/"
EVENTS = "acme/landing/2025_01_01_00_00_acme_events.jsonl"
HISTORY = "dp_ops_dev._ingestor_history"


def _grows(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """A normalizer that appends to its own landing file while the run reads it (a writer acting meanwhile)."""
    if record.get("append_to"):
        with open(record["append_to"], "ab") as landing_file:
            landing_file.write(b'{"n": 2}\n')
    return record


GROWING = DataType(service="grow", name="log", dataset="grow_{env}", table="log", normalize=_grows)
TWINS = [  # two data types claiming the same names equally
    DataType(service="twin", name="a1", dataset="twin_{env}", table="a1", file_patterns=(r".+_x",)),
    DataType(service="twin", name="b1", dataset="twin_{env}", table="b1", file_patterns=(r".+_x",)),
]


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, AcmePlugin(), OtherPlugin(), Declarations(GROWING, *TWINS))


def _codes(h: Harness, *services: str, env: dict[str, str] | None = None) -> dict[str, tuple[str, str | None]]:
    run = h.run("--service", ",".join(services), "--json", env=env)
    assert run.exit_code == 1, run.output
    return {f["path"]: (f["status"], f["reason_code"]) for f in json.loads(run.stdout)["files"]}


def test_each_rejected_file_gets_the_code_of_its_case(h: Harness) -> None:
    h.land(EVENTS, [{"id": 1}])
    h.land(LANDING + "2025_01_02_00_00_acme_events.jsonl", '{"id": \n')
    h.land(LANDING + "2025_01_03_00_00_acme_events.jsonl", '{"id": 3}\n{"id": "' + "x" * 2000 + '"}\n')
    h.land(LANDING + "2025_01_04_00_00_acme_events.jsonl", b'{"id": 4}\n\x00\x00\x00\n')
    h.land(LANDING + "2025_01_05_00_00_acme_events.jsonl", "")
    h.land(LANDING + "2025_01_01_00_00_acme_bob_profile.jsonl", [{"explode": True}])
    h.land(LANDING + "notes.txt", "hello")
    (h.landing / LANDING).joinpath(os.fsdecode(b"caf\xe9_acme_events.jsonl")).write_bytes(b'{"id": 5}\n')
    h.land("twin/landing/2025_01_01_x.jsonl", [{"n": 1}])
    codes = _codes(h, "acme", "twin", env={"INGESTOR_MAX_RECORD_BYTES": "1024"})
    assert codes == {
        EVENTS: ("loaded", None),
        LANDING + "2025_01_02_00_00_acme_events.jsonl": ("rejected", "malformed_line"),
        LANDING + "2025_01_03_00_00_acme_events.jsonl": ("rejected", "record_too_long"),
        LANDING + "2025_01_04_00_00_acme_events.jsonl": ("rejected", "not_ndjson"),
        LANDING + "2025_01_05_00_00_acme_events.jsonl": ("empty", None),  # archived: no code
        LANDING + "2025_01_01_00_00_acme_bob_profile.jsonl": ("rejected", "plugin_error"),
        LANDING + "notes.txt": ("rejected", "no_data_type"),
        LANDING + "caf\\xe9_acme_events.jsonl": ("rejected", "unsafe_name"),
        "twin/landing/2025_01_01_x.jsonl": ("rejected", "ambiguous_data_type"),
    }
    # beside the rejected file, in its reason file; and in the history, grouped by code
    reason = json.loads((h.landing / "acme/rejected/notes.txt.reason.json").read_text())
    assert (reason["reason"], reason["reason_code"]) == ("no data type matches", "no_data_type")
    grouped = h.query(f"SELECT reason_code, count(*) FROM {HISTORY} WHERE kind = 'file' GROUP BY 1 ORDER BY 1")
    assert grouped == [
        ("ambiguous_data_type", 1),
        ("malformed_line", 1),
        ("no_data_type", 1),
        ("not_ndjson", 1),
        ("plugin_error", 1),
        ("record_too_long", 1),
        ("unsafe_name", 1),
        (None, 2),  # the loaded and the empty file
    ]


def test_a_dry_run_gives_a_would_be_rejection_its_code(h: Harness) -> None:
    h.land(LANDING + "notes.txt", "hello")
    result = h.ingest("--service", "acme", "--dry-run")
    assert [(f.status.value, f.reason_code) for f in result.files] == [("would_reject", ReasonCode.NO_DATA_TYPE)]


def test_entries_it_cannot_read_a_file_changed_meanwhile_and_a_failed_move_fail_with_their_codes(h: Harness) -> None:
    h.land(EVENTS, [{"id": 1}])
    os.mkfifo(h.landing / LANDING / "2025_01_02_00_00_acme_events.jsonl")
    growing = h.land("grow/landing/2025_01_01_00_00_grow_log.jsonl", "")
    growing.write_text(json.dumps({"n": 1, "append_to": str(growing)}) + "\n")
    h.land("other/landing/2025_01_01_00_00_other_things.jsonl", [{"n": 1}])
    (h.landing / "other/archive").write_text("a file where the archive folder should be")
    codes = _codes(h, "acme", "grow", "other")
    assert codes == {
        EVENTS: ("loaded", None),
        LANDING + "2025_01_02_00_00_acme_events.jsonl": ("failed", "unreadable_entry"),
        "grow/landing/2025_01_01_00_00_grow_log.jsonl": ("failed", "changed_during_run"),
        "other/landing/2025_01_01_00_00_other_things.jsonl": ("failed", "move_failed"),
    }
    assert sorted(h.files("grow/landing") + h.files("other/landing")) == [
        "grow/landing/2025_01_01_00_00_grow_log.jsonl",
        "other/landing/2025_01_01_00_00_other_things.jsonl",
    ]


def test_rows_the_warehouse_refuses_are_isolated_and_rejected_with_their_code(h: Harness) -> None:
    """A constraint of the table (made outside ingestor) that one file's rows break: the load of the batch is
    refused (`RowsRefused`, a `RefusedError`), split until the file is isolated; the others load."""
    with duckdb.connect(str(h.database)) as con:
        con.execute("CREATE SCHEMA lake_dev")
        con.execute("CREATE TABLE lake_dev.acme__events (id BIGINT CHECK (id < 100))")
    for day, ident in ((1, 1), (2, 500), (3, 3)):
        h.land(f"{LANDING}2025_01_0{day}_00_00_acme_events.jsonl", [{"id": ident}])
    codes = _codes(h, "acme")
    assert codes == {
        EVENTS: ("loaded", None),
        LANDING + "2025_01_02_00_00_acme_events.jsonl": ("rejected", "warehouse_refused"),
        LANDING + "2025_01_03_00_00_acme_events.jsonl": ("loaded", None),
    }
    assert h.query("SELECT id FROM lake_dev.acme__events ORDER BY id") == [(1,), (3,)]


def test_an_older_history_table_gets_the_reason_code_column(h: Harness) -> None:
    """The history table is ingestor's own: one made before `reason_code` existed is given the column."""
    older = (
        "run_id VARCHAR, kind VARCHAR, status VARCHAR, service VARCHAR, data_type VARCHAR, object_name VARCHAR, "
        "table_name VARCHAR, files BIGINT, rows BIGINT, bytes BIGINT, reason VARCHAR, destination VARCHAR, "
        "run_started_at TIMESTAMP WITH TIME ZONE, recorded_at TIMESTAMP WITH TIME ZONE, seconds DOUBLE"
    )
    with duckdb.connect(str(h.database)) as con:
        con.execute("CREATE SCHEMA dp_ops_dev")
        con.execute(f"CREATE TABLE {HISTORY} ({older})")
        con.execute(f"INSERT INTO {HISTORY} (run_id, kind, status) VALUES ('earlier', 'run', 'succeeded')")
    h.land(EVENTS, [{"id": 1}])
    h.land(LANDING + "notes.txt", "hello")
    assert h.run("--service", "acme").exit_code == 1
    assert h.columns("dp_ops_dev", "_ingestor_history")["reason_code"] == "VARCHAR"
    rows = h.query(f"SELECT status, reason_code FROM {HISTORY} WHERE kind = 'file' ORDER BY status")
    assert rows == [("loaded", None), ("rejected", "no_data_type")]
    assert h.query(f"SELECT status FROM {HISTORY} WHERE run_id = 'earlier'") == [("succeeded",)]  # kept


def test_the_core_exceptions_share_one_base_and_two_kinds() -> None:
    """Callers catch the kind, not a flag: a refused load is split, a transient one is an outage."""
    for refused in (RowsRefused, TooLarge, MalformedFile, UnsafeName):
        assert issubclass(refused, RefusedError) and not issubclass(refused, TransientError)
    for transient in (WarehouseUnavailable, WarehouseBusy, DeadlineExceeded, FileChanged):
        assert issubclass(transient, TransientError) and not issubclass(transient, RefusedError)
    for error in (RowsRefused, TooLarge, WarehouseUnavailable, WarehouseBusy, DeadlineExceeded):
        assert issubclass(error, LoadError) and issubclass(error, IngestorError)
    assert issubclass(UnsafeName, ValueError) and issubclass(MalformedFile, ValueError)  # as before, for callers
    codes = [RowsRefused.code, TooLarge.code, DeadlineExceeded.code, WarehouseBusy.code, FileChanged.code]
    assert codes == ["warehouse_refused", "too_large", "deadline", "warehouse_unavailable", "changed_during_run"]
