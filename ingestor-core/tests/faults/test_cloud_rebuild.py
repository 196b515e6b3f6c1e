"""`ingestor rebuild` on GCS and the BigQuery API server, the real command: a dropped table comes back with exactly
the archive's records, a file only in the archive is recovered, a second rebuild changes no row, and SIGKILL at each
step leaves table and ledger as they were (or rebuilt) while a rerun completes it. Skipped without the emulators."""

from __future__ import annotations

import signal
import subprocess
from typing import Any

import orjson
import pytest

pytest.importorskip("google.cloud.bigquery")

from ..cloud import conftest as _cloud
from . import test_cloud_faults as _faults
from .conftest import ingestor_command

CloudZone = _faults.CloudZone
emulators, storage_client, bq_client = _cloud.emulators, _cloud.storage_client, _cloud.bq_client  # the fixtures
cloud_zone = _faults.cloud_zone
pytestmark = pytest.mark.timeout(400)
KILLED = -signal.SIGKILL


def rebuild(zone: CloudZone, *args: str, fault: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    command = [*ingestor_command(fault), "rebuild", *zone.args[1:], *args]  # `run`'s arguments, but the command
    return subprocess.run(
        command, cwd=zone.cwd, env=zone.zone.env(**env), text=True, capture_output=True, timeout=300, check=False
    )


def types(done: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return {t["data_type"]: t for t in orjson.loads(done.stdout)["types"]}


def table(zone: CloudZone, name: str = "events") -> list[tuple[Any, ...]]:
    rows = zone.h.query(f"SELECT uid, _source_file, CAST(_dp_inserted_at AS STRING) AS at FROM fz_{zone.h.env}.{name}")
    return sorted((r["uid"], r["_source_file"], r["at"]) for r in rows)


def ledger(zone: CloudZone) -> list[tuple[Any, ...]]:
    rows = zone.h.query(f"SELECT source_name, checksum, rows FROM fz_{zone.h.env}._ingestor_ledger")
    return sorted((r["source_name"], r["checksum"], r["rows"]) for r in rows)


def loaded(zone: CloudZone) -> None:
    assert zone.run().returncode == 1  # (one rejected file)
    zone.check()


def test_a_dropped_table_is_rebuilt_and_a_second_rebuild_changes_no_row(cloud_zone: CloudZone) -> None:
    loaded(cloud_zone)
    before, entries = table(cloud_zone), ledger(cloud_zone)
    cloud_zone.h.bq.delete_table(f"fz_{cloud_zone.h.env}.events")
    first = types(rebuild(cloud_zone))["events"]
    assert (first["files_in_archive"], first["rows_before"], first["rows_after"]) == (2, 0, 5)
    assert table(cloud_zone) == before and ledger(cloud_zone) == entries
    second = types(rebuild(cloud_zone))["events"]
    assert (second["rows_before"], second["rows_after"], second["files_recovered"]) == (5, 5, 0)
    assert table(cloud_zone) == before and ledger(cloud_zone) == entries
    backup = second["backup"].split(".")[1]
    tables = [t.table_id for t in cloud_zone.h.bq.list_tables(f"fz_{cloud_zone.h.env}")]
    assert backup in tables and backup.startswith("events__before_rebuild_")
    assert not [t for t in tables if t.endswith(("__rebuild", "__rebuild_ledger", "__rebuild_names"))]
    cloud_zone.check()


def test_a_file_only_in_the_archive_is_recovered(cloud_zone: CloudZone) -> None:
    loaded(cloud_zone)
    cloud_zone.h.land("fz/archive/old/2024_12_31_fz_events.jsonl", [{"uid": 900}, {"uid": 901}])
    plan = types(rebuild(cloud_zone, "--dry-run"))["events"]
    assert (plan["files_recovered"], plan["rows_recovered"], plan["rows_after"]) == (1, 2, 7)
    assert len(table(cloud_zone)) == 5  # nothing written
    done = types(rebuild(cloud_zone))["events"]
    assert (done["files_recovered"], done["rows_after"]) == (1, 7)
    uids = [row[0] for row in table(cloud_zone)]
    assert sorted(uids) == [1, 2, 3, 4, 5, 900, 901]


@pytest.mark.parametrize("fault", ["rebuild_after_stage:1", "rebuild_after_load_job:1", "rebuild_after_commit:1"])
def test_sigkill_leaves_the_table_as_it_was_or_rebuilt_and_a_rerun_completes(cloud_zone: CloudZone, fault: str) -> None:
    loaded(cloud_zone)
    cloud_zone.h.land("fz/archive/2024_12_31_fz_events.jsonl", [{"uid": 800}])
    before, entries = table(cloud_zone), ledger(cloud_zone)
    killed = rebuild(cloud_zone, fault=fault, INGESTOR_LEASE_TTL="1")  # its lease expires soon after the kill
    assert killed.returncode == KILLED, killed.stderr[-3000:]
    if fault.startswith("rebuild_after_commit"):
        assert len(table(cloud_zone)) == 6 and len(ledger(cloud_zone)) == len(entries) + 1
    else:
        assert table(cloud_zone) == before and ledger(cloud_zone) == entries
    done = types(rebuild(cloud_zone, INGESTOR_LEASE_WAIT="30"))  # waits for the dead run's lease, then takes it over
    assert done["events"]["rows_after"] == 6 and done["metrics"]["rows_after"] == 2
    assert [row[0] for row in table(cloud_zone)] == [1, 2, 3, 4, 5, 800]
