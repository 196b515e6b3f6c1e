"""A Cloud Run job of N tasks (CLOUD_RUN_TASK_INDEX=0..N-1, CLOUD_RUN_TASK_COUNT=N) over one landing
zone ingests every file exactly once. DuckDB takes one writer at a time, so the tasks run one
after another here; on BigQuery they run in parallel."""

from __future__ import annotations

import json
import zlib

import pytest

SERVICE = "dtest"  # the test plugin's service (conftest.py)
INGEST = {"MODE": "ingest", "SERVICE": SERVICE, "ENV": "dev"}
DAYS = (1, 2)


@pytest.mark.parametrize("task_count", [2, 3, 5])
def test_tasks_together_ingest_every_file_exactly_once(
    base_env, entrypoint, land, data_dir, landing_files, sql, dtest_types, task_count
):
    expected_rows = {}
    for day in DAYS:
        for i, data_type in enumerate(dtest_types):
            land(data_type, rows=i + day, day=day)
            expected_rows[data_type] = expected_rows.get(data_type, 0) + i + day
    root = data_dir / "ela-dp-dev" / SERVICE
    stray = root / "landing" / "2025_01_01_06_00_dtest_unknown.jsonl"  # no data type: rejected once
    stray.write_text('{"id": 1}\n')
    landed = landing_files(root / "landing")

    taken: dict[int, list[str]] = {}
    for index in range(task_count):
        proc = entrypoint(base_env, **INGEST, CLOUD_RUN_TASK_INDEX=str(index), CLOUD_RUN_TASK_COUNT=str(task_count))
        result = json.loads(proc.stdout)
        taken[index] = [f["path"] for f in result["files"]]
        statuses = {f["data_type"]: f["status"] for f in result["files"]}
        assert set(statuses.values()) <= {"loaded", "rejected"}, statuses
        # each task takes whole data types: those whose key hashes to its index
        for data_type in {f["data_type"] for f in result["files"] if f["data_type"]}:
            assert zlib.crc32(f"{SERVICE}.{data_type}".encode()) % task_count == index
        assert proc.returncode == (1 if "rejected" in statuses.values() else 0), proc.stderr

    every = [path for paths in taken.values() for path in paths]
    assert len(every) == len(set(every)) == len(landed), "each file taken by exactly one task"
    assert landing_files(root / "landing") == []
    archived = landing_files(root / "archive")
    assert len(archived) == len(landed) - 1
    assert landing_files(root / "rejected") == [
        "2025_01_01_06_00_dtest_unknown.jsonl",
        "2025_01_01_06_00_dtest_unknown.jsonl.reason.json",
    ]
    database = data_dir / "warehouse_dev.duckdb"
    for data_type, rows in expected_rows.items():
        assert sql(database, f"SELECT count(*) FROM dtest_dev.{data_type}") == [(rows,)], data_type
        assert sql(database, f"SELECT count(DISTINCT (day, id)) FROM dtest_dev.{data_type}") == [(rows,)]

    # a retried task (Cloud Run's maxRetries) finds nothing left to do
    for index in range(task_count):
        proc = entrypoint(base_env, **INGEST, CLOUD_RUN_TASK_INDEX=str(index), CLOUD_RUN_TASK_COUNT=str(task_count))
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["files"] == []


def test_a_task_index_outside_the_count_exits_2(base_env, entrypoint):
    proc = entrypoint(base_env, **INGEST, CLOUD_RUN_TASK_INDEX="3", CLOUD_RUN_TASK_COUNT="3")
    assert proc.returncode == 2
    assert "task index 3 is not below the task count 3" in proc.stderr


def test_a_retried_task_after_a_crash_does_not_load_twice(base_env, entrypoint, land, data_dir, landing_files, sql):
    """A file loaded but not yet archived (the task died in between) is archived, not reloaded."""
    land("events", rows=3)
    proc = entrypoint(base_env, **INGEST)
    assert proc.returncode == 0, proc.stderr
    root = data_dir / "ela-dp-dev" / SERVICE
    (archived,) = landing_files(root / "archive")
    (root / "archive" / archived).rename(root / "landing" / archived)  # as if the move never happened
    proc = entrypoint(base_env, **INGEST)
    assert proc.returncode == 0, proc.stderr
    assert [f["status"] for f in json.loads(proc.stdout)["files"]] == ["already_loaded"]
    assert sql(data_dir / "warehouse_dev.duckdb", "SELECT count(*) FROM dtest_dev.events") == [(3,)]
