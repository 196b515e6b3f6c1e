"""BigQueryWarehouse on the emulator: re-attaching to load jobs, retries, error classification, views.

Where bqemulator cannot show a behaviour of real BigQuery (409 Conflict on a reused job id), the real
client is wrapped in a small test double that injects exactly that response.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.api_core import exceptions as gexc

from ingestor.catalog import DataType
from ingestor.landing import LandingFile
from ingestor.run.ledger import LedgerEntry
from ingestor.schema import Kind, SchemaBuilder, changes, reconcile
from ingestor.settings import Settings
from ingestor.staging.staged import StagedFile
from ingestor.warehouse import LoadError, LoadRequest, RowsRefused, WarehouseUnavailable
from ingestor.warehouse.bigquery import BigQueryWarehouse

pytestmark = pytest.mark.timeout(300)
PROJECT = "test-project"
_datasets = itertools.count(1)


class SimulatedCrash(Exception):
    """The process dies between the load job and the commit."""


class ConflictOnReusedJobId:
    """The real client, except that a job id submitted before gets 409 Conflict (real BigQuery does this;
    bqemulator accepts the duplicate), and such a job stays invisible to `get_job` until that 409 (as if
    the crashed run's job were not visible yet to the pre-check)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.submitted: set[str] = set()
        self.conflicts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def load_table_from_uri(self, uris: Any, destination: Any, *, job_id: str, **kwargs: Any) -> Any:
        if job_id in self.submitted:
            self.conflicts.append(job_id)
            raise gexc.Conflict(f"Already Exists: Job {PROJECT}:US.{job_id}")
        self.submitted.add(job_id)
        return self._client.load_table_from_uri(uris, destination, job_id=job_id, **kwargs)

    def get_job(self, job_id: str, **kwargs: Any) -> Any:
        if job_id in self.submitted and job_id not in self.conflicts:
            raise gexc.NotFound(f"Not found: Job {job_id}")
        return self._client.get_job(job_id, **kwargs)


class Flaky:
    """The real client, except that the named methods first fail with the given errors."""

    def __init__(self, client: Any, **failures: list[Exception]) -> None:
        self._client = client
        self.failures = failures
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._client, name)
        if name not in self.failures:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if self.failures[name]:
                raise self.failures[name].pop(0)
            return target(*args, **kwargs)

        return call


def _dataset() -> str:
    return f"wh_{os.getpid()}_{next(_datasets)}"


def make_request(
    tmp_path: Path,
    wh: BigQueryWarehouse,
    dataset: str,
    files: dict[str, list[dict[str, Any]]],
    attempt: int = 0,
    raw: dict[str, bytes] | None = None,
) -> LoadRequest:
    """A request as the engine builds it: conformed rows with metadata columns, ledger entries."""
    dt = DataType(service="acme", name="things", dataset=dataset, table="things")
    builder = SchemaBuilder(
        wh.table_schema(dataset, "things"), {dt.inserted_at_column: Kind.TIMESTAMP, dt.source_file_column: Kind.STRING}
    )
    staged = []
    now = datetime(2025, 1, 1, tzinfo=UTC)
    for i, (name, records) in enumerate(files.items()):
        path = tmp_path / f"{dataset}_{attempt}_{i}.jsonl"
        lines = [
            orjson.dumps({**builder.conform(r), dt.inserted_at_column: now.isoformat(), dt.source_file_column: name})
            + b"\n"
            for r in records
        ]
        path.write_bytes((raw or {}).get(name, b"".join(lines)))
        entry = LedgerEntry(
            source_name=name,
            checksum="md5:" + hashlib.md5(path.read_bytes()).hexdigest(),
            size=path.stat().st_size,
            service="acme",
            data_type="things",
            table_name=f"{dataset}.things",
            rows=len(records),
            run_id="run1",
            loaded_at=now,
        )
        staged.append(StagedFile(entry=entry, path=path, source=LandingFile(name, entry.size, "1")))
    schema = reconcile(builder.root, wh.table_schema(dataset, "things"))
    return LoadRequest(
        data_type=dt,
        dataset=dataset,
        table="things",
        schema=schema,
        changes=changes(schema),
        files=staged,
        run_id="run1",
        attempt=attempt,
    )


