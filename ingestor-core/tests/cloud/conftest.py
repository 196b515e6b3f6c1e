"""Local GCS and BigQuery API servers for the cloud backends' tests, one pair per test process.

The servers come from their own virtual environment (`$INGESTOR_EMULATORS`, default `.emulators` at the
repository root, made by `scripts/install-emulators.sh`). Without it the tests are skipped, or fail when
`CI` is set. Each pytest-xdist worker starts its own pair on free loopback ports with its own data folder.
"""

from __future__ import annotations

import gzip
import itertools
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from ingestor.catalog import DataType
from ingestor.plugins import load_plugins, use_plugins
from ingestor.schema import Kind
from ingestor.testing import Declarations

PROJECT = "test-project"
ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers HTTP
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {START_TIMEOUT}s: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


@dataclass
class Emulators:
    """Where the running servers listen."""

    storage: str
    bigquery: str
    data: Path


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    """Start both servers (sharing one data folder) and point the Google clients at them."""
    venv = Path(os.environ.get("INGESTOR_EMULATORS", ROOT / ".emulators"))
    gcs_bin, bq_bin = venv / "bin" / "gcp-storage-emulator", venv / "bin" / "bqemulator"
    if not (gcs_bin.exists() and bq_bin.exists()):
        message = f"emulators not installed in {venv} (run scripts/install-emulators.sh {venv})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    data = tmp_path_factory.mktemp("emulators")
    (data / ".cloudstorage").mkdir()
    gcs_port, bq_port, grpc_port = _free_port(), _free_port(), _free_port()
    logs = data / "gcs.log", data / "bq.log"
    env = {**os.environ, "BQEMU_GCS_LOCAL_ROOT": str(data / ".cloudstorage")}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for command, log in (
            ([str(gcs_bin), "-d", str(data), "start", "--host", "127.0.0.1", "--port", str(gcs_port), "-q"], logs[0]),
            (
                [
                    str(bq_bin),
                    "start",
                    "--rest-port",
                    str(bq_port),
                    "--grpc-port",
                    str(grpc_port),
                    "--project",
                    PROJECT,
                    "--log-level",
                    "warning",
                ],
                logs[1],
            ),
        ):
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=data))
        deadline = time.monotonic() + START_TIMEOUT
        storage_url, bq_url = f"http://127.0.0.1:{gcs_port}", f"http://127.0.0.1:{bq_port}"
        _wait_http(storage_url + "/", processes[0], logs[0], deadline)
        _wait_http(bq_url + "/", processes[1], logs[1], deadline)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("STORAGE_EMULATOR_HOST", storage_url)
            mp.setenv("BIGQUERY_EMULATOR_HOST", bq_url)
            mp.setenv("GCP_PROJECT_ID", PROJECT)
            mp.delenv("INGESTOR_STAGING_BUCKET", raising=False)
            yield Emulators(storage_url, bq_url, data)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def storage_client(emulators: Emulators) -> Any:
    """A storage client on the emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=PROJECT, credentials=AnonymousCredentials())


@pytest.fixture(scope="session")
def bq_client(emulators: Emulators) -> Any:
    """A BigQuery client on the emulator."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulators.bigquery),
    )


# -- a test plugin and a cloud harness -------------------------------------------------------------------------
# One service, `acme`, with one partitioned and clustered data type and one plain one.
ACME = Declarations(
    DataType(
        service="acme",
        name="things",
        dataset="acme_{env}",
        table="things",
        primary_key=("id",),
        partition_by="ts",
        cluster_by=("kind",),
        schema_hints={"ts": Kind.TIMESTAMP},
    ),
    DataType(service="acme", name="events", dataset="acme_{env}", table="events"),
)


_envs = itertools.count(1)


class CloudHarness:
    """A bucket and an environment of their own, `ingestor run` against the emulators."""

    def __init__(self, storage: Any, bq: Any, *plugins: object, service: str = "acme") -> None:
        self.service = service
        self.env = f"t{os.getpid()}_{next(_envs)}"
        self.dataset = f"acme_{self.env}"
        self.storage, self.bq = storage, bq
        self.bucket = storage.create_bucket(f"ela-dp-{self.env}".replace("_", "-"))
        self.plugins = load_plugins(plugins or (ACME,), entry_points=False, strict=True)

    def land(self, name: str, records: Iterable[dict[str, Any]] | bytes) -> str:
        """Upload a landing object (records as NDJSON; gzip if `.gz`)."""
        data = records if isinstance(records, bytes) else b"".join(orjson.dumps(r) + b"\n" for r in records)
        self.bucket.blob(name).upload_from_string(gzip.compress(data) if name.endswith(".gz") else data)
        return name

    def run(self, *args: str) -> Result:
        """`ingestor run --service <service>` on this bucket and the BigQuery emulator, JSON output."""
        from ingestor.cli import app

        with use_plugins(self.plugins):
            return CliRunner().invoke(
                app,
                [
                    "run",
                    "--service",
                    self.service,
                    "--env",
                    self.env,
                    "--json",
                    "--landing",
                    f"gs://{self.bucket.name}",
                    "--warehouse",
                    f"bigquery://{PROJECT}",
                    *args,
                ],
            )

    @staticmethod
    def result(run: Result) -> dict[str, Any]:
        """The JSON result printed by a run."""
        out = run.stdout
        parsed: dict[str, Any] = orjson.loads(out[out.index("{") :])
        return parsed

    def files(self, prefix: str = "") -> list[str]:
        """Object names of the bucket (under `prefix`), sorted."""
        return sorted(b.name for b in self.storage.list_blobs(self.bucket, prefix=prefix))

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of a query, as dicts."""
        return [dict(row) for row in self.bq.query(sql).result()]

    def tables(self) -> list[str]:
        """Tables of this harness's dataset."""
        try:
            return sorted(t.table_id for t in self.bq.list_tables(self.dataset))
        except Exception:
            return []


@pytest.fixture
def cloud(storage_client: Any, bq_client: Any) -> CloudHarness:
    """A fresh bucket + environment with the `acme` test plugin."""
    return CloudHarness(storage_client, bq_client)


@pytest.fixture
def staging(cloud: CloudHarness, monkeypatch: pytest.MonkeyPatch) -> CloudHarness:
    """The same, with the landing bucket as the BigQuery staging location."""
    monkeypatch.setenv("INGESTOR_STAGING_BUCKET", f"gs://{cloud.bucket.name}")
    return cloud
