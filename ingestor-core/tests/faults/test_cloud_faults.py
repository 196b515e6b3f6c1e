"""Transient and permanent faults between the Google clients and the GCS/BigQuery emulators (a fault-injecting
proxy on loopback): runs finish within a bounded retry budget, permanent faults end as a reported failure, and
nothing is lost or loaded twice. Skipped without the emulators (like tests/cloud)."""

from __future__ import annotations

import posixpath
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest

pytest.importorskip("google.cloud.bigquery")

from ..cloud import conftest as _cloud
from .conftest import Zone, ingestor_command, wait_stopped
from .proxy import PASS, Fault, Proxy, Schedule, fault_proxy

CloudHarness = _cloud.CloudHarness
emulators, storage_client, bq_client = _cloud.emulators, _cloud.storage_client, _cloud.bq_client  # the fixtures

pytestmark = pytest.mark.timeout(300)
TRANSIENT = [
    Fault("status", 503),
    Fault("status", 429),
    Fault("drop"),
    Fault("status", 500),
    Fault("delay", delay=1.5),
    Fault("lost"),
]


def every(nth: int, faults: list[Fault], limit: int, methods: tuple[str, ...] = ()) -> Schedule:
    """Every `nth` request (of `methods`, or all) gets the next of `faults`, at most `limit` times."""
    used = Counter[str]()

    def schedule(method: str, path: str, n: int) -> Fault:
        if (methods and method not in methods) or n % nth != nth - 1 or used["n"] >= limit:
            return PASS
        used["n"] += 1
        return faults[(used["n"] - 1) % len(faults)]

    return schedule


@pytest.fixture
def proxied(
    emulators: Any, storage_client: Any, bq_client: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Proxy, Proxy, CloudHarness]]:
    """Both emulators behind fault proxies (for the runs; the harness's own clients talk to them directly),
    with BigQuery's retry backoff shortened (its attempt budget unchanged) to keep the test fast."""
    from ingestor.warehouse import bigquery as bq

    original = bq.BigQueryWarehouse.from_url

    def quick(url: str, settings: Any, read_only: bool = False) -> Any:
        warehouse = original(url, settings, read_only=read_only)
        warehouse.retry_wait = 0.05
        return warehouse

    monkeypatch.setattr(bq.BigQueryWarehouse, "from_url", quick)
    with fault_proxy(emulators.storage) as gcs, fault_proxy(emulators.bigquery) as bigquery:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.url)
        monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bigquery.url)
        yield gcs, bigquery, CloudHarness(storage_client, bq_client)


def _land(h: CloudHarness) -> dict[str, list[int]]:
    files = {}
    for day in range(1, 5):
        name = f"acme/landing/2025_01_0{day}_00_00_acme_events.jsonl"
        uids = list(range(day * 100, day * 100 + 5))
        h.land(name, [{"uid": u, "v": f"v{u}"} for u in uids])
        files[name] = uids
    h.land("acme/landing/2025_01_09_00_00_acme_events.jsonl", b'{"uid": -1}\n{broken\n')
    return files


def _check(h: CloudHarness, files: dict[str, list[int]]) -> None:
    """Every file in exactly one place, every record once, ledger = table."""
    names = h.files("acme/")
    assert [n for n in names if n.startswith("acme/landing/")] == []
    for name in files:
        archived = name.replace("/landing/", "/archive/")
        assert archived in names and name.replace("/landing/", "/rejected/") not in names
    assert "acme/rejected/2025_01_09_00_00_acme_events.jsonl" in names
    assert "acme/rejected/2025_01_09_00_00_acme_events.jsonl.reason.json" in names
    assert not [n for n in names if "__2" in n], names
    rows = h.query(f"SELECT uid, _source_file FROM {h.dataset}.events")
    counts = Counter(r["uid"] for r in rows)
    assert {u: n for u, n in counts.items() if n > 1} == {}, "duplicated"
    assert {(r["uid"], r["_source_file"]) for r in rows} == {(u, f) for f, us in files.items() for u in us}
    ledger = h.query(f"SELECT source_name, rows FROM {h.dataset}._ingestor_ledger")
    assert sorted((r["source_name"], r["rows"]) for r in ledger) == sorted((f, len(u)) for f, u in files.items())
    assert "acme/_state/lease.json" not in names