@pytest.fixture
def bucket(storage_client: Any) -> str:
    name = f"staging-{os.getpid()}-{next(_datasets)}"
    storage_client.create_bucket(name)
    return name


def _count(bq: Any, dataset: str, table: str = "things") -> int:
    return int(next(iter(bq.query(f"SELECT count(*) AS n FROM {dataset}.{table}").result()))["n"])


def test_reattaches_to_the_load_job_after_a_crash(
    tmp_path: Path, bq_client: Any, storage_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _dataset()
    double = ConflictOnReusedJobId(bq_client)
    crashed = BigQueryWarehouse(PROJECT, staging=f"gs://{bucket}", storage=storage_client, client=double, retry_wait=0)
    files = {"acme/landing/a.jsonl": [{"id": 1}, {"id": 2}], "acme/landing/b.jsonl": [{"id": 3}]}
    request = make_request(tmp_path, crashed, dataset, files)

    def crash(*args: Any) -> str:
        raise SimulatedCrash

    monkeypatch.setattr(crashed, "_publish", crash)
    with pytest.raises(SimulatedCrash):
        crashed.load(request)
    assert len(double.submitted) == 1 and _count(bq_client, dataset) == 0
    monkeypatch.undo()

    rerun = BigQueryWarehouse(PROJECT, staging=f"gs://{bucket}", storage=storage_client, client=double, retry_wait=0)
    report = rerun.load(make_request(tmp_path, rerun, dataset, files))
    assert double.conflicts == list(double.submitted)  # 409 -> attached, nothing loaded again
    assert report.job_ids[0] == double.conflicts[0] and report.rows == 3
    assert _count(bq_client, dataset) == 3
    assert _count(bq_client, dataset, "_ingestor_ledger") == 2
    assert sorted(t.table_id for t in bq_client.list_tables(dataset)) == ["_ingestor_ledger", "things"]
    assert list(storage_client.list_blobs(bucket)) == []

    # Another machine that missed the ledger commits the same batch again: the ledger filter keeps it out.
    other = BigQueryWarehouse(
        PROJECT, staging=f"gs://{bucket}", storage=storage_client, client=ConflictOnReusedJobId(bq_client), retry_wait=0
    )
    other.load(make_request(tmp_path, other, dataset, files))
    assert _count(bq_client, dataset) == 3 and _count(bq_client, dataset, "_ingestor_ledger") == 2


def test_refused_rows_are_a_data_error(tmp_path: Path, bq_client: Any) -> None:
    dataset = _dataset()
    wh = BigQueryWarehouse(PROJECT, client=bq_client, retry_wait=0)
    good = {"acme/landing/a.jsonl": [{"id": 1}]}
    wh.load(make_request(tmp_path, wh, dataset, good))
    bad = b'{"id": "not a number", "_source_file": "acme/landing/b.jsonl"}\n'
    request = make_request(
        tmp_path, wh, dataset, {"acme/landing/b.jsonl": [{"id": 2}]}, raw={"acme/landing/b.jsonl": bad}
    )
    with pytest.raises(RowsRefused):  # the refused kind: the batch is split to isolate the file
        wh.load(request)
    assert _count(bq_client, dataset) == 1 and _count(bq_client, dataset, "_ingestor_ledger") == 1
    assert sorted(t.table_id for t in bq_client.list_tables(dataset)) == ["_ingestor_ledger", "things"]


def test_transient_errors_are_retried_then_reported_as_outages(tmp_path: Path, bq_client: Any) -> None:
    dataset = _dataset()
    flaky = Flaky(
        bq_client,
        query=[gexc.ServiceUnavailable("backend"), gexc.TooManyRequests("slow down")],
        get_table=[ConnectionResetError("reset")],
    )
    wh = BigQueryWarehouse(PROJECT, client=flaky, retry_wait=0)
    report = wh.load(make_request(tmp_path, wh, dataset, {"acme/landing/a.jsonl": [{"id": 1}]}))
    assert report.rows == 1 and flaky.calls["query"] >= 3
    assert _count(bq_client, dataset) == 1

    down = Flaky(bq_client, create_dataset=[gexc.ServiceUnavailable("down")] * 50)
    wh = BigQueryWarehouse(PROJECT, client=down, retry_wait=0)
    with pytest.raises(WarehouseUnavailable):  # the transient kind: an outage
        wh.load(make_request(tmp_path, wh, _dataset(), {"acme/landing/a.jsonl": [{"id": 1}]}))


def test_read_only_and_views(tmp_path: Path, bq_client: Any) -> None:
    dataset = _dataset()
    wh = BigQueryWarehouse(PROJECT, client=bq_client)
    wh.load(make_request(tmp_path, wh, dataset, {"acme/landing/a.jsonl": [{"id": 1, "name": "x"}]}))
    checksum = next(iter(bq_client.query(f"SELECT checksum FROM {dataset}._ingestor_ledger").result()))["checksum"]
    loaded = wh.loaded({dataset, "missing_dataset"}, ["acme/landing/a.jsonl", "other"])
    assert {name: [(e.checksum, e.rows) for e in entries] for name, entries in loaded.items()} == {
        "acme/landing/a.jsonl": [(checksum, 1)]
    }
    wh.ensure_view(
        dataset,
        "all_things",
        ["id", "label", "kind"],
        [(dataset, "things", {"id": "id", "label": "name"}, {"kind": "thing"})],
    )
    rows = [dict(r) for r in bq_client.query(f"SELECT * FROM {dataset}.all_things").result()]
    assert rows == [{"id": 1, "label": "x", "kind": "thing"}]
    read_only = BigQueryWarehouse(PROJECT, client=bq_client, read_only=True)
    with pytest.raises(LoadError):
        read_only.load(make_request(tmp_path, read_only, dataset, {"acme/landing/b.jsonl": [{"id": 2}]}))
    assert read_only.table_schema(dataset, "nope") is None


def test_configuration(monkeypatch: pytest.MonkeyPatch, emulators: Any) -> None:
    monkeypatch.setenv("GCP_PROJECT_ID", "from-env")
    monkeypatch.setenv("INGESTOR_BQ_LOCATION", "EU")
    monkeypatch.setenv("INGESTOR_STAGING_BUCKET", "my-bucket")
    wh = BigQueryWarehouse.from_url("bigquery://", Settings())
    assert (wh.project, wh.location, wh.staging) == ("from-env", "EU", ("my-bucket", ""))
    wh = BigQueryWarehouse.from_url("bigquery://p1?location=asia-northeast1&staging=gs://b/pre", Settings())
    assert (wh.project, wh.location, wh.staging) == ("p1", "asia-northeast1", ("b", "pre/"))
    monkeypatch.delenv("GCP_PROJECT_ID")
    with pytest.raises(ValueError, match="GCP_PROJECT_ID"):
        BigQueryWarehouse.from_url("bigquery://", Settings())
    assert Settings(landing="gs://", env="prd").landing_url == "gs://ela-dp-prd"
    assert Settings(landing="gs://", bucket="mine").landing_url == "gs://mine"


def test_google_libraries_stay_unimported_by_light_commands() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom ingestor.cli import app\n"
        "for args in (['--help'], ['list-types'], ['plugins']):\n    CliRunner().invoke(app, args)\n"
        "assert not [m for m in sys.modules if m.startswith('google.cloud')], 'google imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_batch_beyond_the_job_limits_is_split(
    tmp_path: Path, bq_client: Any, storage_client: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestor.warehouse.bigquery import jobs, upload

    dataset = _dataset()
    wh = BigQueryWarehouse(PROJECT, staging=f"gs://{bucket}", storage=storage_client, client=bq_client, retry_wait=0)
    files = {f"acme/landing/{i}.jsonl": [{"id": i}] for i in range(6)}
    request = make_request(tmp_path, wh, dataset, files)
    size = max(f.path.stat().st_size for f in request.files)
    monkeypatch.setattr(jobs, "MAX_JOB_BYTES", 2 * size)  # two files per job
    monkeypatch.setattr(upload, "MAX_STAGING_OBJECT", size)  # one file per staging object
    report = wh.load(request)
    loads = [j for j in report.job_ids if j.startswith("ingestor_load_")]
    assert len(loads) == 3 and report.rows == 6
    assert _count(bq_client, dataset) == 6 and _count(bq_client, dataset, "_ingestor_ledger") == 6
