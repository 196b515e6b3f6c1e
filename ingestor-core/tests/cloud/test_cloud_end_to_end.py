"""`ingestor run` from a GCS bucket into BigQuery, end to end on the local emulators."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.timeout(300)

THINGS = "acme/landing/2025_01_01_00_00_acme_things.jsonl"


def _statuses(result: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["status"] for f in result["files"]}


@pytest.mark.parametrize("fixture", ["staging", "cloud"], ids=["gcs-staging", "file-upload"])
def test_run_loads_archives_and_rejects(fixture: str, request: pytest.FixtureRequest) -> None:
    h = request.getfixturevalue(fixture)
    h.land(
        THINGS,
        [
            {"id": 1, "kind": "a", "ts": "2025-01-01T10:00:00+02:00", "obj": {"x": 1}, "tags": ["p", "q"]},
            {"id": 2, "kind": "b", "ts": "2025-01-02 08:00:00", "mixed": {"k": 1}},
        ],
    )
    h.land("acme/landing/sub/2025_01_02_00_00_acme_things.jsonl.gz", [{"id": 3, "kind": "a", "mixed": "text"}])
    h.land("acme/landing/2025_01_03_00_00_acme_things.jsonl", b'{"id": 4}\n{not json\n')
    h.land("acme/landing/2025_01_03_00_00_acme_unknown.jsonl", [{"id": 5}])
    run = h.run()
    result = h.result(run)
    assert _statuses(result) == {
        THINGS: "loaded",
        "acme/landing/sub/2025_01_02_00_00_acme_things.jsonl.gz": "loaded",
        "acme/landing/2025_01_03_00_00_acme_things.jsonl": "rejected",
        "acme/landing/2025_01_03_00_00_acme_unknown.jsonl": "rejected",
    }, run.output
    rows = h.query(
        f"SELECT id, kind, ts, obj, tags, TO_JSON_STRING(mixed) AS mixed, _source_file, _dp_inserted_at "
        f"FROM {h.dataset}.things ORDER BY id"
    )
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert rows[0]["ts"].isoformat() == "2025-01-01T08:00:00+00:00"
    assert rows[0]["obj"] == {"x": 1} and rows[0]["tags"] == ["p", "q"]
    assert [r["mixed"] for r in rows] == [None, '{"k":1}', '"text"']  # conflicting types -> a JSON column
    assert rows[2]["_source_file"] == "acme/landing/sub/2025_01_02_00_00_acme_things.jsonl.gz"
    assert rows[0]["_dp_inserted_at"] is not None
    assert h.files("acme/") == sorted(
        [
            "acme/archive/2025_01_01_00_00_acme_things.jsonl",
            "acme/archive/sub/2025_01_02_00_00_acme_things.jsonl.gz",
            "acme/rejected/2025_01_03_00_00_acme_things.jsonl",
            "acme/rejected/2025_01_03_00_00_acme_things.jsonl.reason.json",
            "acme/rejected/2025_01_03_00_00_acme_unknown.jsonl",
            "acme/rejected/2025_01_03_00_00_acme_unknown.jsonl.reason.json",
        ]
    )
    reason = orjson.loads(
        h.bucket.blob("acme/rejected/2025_01_03_00_00_acme_things.jsonl.reason.json").download_as_bytes()
    )
    assert "malformed" in reason["reason"]
    ledger = h.query(f"SELECT source_name, checksum, rows FROM {h.dataset}._ingestor_ledger ORDER BY source_name")
    assert [(r["source_name"], r["rows"]) for r in ledger] == [
        (THINGS, 2),
        ("acme/landing/sub/2025_01_02_00_00_acme_things.jsonl.gz", 1),
    ]
    assert all(r["checksum"].startswith("md5:") for r in ledger)
    # staging cleaned up: no staging tables, no staged objects
    assert h.tables() == ["_ingestor_ledger", "things", "things__latest"]
    assert h.files("_staging/") == []
    table = h.bq.get_table(f"{h.dataset}.things")
    assert table.time_partitioning.field == "ts" and table.clustering_fields == ["kind"]
    things = next(t for t in result["tables"] if t["data_type"] == "things")
    assert len([j for j in things["job_ids"] if j.startswith("ingestor_load_")]) == 1 or fixture == "cloud"

    # The same content lands again (a fetcher re-uploaded it): archived, never loaded twice.
    h.land(
        THINGS,
        [
            {"id": 1, "kind": "a", "ts": "2025-01-01T10:00:00+02:00", "obj": {"x": 1}, "tags": ["p", "q"]},
            {"id": 2, "kind": "b", "ts": "2025-01-02 08:00:00", "mixed": {"k": 1}},
        ],
    )
    again = h.result(h.run())
    assert _statuses(again) == {THINGS: "already_loaded"}
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}.things") == [{"n": 3}]
    assert "acme/archive/2025_01_01_00_00_acme_things__2.jsonl" not in h.files("acme/archive/")
    assert h.files("acme/landing/") == []


def test_dry_run_changes_nothing(staging: Any) -> None:
    h = staging
    h.land(THINGS, [{"id": 1}])
    h.land("acme/landing/2025_01_03_00_00_acme_unknown.jsonl", [{"id": 5}])
    result = h.result(h.run("--dry-run"))
    assert _statuses(result) == {THINGS: "planned", "acme/landing/2025_01_03_00_00_acme_unknown.jsonl": "would_reject"}
    assert h.files() == sorted([THINGS, "acme/landing/2025_01_03_00_00_acme_unknown.jsonl"])
    assert [d.dataset_id for d in h.bq.list_datasets()].count(h.dataset) == 0


def test_schema_evolves_across_runs(staging: Any) -> None:
    h = staging
    h.land(THINGS, [{"id": 1, "n": 1, "obj": {"a": "x"}, "kind": "k"}])
    assert h.run().exit_code == 0
    h.land(
        "acme/landing/2025_01_02_00_00_acme_things.jsonl",
        [{"id": 2, "n": 1.5, "obj": {"a": "y", "b": 2}, "extra": "new", "kind": "k"}],
    )
    second = h.run()
    assert second.exit_code == 0, second.output
    tables = h.result(second)["tables"]
    assert tables[0]["columns_added"] == ["obj.b INT64", "extra STRING"]
    assert tables[0]["columns_widened"] == ["n INT64 -> FLOAT64"]
    rows = h.query(f"SELECT id, n, obj, extra FROM {h.dataset}.things ORDER BY id")
    assert rows == [
        {"id": 1, "n": 1.0, "obj": {"a": "x", "b": None}, "extra": None},
        {"id": 2, "n": 1.5, "obj": {"a": "y", "b": 2}, "extra": "new"},
    ]
    schema = {f.name: f for f in h.bq.get_table(f"{h.dataset}.things").schema}
    assert schema["n"].field_type in ("FLOAT", "FLOAT64")
    assert [f.name for f in schema["obj"].fields] == ["a", "b"]
    # a third run against the evolved table plans no change
    h.land("acme/landing/2025_01_03_00_00_acme_things.jsonl", [{"id": 3, "n": 2, "obj": {"b": 3}}])
    third = h.result(h.run())
    assert third["tables"][0]["columns_added"] == [] and third["tables"][0]["columns_widened"] == []
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}.things") == [{"n": 3}]


def test_a_thousand_files_make_one_load_job(staging: Any, tmp_path: Path) -> None:
    """1,000 files of one type: one staging object, one load job. The landing is a local folder here: the
    storage emulator rewrites its whole index on every object operation (~90 ms each at 1,000 objects)."""
    h = staging
    landing = tmp_path / "landing"
    for i in range(1000):
        path = landing / f"acme/landing/2025_01_01_00_00_{i:04d}_acme_events.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps({"i": i}) + b"\n" + orjson.dumps({"i": i, "j": "x"}) + b"\n")
    started = time.monotonic()
    run = h.run("--landing", landing.as_uri())
    elapsed = time.monotonic() - started
    result = h.result(run)
    assert run.exit_code == 0, run.output
    events = next(t for t in result["tables"] if t["data_type"] == "events")
    assert events["files"] == 1000 and events["rows"] == 2000
    assert len([j for j in events["job_ids"] if j.startswith("ingestor_load_")]) == 1
    assert h.query(f"SELECT count(*) AS n, count(DISTINCT _source_file) AS f FROM {h.dataset}.events") == [
        {"n": 2000, "f": 1000}
    ]
    assert len(list(landing.rglob("archive/*.jsonl"))) == 1000
    assert h.files("_staging/") == []
    print(f"1000 files ingested in {elapsed:.1f}s")


class SimulatedCrash(Exception):
    """The process dies between the load job and the commit."""


def test_a_crash_before_the_commit_is_resumed_by_the_next_run(staging: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestor.warehouse.bigquery import BigQueryWarehouse
    from ingestor.warehouse.bigquery.jobs import LoadJobs

    h = staging
    h.land(THINGS, [{"id": 1}, {"id": 2}])
    jobs: list[tuple[str, bool]] = []
    run_load = LoadJobs.run_load

    def spy(self: LoadJobs, *args: Any) -> Any:
        job, reused = run_load(self, *args)
        jobs.append((job.job_id, reused))
        return job, reused

    def crash(self: BigQueryWarehouse, *args: Any) -> str:
        raise SimulatedCrash

    monkeypatch.setattr(LoadJobs, "run_load", spy)
    with monkeypatch.context() as patch:
        patch.setattr(BigQueryWarehouse, "_publish", crash)
        crashed = h.run()
    assert isinstance(crashed.exception, SimulatedCrash)
    assert h.files("acme/landing/") == [THINGS]
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}.things") == [{"n": 0}]
    result = h.result(h.run())
    assert _statuses(result) == {THINGS: "loaded"}
    assert jobs[1] == (jobs[0][0], True)  # the same load job, re-attached: not loaded a second time
    assert result["tables"][0]["job_ids"][0] == jobs[0][0]
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}.things") == [{"n": 2}]
    assert h.tables() == ["_ingestor_ledger", "things", "things__latest"] and h.files("_staging/") == []


def test_several_data_types_load_in_parallel(staging: Any) -> None:
    h = staging
    for i in range(3):
        h.land(f"acme/landing/2025_01_0{i + 1}_00_00_acme_things.jsonl", [{"id": i, "kind": "k"}])
        h.land(f"acme/landing/2025_01_0{i + 1}_00_00_acme_events.jsonl", [{"e": i}, {"e": i + 10}])
    run = h.run()
    assert run.exit_code == 0, run.output
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}.things") == [{"n": 3}]
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}.events") == [{"n": 6}]
    assert h.query(f"SELECT count(*) AS n FROM {h.dataset}._ingestor_ledger") == [{"n": 6}]
    assert h.files("acme/landing/") == [] and len(h.files("acme/archive/")) == 6


def test_gcs_landing_into_duckdb_stages_column_wise(
    cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Columnar staging reads the bucket's objects from several threads (real client, emulator)."""
    import duckdb

    monkeypatch.setenv("INGESTOR_COLUMNAR_MIN_BYTES", "0")  # these small objects too

    for n in range(6):
        cloud.land(
            f"acme/landing/2025_01_0{n + 1}_00_00_acme_events.jsonl", [{"id": n * 10 + i, "v": i} for i in range(5)]
        )
    cloud.land("acme/landing/2025_01_09_00_00_acme_events.jsonl.gz", [{"id": 99, "v": 1.5}])
    database = tmp_path / "w.duckdb"
    result = cloud.result(cloud.run("--warehouse", f"duckdb:///{database}"))
    events = next(t for t in result["tables"] if t["data_type"] == "events")
    assert events["files"] == 7 and events["rows"] == 31
    assert events["columnar_files"] == 5  # the first file makes the schema; the last widens v row by row
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute(
            f"SELECT count(*), sum(id), typeof(any_value(v)) FROM acme_{cloud.env}.events"
        ).fetchall() == [(31, sum(n * 10 + i for n in range(6) for i in range(5)) + 99, "DOUBLE")]
    assert cloud.files("acme/landing/") == []