def test_transient_faults_are_retried_within_a_budget(proxied: tuple[Proxy, Proxy, CloudHarness]) -> None:
    gcs, bigquery, h = proxied
    files = _land(h)
    gcs.schedule = every(4, TRANSIENT, limit=10)
    bigquery.schedule = every(3, TRANSIENT, limit=10)
    statuses: list[dict[str, str]] = []
    for _ in range(3):  # the budget: a file whose settling met a non-retriable fault is finished by the next run
        started = time.monotonic()
        run = h.run()
        assert time.monotonic() - started < 120
        result = h.result(run)
        statuses.append({f["path"]: f["status"] for f in result["files"]})
        if not any(s == "failed" for s in statuses[-1].values()):
            break
    assert gcs.injected() and bigquery.injected(), "no fault was injected"
    assert not any(s == "failed" for s in statuses[-1].values()), statuses
    _check(h, files)


def test_a_permanent_warehouse_outage_is_a_reported_failure_without_loss(
    proxied: tuple[Proxy, Proxy, CloudHarness],
) -> None:
    _, bigquery, h = proxied
    files = _land(h)
    # 503 with a reason the BigQuery client does not retry by itself (with `backendError` it retries each call
    # for up to 600 s, and the warehouse's own budget of 7 attempts comes on top: over an hour of outage)
    outage = Fault("status", 503, reason="serviceUnavailable")
    bigquery.schedule = lambda method, path, n: outage if method == "POST" else PASS
    started = time.monotonic()
    run = h.run()
    assert time.monotonic() - started < 90  # the warehouse's bounded budget (7 attempts), backoff shortened
    result = h.result(run)
    assert run.exit_code == 1 and not result["success"]
    statuses = {f["path"]: f["status"] for f in result["files"]}
    assert {statuses[name] for name in files} == {"failed"}, statuses
    assert all("left in landing" in (f["reason"] or "") for f in result["files"] if f["status"] == "failed")
    assert sorted(n for n in h.files("acme/landing/")) == sorted(files)  # all still there, none half-moved
    bigquery.schedule = lambda method, path, n: PASS
    h.result(h.run())
    _check(h, files)


