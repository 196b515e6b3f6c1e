"""`ingestor rebuild` on DuckDB, the real command: a table built again from the archive holds exactly the archive's
records (each once), recovers archived files the ledger never recorded, carries over the rows whose file left the
archive, changes no row when run twice, and is atomic: SIGKILL at each step leaves the table and ledger as they were,
and a rebuild run again completes it (a run in between doubles nothing)."""

from __future__ import annotations

import signal
import subprocess
from typing import Any

import duckdb
import orjson
import pytest

from .conftest import SERVICE, TIMEOUT, Zone, ingestor_command, ndjson

pytestmark = pytest.mark.timeout(180)
KILLED = -signal.SIGKILL


def rebuild(zone: Zone, *args: str, fault: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    command = [*ingestor_command(fault), "rebuild", "--service", SERVICE, "--env", "dev"]
    command += ["--data-dir", str(zone.root), "--json", *args]
    return subprocess.run(
        command, cwd=zone.root, env=zone.env(**env), text=True, capture_output=True, timeout=TIMEOUT, check=False
    )


def result(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode in (0, 1), done.stderr[-3000:]
    found: dict[str, Any] = orjson.loads(done.stdout)
    return found


def by_type(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {t["data_type"]: t for t in result(done)["types"]}


def table(zone: Zone, name: str = "events") -> list[tuple[Any, ...]]:
    """Every row of a table, whole, sorted."""
    return sorted(zone.query(f"SELECT * FROM fz_dev.{name}"), key=repr)


def ledger(zone: Zone) -> list[tuple[Any, ...]]:
    """The ledger without its run ids (a rebuild writes its own)."""
    return zone.query(
        "SELECT source_name, checksum, size, data_type, rows, loaded_at FROM fz_dev._ingestor_ledger ORDER BY ALL"
    )


def archive(zone: Zone, relative: str, data: bytes) -> None:
    path = zone.landing / SERVICE / "archive" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def loaded_zone(zone: Zone) -> None:
    zone.standard_corpus()
    zone.run_to_completion()
    zone.check()


def test_a_dropped_table_is_rebuilt_with_exactly_the_archived_rows(zone: Zone) -> None:
    loaded_zone(zone)
    before, entries = table(zone), ledger(zone)
    with duckdb.connect(str(zone.database)) as con:
        con.execute("DROP TABLE fz_dev.events")
    done = by_type(rebuild(zone))
    assert table(zone) == before  # every row as it was, `_dp_inserted_at` and source file included
    assert ledger(zone) == entries
    events = done["events"]
    assert (events["files_in_archive"], events["rows_before"], events["rows_after"]) == (3, 0, 5)
    assert events["files_recovered"] == 0 and events["backup"] is None  # no table to keep


def test_a_second_rebuild_changes_no_row_and_keeps_the_old_table(zone: Zone) -> None:
    loaded_zone(zone)
    before, metrics = table(zone), table(zone, "metrics")
    with duckdb.connect(str(zone.database)) as con:
        con.execute("CREATE VIEW fz_dev.mine AS SELECT uid FROM fz_dev.events")  # a user's own view over the table
    first = by_type(rebuild(zone))
    assert zone.query("SELECT count(*) FROM fz_dev.mine") == [(5,)]
    second = by_type(rebuild(zone))
    assert table(zone) == before and table(zone, "metrics") == metrics
    assert second["events"]["rows_before"] == second["events"]["rows_after"] == 5
    assert second["events"]["columns_added"] == second["events"]["columns_removed"] == []
    backup = first["events"]["backup"].split(".")[1]
    assert backup.startswith("events__before_rebuild_")
    assert sorted(zone.query(f"SELECT * FROM fz_dev.{backup}"), key=repr) == before
    rebuild(zone, INGESTOR_REBUILD_BACKUP="0")  # no third copy
    assert len([t for t in zone.tables() if t.startswith("events__before_rebuild_")]) <= 2


def test_a_file_only_in_the_archive_is_recovered_and_counted(zone: Zone) -> None:
    """The seed system archived files whose load had failed: the ledger never saw them, the table holds none."""
    loaded_zone(zone)
    archive(zone, "lost/2024_12_31_fz_events.jsonl", ndjson({"uid": 1000 + i, "v": "lost"} for i in range(3)))
    plan = by_type(rebuild(zone, "--dry-run"))["events"]
    assert (plan["files_in_archive"], plan["files_unrecorded"], plan["files_recovered"]) == (4, 2, 1)
    assert (plan["rows_recovered"], plan["rows_before"], plan["rows_after"]) == (3, 5, 8)
    assert len(table(zone)) == 5  # a dry run writes nothing
    done = by_type(rebuild(zone))["events"]
    assert (done["files_recovered"], done["rows_recovered"], done["rows_after"]) == (1, 3, 8)
    uids = sorted(row[0] for row in zone.query("SELECT uid FROM fz_dev.events"))
    assert uids == sorted(
        [
            *zone.expect.valid["2025_01_01_fz_events.jsonl"],
            *zone.expect.valid["sub/2025_01_02_fz_events.jsonl.gz"],
            1000,
            1001,
            1002,
        ]
    )
    assert ("fz/landing/lost/2024_12_31_fz_events.jsonl", 3) in zone.ledger()
    again = by_type(rebuild(zone))["events"]  # recorded now: nothing to recover, nothing doubled
    assert (again["files_recovered"], again["rows_after"]) == (0, 8)


def test_rows_whose_file_left_the_archive_are_carried_over(zone: Zone) -> None:
    """A lifecycle rule deleted an archived file: its rows stay, with their ledger entry and every column they use."""
    loaded_zone(zone)
    gone = zone.landing / SERVICE / "archive" / "2025_01_01_fz_events.jsonl"
    gone.unlink()
    archive(zone, "2025_01_05_fz_events.jsonl", ndjson([{"uid": 2000, "v": "new", "extra": 1.5}]))
    before = table(zone)
    plan = by_type(rebuild(zone, "--dry-run"))["events"]
    assert (plan["rows_carried_over"], plan["rows_after"], plan["columns_removed"]) == (3, 6, [])
    assert plan["columns_added"] == ["extra FLOAT64"]
    by_type(rebuild(zone))
    rows = zone.query("SELECT uid, _source_file, extra FROM fz_dev.events ORDER BY uid")
    assert len(rows) == 6 and (2000, "fz/landing/2025_01_05_fz_events.jsonl", 1.5) in rows
    kept = {row[:3] for row in before if row[1] == "fz/landing/2025_01_01_fz_events.jsonl"}
    assert kept == {
        (r[0], r[1], r[2]) for r in zone.query("SELECT * FROM fz_dev.events") if r[1].endswith("01_01_fz_events.jsonl")
    }
    assert ("fz/landing/2025_01_01_fz_events.jsonl", 3) in zone.ledger()


def test_columns_follow_the_data_when_nothing_is_carried_over(zone: Zone) -> None:
    loaded_zone(zone)
    with duckdb.connect(str(zone.database)) as con:
        con.execute("ALTER TABLE fz_dev.events ADD COLUMN legacy VARCHAR")
    plan = by_type(rebuild(zone, "--dry-run"))["events"]
    assert plan["columns_removed"] == ["legacy"] and plan["rows_carried_over"] == 0
    rebuild(zone)
    assert "legacy" not in {r[0] for r in zone.query("DESCRIBE fz_dev.events")}


def test_the_rebuild_holds_the_service_lease(zone: Zone) -> None:
    loaded_zone(zone)
    lease = zone.landing / SERVICE / "_state" / "lease.json"
    assert rebuild(zone, fault="rebuild_after_stage:1").returncode == KILLED
    assert lease.exists()  # the killed rebuild's lease stays behind (taken over: its process is gone)


@pytest.mark.parametrize(
    "fault",
    [
        "rebuild_after_stage:1",  # events staged, nothing written
        "rebuild_before_swap:1",  # inside the transaction: the work table full, the live one untouched
        "rebuild_after_commit:1",  # events replaced, metrics not begun
        "rebuild_before_swap:2",  # events replaced, inside the metrics transaction
    ],
)
def test_sigkill_leaves_each_table_as_it_was_or_rebuilt_and_a_rerun_completes(zone: Zone, fault: str) -> None:
    loaded_zone(zone)
    archive(zone, "2024_12_31_fz_events.jsonl", ndjson({"uid": 3000 + i, "v": "lost"} for i in range(2)))
    before = {name: table(zone, name) for name in ("events", "metrics")}
    entries = ledger(zone)
    assert rebuild(zone, fault=fault).returncode == KILLED
    events, metrics = table(zone), table(zone, "metrics")
    assert metrics == before["metrics"]  # never begun, or rolled back
    if fault.startswith("rebuild_after_commit") or fault == "rebuild_before_swap:2":
        assert len(events) == 7  # rebuilt: the recovered file's 2 rows once
    else:
        assert events == before["events"] and ledger(zone) == entries
    zone.land_valid("2025_01_09_fz_events.jsonl", 2)  # a run meanwhile (it takes over the dead rebuild's lease)
    zone.run_to_completion()
    done = by_type(rebuild(zone))
    assert done["events"]["rows_after"] == 9 and done["metrics"]["rows_after"] == 5
    uids = [row[0] for row in zone.query("SELECT uid FROM fz_dev.events")]
    assert sorted(uids) == sorted({*uids}) and {3000, 3001} <= set(uids)  # each record once
    assert sorted(r[0] for r in zone.query("SELECT uid FROM fz_dev.metrics")) == sorted(
        u for name, ids in zone.expect.valid.items() if "metrics" in name for u in ids
    )


def test_a_file_delivered_again_with_lines_appended_loads_each_record_once(zone: Zone) -> None:
    """The run loaded the appended version's new lines only and archived it as `<stem>__2`: so does the rebuild."""
    first = ndjson([{"uid": 1, "v": "a"}, {"uid": 2, "v": "b"}])
    zone.land("2025_03_01_fz_events.jsonl", first)
    zone.run_to_completion()
    zone.land("2025_03_01_fz_events.jsonl", first + ndjson([{"uid": 3, "v": "c"}]))
    zone.run_to_completion()
    assert zone.files("archive") == ["2025_03_01_fz_events.jsonl", "2025_03_01_fz_events__2.jsonl"]
    before = table(zone)
    assert sorted(row[0] for row in zone.query("SELECT uid FROM fz_dev.events")) == [1, 2, 3]
    done = by_type(rebuild(zone))["events"]
    assert (done["files_in_archive"], done["files_unrecorded"], done["rows_after"]) == (2, 0, 3)
    assert table(zone) == before


def test_rows_of_a_version_no_longer_archived_are_never_lost(zone: Zone) -> None:
    """Two different versions loaded under one name, the first gone from archive/: their rows cannot be told
    apart by source file, so the type is not rebuilt (and says why) rather than lose the first version's rows."""
    zone.land("2025_03_01_fz_events.jsonl", ndjson([{"uid": 1}, {"uid": 2}]))
    zone.run_to_completion()
    zone.land("2025_03_01_fz_events.jsonl", ndjson([{"uid": 7}]))
    zone.run_to_completion()
    (zone.landing / SERVICE / "archive" / "2025_03_01_fz_events.jsonl").unlink()
    before = table(zone)
    done = rebuild(zone)
    assert done.returncode == 1
    events = by_type(done)["events"]
    assert "not in archive/ any more" in events["error"]
    assert table(zone) == before