def test_odd_object_names_on_gcs(cloud: Any, tmp_path: Path) -> None:
    """A folder placeholder is no file; an object with content named like a folder is rejected; a hidden folder is
    left alone; a name whose destination would pass GCS's 1024 bytes fails with that cause, left in landing."""
    cloud.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1}])
    cloud.land("acme/landing/folder/", b"")
    cloud.land("acme/landing/x/", [{"id": 2}])
    cloud.land("acme/landing/.incoming/2025_01_02_00_00_acme_events.jsonl", [{"id": 3}])
    longest = cloud.land("acme/landing/" + ("a" * 250 + "/") * 4 + "x.jsonl", [{"id": 4}])  # 1,024 bytes
    result = cloud.result(cloud.run("--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}"))
    outcomes = {f["path"]: f for f in result["files"]}
    assert {path: f["status"] for path, f in outcomes.items()} == {
        "acme/landing/2025_01_01_00_00_acme_events.jsonl": "loaded",
        "acme/landing/x/": "rejected",
        longest: "failed",
    }
    assert outcomes["acme/landing/x/"]["destination"] == "acme/rejected/x/_"
    assert "object name of 1037 bytes, over GCS's limit of 1024" in outcomes[longest]["reason"]
    assert cloud.files("acme/landing/") == sorted(
        ["acme/landing/folder/", "acme/landing/.incoming/2025_01_02_00_00_acme_events.jsonl", longest]
    )