def test_an_outage_the_client_retries_by_itself_is_a_reported_failure(
    proxied: tuple[Proxy, Proxy, CloudHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 `backendError` is retried by the BigQuery client itself until its deadline, then raised as a
    RetryError (no API error): the run still reports the files as failed, left in landing, with the cause."""
    _, bigquery, h = proxied
    monkeypatch.setenv("INGESTOR_BQ_CALL_TIMEOUT", "1")  # the client's own retries of a request end after 1 s
    files = _land(h)
    outage = Fault("status", 500, reason="backendError")
    bigquery.schedule = lambda method, path, n: outage if method == "POST" else PASS
    run = h.run()
    result = h.result(run)
    assert run.exit_code == 1 and not result["success"]
    failed = [f for f in result["files"] if f["path"] in files]
    assert {f["status"] for f in failed} == {"failed"}, failed
    assert all("BigQuery kept failing" in f["reason"] and "left in landing" in f["reason"] for f in failed), failed
    assert sorted(h.files("acme/landing/")) == sorted(files)


def test_a_warehouse_that_cannot_even_be_read_fails_the_files_not_the_run(
    proxied: tuple[Proxy, Proxy, CloudHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outage of every BigQuery call, reads too (the ledger lookup, the table's schema): each file is
    reported failed and left in landing, the result is printed; the next run loads them."""
    _, bigquery, h = proxied
    monkeypatch.setenv("INGESTOR_BQ_CALL_TIMEOUT", "1")  # the client's own retries of a request end after 1 s
    files = _land(h)
    h.result(h.run())  # the table and the ledger exist: the next run reads them first
    later = "acme/landing/2025_02_01_00_00_acme_events.jsonl"
    h.land(later, [{"uid": 999, "v": "late"}])
    outage = Fault("status", 503, reason="serviceUnavailable")
    bigquery.schedule = lambda method, path, n: outage
    run = h.run()
    result = h.result(run)
    assert run.exit_code == 1 and not result["success"]
    [outcome] = result["files"]
    assert outcome["status"] == "failed" and "the warehouse could not be read, left in landing" in outcome["reason"]
    assert h.files("acme/landing/") == [later]
    bigquery.schedule = lambda method, path, n: PASS
    assert h.result(h.run())["files"][0]["status"] == "loaded"
    files[later] = [999]
    _check(h, files)


def test_storage_that_drops_every_other_answer(proxied: tuple[Proxy, Proxy, CloudHarness]) -> None:
    """Answers lost after the server acted (a create that succeeded, a copy that happened): retries must
    recognise their own earlier success (create-only lease, create-only copy, conditional delete)."""
    gcs, _, h = proxied
    files = _land(h)
    gcs.schedule = every(2, [Fault("lost")], limit=12, methods=("POST", "DELETE"))
    for _ in range(3):
        result = h.result(h.run())
        if not any(f["status"] == "failed" for f in result["files"]):
            break
    assert gcs.injected()
    _check(h, files)
    assert orjson.dumps(result)  # the last result is complete JSON


# Names GCS allows but `check_name` refuses. (Names with `..` segments cannot be tested here: the storage emulator
# keeps objects on disk and refuses them; `check_name` and `_safe_relative` are tested directly in test_names.py.)
UNSAFE = [
    "acme/landing/./c_acme_events.jsonl",
    "acme/landing//d_acme_events.jsonl",
    "acme/landing/g\nh_acme_events.jsonl",
]


def _land_names(h: CloudHarness) -> None:
    for name in UNSAFE:
        h.land(name, [{"uid": 1}])
    h.land("acme/landing/sp ace/ünï 日本_acme_events.jsonl", [{"uid": 2}])


def test_object_names_never_leave_the_service_on_gcs(proxied: tuple[Proxy, Proxy, CloudHarness]) -> None:
    _, _, h = proxied
    _land_names(h)
    assert set(UNSAFE) <= set(h.files())  # the bucket holds these names as they are
    result = h.result(h.run())
    statuses = {f["path"]: f["status"] for f in result["files"]}
    assert statuses.pop("acme/landing/sp ace/ünï 日本_acme_events.jsonl") == "loaded"
    assert set(statuses) == set(UNSAFE) and "loaded" not in statuses.values(), statuses
    assert all(name.startswith("acme/") for name in h.files())  # nothing written outside the service
    assert h.query(f"SELECT uid FROM {h.dataset}.events") == [{"uid": 2}]
    for f in result["files"]:
        if f["destination"]:
            assert posixpath.normpath(f["destination"]).startswith(("acme/archive/", "acme/rejected/"))


def test_unsafe_object_names_are_rejected_and_moved_on_gcs(proxied: tuple[Proxy, Proxy, CloudHarness]) -> None:
    _, _, h = proxied
    _land_names(h)
    result = h.result(h.run())
    assert {f["path"]: f["status"] for f in result["files"] if f["path"] in UNSAFE} == dict.fromkeys(UNSAFE, "rejected")
    assert [n for n in h.files("acme/landing/")] == []


# -- crashes, SIGTERM and concurrent runs on GCS + BigQuery: the real command in subprocesses ------------------
class CloudZone:
    """A bucket + BigQuery environment with the `fz` test plugin (installed through an entry point)."""

    VALID: ClassVar[dict[str, list[int]]] = {
        "fz/landing/2025_01_01_fz_events.jsonl": [1, 2, 3],
        "fz/landing/sub/2025_01_02_fz_events.jsonl": [4, 5],
        "fz/landing/2025_01_01_fz_metrics.jsonl": [6, 7],
    }

    def __init__(self, storage: Any, bq: Any, site: Path, tmp_path: Path) -> None:
        self.h = CloudHarness(storage, bq)
        self.zone = Zone(tmp_path, site)
        self.cwd = tmp_path
        for name, uids in self.VALID.items():
            self.h.land(name, [{"uid": u} for u in uids])
        self.h.land("fz/landing/2025_01_03_fz_events.jsonl", b'{"uid": -1}\n{nope\n')
        self.h.land("fz/landing/notes.txt", b"not data\n")
        landing, warehouse = f"gs://{self.h.bucket.name}", "bigquery://test-project"
        self.args = ["run", "--service", "fz", "--env", self.h.env, "--json",
                     "--landing", landing, "--warehouse", warehouse]  # fmt: skip

    def run(self, fault: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ingestor_command(fault), *self.args], cwd=self.cwd, env=self.zone.env(**env),
                              text=True, capture_output=True, timeout=180, check=False)  # fmt: skip

    def start(self, fault: str | None = None, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*ingestor_command(fault), *self.args], cwd=self.cwd, env=self.zone.env(**env),
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def check(self) -> None:
        """Every file in exactly one place, every record once, ledger = tables, lease released."""
        h, valid = self.h, self.VALID
        names = h.files("fz/")
        assert [n for n in names if n.startswith("fz/landing/")] == []
        assert {n.replace("/archive/", "/landing/") for n in names if "/archive/" in n} == set(valid)
        assert {n for n in names if "/rejected/" in n} == {
            "fz/rejected/2025_01_03_fz_events.jsonl", "fz/rejected/2025_01_03_fz_events.jsonl.reason.json",
            "fz/rejected/notes.txt", "fz/rejected/notes.txt.reason.json"}  # fmt: skip
        assert "fz/_state/lease.json" not in names
        dataset = f"fz_{h.env}"
        rows = [(r["uid"], r["_source_file"]) for t in ("events", "metrics")
                for r in h.query(f"SELECT uid, _source_file FROM {dataset}.{t}")]  # fmt: skip
        assert sorted(rows) == sorted((u, name) for name, uids in valid.items() for u in uids)  # each once
        ledger = h.query(f"SELECT source_name, rows FROM {dataset}._ingestor_ledger")
        assert sorted((r["source_name"], r["rows"]) for r in ledger) == sorted((n, len(u)) for n, u in valid.items())


@pytest.fixture
def cloud_zone(emulators: Any, storage_client: Any, bq_client: Any, site: Path, tmp_path: Path) -> CloudZone:
    return CloudZone(storage_client, bq_client, site, tmp_path)


@pytest.mark.parametrize(
    "fault",
    [
        "after_stage:2",  # everything staged, nothing loaded
        "before_publish:1",  # one data type's load job done (staging table), its commit not run
        "after_commit:1",  # one data type committed (rows + ledger), nothing of it moved
        "before_move:4",  # halfway through the moves
    ],
)
def test_sigkill_on_gcs_and_bigquery_then_rerun(fault: str, cloud_zone: CloudZone) -> None:
    crashed = cloud_zone.run(fault=fault, INGESTOR_LEASE_TTL="4")  # its lease outlives it by 4 s at most
    assert crashed.returncode == -9, crashed.stderr[-3000:]
    assert "fz/_state/lease.json" in cloud_zone.h.files("fz/")
    done = cloud_zone.run(INGESTOR_LEASE_WAIT="30")  # waits for the dead run's lease to expire, then takes it over
    assert "took over the stale lease" in done.stderr
    assert done.returncode in (0, 1), done.stderr[-3000:]
    cloud_zone.check()


def test_sigterm_on_gcs_and_bigquery(cloud_zone: CloudZone) -> None:
    """Loads run in threads there: SIGTERM ends the run at once (exit 143); a load in flight ends at its next wait,
    and the files of a batch it committed stay in landing for the next run, which finds them in the ledger."""
    stopped = cloud_zone.run(fault="after_commit:1:TERM")
    assert stopped.returncode == 143 and "stopped by SIGTERM" in stopped.stderr, stopped.stderr[-3000:]
    assert "Traceback" not in stopped.stderr
    assert "fz/_state/lease.json" not in cloud_zone.h.files("fz/")  # released on the way out
    assert cloud_zone.run().returncode in (0, 1)
    cloud_zone.check()


def test_a_second_run_on_the_same_bucket_is_busy(cloud_zone: CloudZone) -> None:
    first = cloud_zone.start(fault="after_stage:1:STOP")
    try:
        wait_stopped(first)
        held = orjson.loads(cloud_zone.h.bucket.blob("fz/_state/lease.json").download_as_bytes())
        before = cloud_zone.h.files()
        second = cloud_zone.run()
        assert second.returncode == 75, second.stderr[-3000:]
        assert f"fz/_state/lease.json is held by run {held['run_id']}" in second.stderr
        assert cloud_zone.h.files() == before  # the second run touched nothing
    finally:
        first.send_signal(signal.SIGCONT)
        first.communicate(timeout=120)
    assert first.returncode == 1  # a file was rejected
    cloud_zone.check()


def test_history_survives_a_kill_on_bigquery(cloud_zone: CloudZone) -> None:
    """Killed after one data type's commit: its files' history rows were committed with it, no run row; the rerun
    adds its own rows, and each loaded file is `loaded` once, as in the ledger."""
    h = cloud_zone.h
    table = f"dp_ops_{h.env}._ingestor_history"
    assert cloud_zone.run(fault="after_commit:1", INGESTOR_LEASE_TTL="4").returncode == -9
    committed = h.query(f"SELECT object_name FROM {table} WHERE kind = 'file' AND status = 'loaded'")
    ledger = h.query(f"SELECT source_name FROM fz_{h.env}._ingestor_ledger")
    assert committed and sorted(r["object_name"] for r in committed) == sorted(r["source_name"] for r in ledger)
    assert h.query(f"SELECT COUNT(*) AS n FROM {table} WHERE kind = 'run'") == [{"n": 0}]
    done = cloud_zone.run(INGESTOR_LEASE_WAIT="30")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    cloud_zone.check()
    loaded = h.query(f"SELECT object_name FROM {table} WHERE kind = 'file' AND status = 'loaded'")
    assert sorted(r["object_name"] for r in loaded) == sorted(cloud_zone.VALID)
    assert [r["n"] for r in h.query(f"SELECT COUNT(*) AS n FROM {table} WHERE kind = 'run'")] == [1]


def test_retries_and_history_under_transient_faults(proxied: tuple[Proxy, Proxy, CloudHarness], tmp_path: Path) -> None:
    """The retries a run made show in its metrics; the history holds each loaded file once despite them."""
    from prometheus_client.parser import text_string_to_metric_families

    _, bigquery, h = proxied
    files = _land(h)
    bigquery.schedule = every(2, TRANSIENT, limit=12)
    metrics = tmp_path / "run.prom"
    run = h.run("--metrics-file", str(metrics))
    assert run.exit_code == 1, run.output  # the broken file is rejected
    assert bigquery.injected()
    (retries,) = [s.value for f in text_string_to_metric_families(metrics.read_text()) for s in f.samples
                  if s.name == "ingestor_run_retries"]  # fmt: skip
    assert retries >= 1
    loaded = h.query(f"SELECT object_name FROM dp_ops_{h.env}._ingestor_history WHERE status = 'loaded'")
    assert sorted(r["object_name"] for r in loaded) == sorted(files)
    clean = h.run("--metrics-file", str(metrics))  # nothing left, no fault: no retry counted for this run
    assert clean.exit_code == 0
    assert "ingestor_run_retries{env=" in metrics.read_text() and 'services="acme"} 0.0' in metrics.read_text()