def test_gcs_files_are_moved_several_at_once_and_reported_in_order(
    cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each GCS move is three requests: on a remote landing zone, files are settled by a pool of threads."""
    import threading

    from ingestor.landing.gcs import GCSLanding

    movers: set[str] = set()
    move = GCSLanding.move

    def spy(self: GCSLanding, file: Any, destination: str) -> str:
        movers.add(threading.current_thread().name)
        time.sleep(0.05)  # as long as a request to the real service: the pool overlaps them
        return move(self, file, destination)

    monkeypatch.setattr(GCSLanding, "move", spy)
    names = [f"acme/landing/2025_01_{n + 1:02d}_00_00_acme_events.jsonl" for n in range(24)]
    for n, name in enumerate(names):
        cloud.land(name, [{"id": n}])
    result = cloud.result(cloud.run("--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}"))
    assert [f["path"] for f in result["files"]] == names  # reported in landing order
    assert {f["status"] for f in result["files"]} == {"loaded"}
    assert cloud.files("acme/landing/") == []
    assert cloud.files("acme/archive/") == sorted(n.replace("/landing/", "/archive/") for n in names)
    assert len(movers) > 1 and all(name.startswith("ingestor-move") for name in movers)


@pytest.mark.parametrize("columnar", ["0", "1"])
def test_small_gcs_files_are_read_ahead_in_threads(
    cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columnar: str
) -> None:
    """Staging row by row reads each object with one request: the next ones are read meanwhile. A read
    that fails ahead is simply done again when the file is staged (here: the first one fails once)."""
    import threading

    import duckdb

    from ingestor.landing.gcs import GCSLanding

    readers: list[str] = []
    failed: list[str] = []
    open_ = GCSLanding.open

    def spy(self: GCSLanding, file: Any) -> Any:
        readers.append(threading.current_thread().name)
        if not failed:
            failed.append(file.name)
            raise ConnectionError("a read that fails ahead")
        return open_(self, file)

    monkeypatch.setattr(GCSLanding, "open", spy)
    monkeypatch.setenv("INGESTOR_COLUMNAR", columnar)
    names = [f"acme/landing/2025_01_{n + 1:02d}_00_00_acme_events.jsonl" for n in range(12)]
    for n, name in enumerate(names):
        cloud.land(name, [{"id": n, "v": "x" * n}])
    result = cloud.result(cloud.run("--warehouse", f"duckdb:///{tmp_path / 'w.duckdb'}"))
    assert [(f["path"], f["status"]) for f in result["files"]] == [(n, "loaded") for n in names]
    assert readers.count("MainThread") == 1  # only the failed one, read again when staged
    assert len(readers) == len(names) + 1 and len(failed) == 1
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        rows = con.execute(f"SELECT id, v FROM acme_{cloud.env}.events ORDER BY id").fetchall()
    assert rows == [(n, "x" * n) for n in range(12)]
