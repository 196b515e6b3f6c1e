"""Bounded in time on GCS and BigQuery: every call and every wait has a deadline after which the
files concerned stay in landing as failed, a wait on a job says what it waits for, and a stop ends a run that
waits on BigQuery within seconds (exit 143, lease released); the next run loads every row once.

Through the fault proxy in front of the emulators (skipped without them, like tests/cloud). The emulator runs
a job before it answers its submission; the proxy's `running` fault answers it as real BigQuery does, the job
still RUNNING, so that the client polls it (see proxy.py)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

pytest.importorskip("google.cloud.bigquery")

from ..cloud import conftest as _cloud
from .proxy import PASS, Fault, Proxy, Schedule, fault_proxy
from .test_cloud_faults import CloudZone, cloud_zone, proxied

CloudHarness = _cloud.CloudHarness
emulators, storage_client, bq_client = _cloud.emulators, _cloud.storage_client, _cloud.bq_client  # the fixtures
__all__ = ["bq_client", "cloud_zone", "emulators", "proxied", "storage_client"]  # (fixtures, used by name)

pytestmark = pytest.mark.timeout(180)
STOP_BOUND = 10.0  # seconds from SIGTERM to the end of the process: Cloud Run's SIGKILL comes after 10 s


def polls_fail(job: str = "commit", table: str = "", fault: Fault | None = None) -> Schedule:
    """Every job's submission answered RUNNING, and every poll of a `job` (`commit` or `load`, of `table` or of any
    table) answered 503 `backendError`, which the BigQuery client would retry by itself for 10 minutes (or
    another `fault`). A load job's first look-up, before it is submitted, is answered (404)."""
    fault = fault or Fault("status", 503)
    looked_up: set[str] = set()

    def schedule(method: str, path: str, n: int) -> Fault:
        if method == "POST" and path.split("?")[0].endswith("/jobs"):
            return Fault("running")
        if method == "GET" and f"/ingestor_{job}_" in path and (not table or f"_{table}_" in path):
            name = path.split("?")[0].rsplit("/", 1)[-1]
            if job != "load" or name in looked_up:
                return fault
            looked_up.add(name)
        return PASS

    return schedule


def commit_polls(proxy: Proxy) -> dict[str, int]:
    """How many polls of each job were answered with a fault, by job id."""
    polled: dict[str, int] = {}
    for _, path, kind in proxy.injected():
        if kind != "running":
            job = path.split("?")[0].rsplit("/", 1)[-1]
            polled[job] = polled.get(job, 0) + 1
    return polled


@pytest.fixture
def stuck(emulators: Any, cloud_zone: CloudZone, request: pytest.FixtureRequest) -> Iterator[tuple[Proxy, Any]]:
    """`ingestor run --log-level DEBUG` started on the zone with BigQuery behind a proxy, the test's parameter
    (schedule, polls) saying its schedule and how many polls of each data type's commit to wait for."""
    schedule, polls = request.param
    with fault_proxy(emulators.bigquery, schedule) as proxy:
        process = cloud_zone.start(BIGQUERY_EMULATOR_HOST=proxy.url, INGESTOR_LOG_LEVEL="DEBUG")
        try:
            deadline = time.monotonic() + 90
            while len([n for n in commit_polls(proxy).values() if n >= polls]) < 2:
                assert process.poll() is None, process.communicate()[1][-3000:]
                assert time.monotonic() < deadline, "the commits were never polled"
                time.sleep(0.2)
            yield proxy, process
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()


def _stop(process: Any) -> tuple[float, str]:
    """SIGTERM, then the seconds until the process ended, and its stderr."""
    process.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    print(f"SIGTERM to exit: {time.monotonic() - sent:.2f} s")  # the figure, shown with -s
    return time.monotonic() - sent, stderr


@pytest.mark.parametrize("stuck", [(polls_fail(), 2)], indirect=True)
def test_a_sigterm_ends_a_run_whose_commits_are_never_confirmed(
    stuck: tuple[Proxy, Any], cloud_zone: CloudZone
) -> None:
    """Both data types' load threads poll their commit, which BigQuery ran, in vain; DEBUG shows each job and
    its failed polls; a SIGTERM ends the run at once, the lease released; the next run finds the commits in the
    ledger. (Before: silent, and still alive long after the SIGTERM, inside the client's 10-minute retry.)"""
    proxy, process = stuck
    elapsed, stderr = _stop(process)
    assert process.returncode == 143, stderr[-3000:]
    assert elapsed < STOP_BOUND, f"ended {elapsed:.1f} s after SIGTERM"
    assert "stopped by SIGTERM" in stderr and "Traceback" not in stderr
    for job in commit_polls(proxy):
        assert f"submitted commit job {job}" in stderr
        assert f"job {job}: poll failed (503" in stderr, stderr[-3000:]
    assert "fz/_state/lease.json" not in cloud_zone.h.files("fz/")
    runs = cloud_zone.h.query(f"SELECT status FROM dp_ops_{cloud_zone.h.env}._ingestor_history WHERE kind = 'run'")
    assert runs == [{"status": "stopped"}]  # written within the stop's grace
    done = cloud_zone.run()
    assert done.returncode in (0, 1), done.stderr[-3000:]
    cloud_zone.check()


@pytest.mark.parametrize("stuck", [(polls_fail(fault=Fault("delay", delay=120)), 1)], indirect=True)
def test_a_sigterm_ends_a_run_whose_threads_are_stuck_in_a_request(
    stuck: tuple[Proxy, Any], cloud_zone: CloudZone
) -> None:
    """The polls hang (no answer for two minutes, within the request's 60 s timeout): the load threads are stuck
    in a read that no stop interrupts. The run still ends within the stop's grace, abandoning them."""
    _, process = stuck
    elapsed, stderr = _stop(process)
    assert process.returncode == 143, stderr[-3000:]
    assert elapsed < STOP_BOUND, f"ended {elapsed:.1f} s after SIGTERM"
    assert "thread(s) still in a call" in stderr and "Traceback" not in stderr
    assert "fz/_state/lease.json" not in cloud_zone.h.files("fz/")
    done = cloud_zone.run()
    assert done.returncode in (0, 1), done.stderr[-3000:]
    cloud_zone.check()


def _land_two_types(h: CloudHarness) -> dict[str, list[int]]:
    files = {}
    for n, kind in enumerate(("events", "things", "events")):
        name = f"acme/landing/2025_01_0{n + 1}_00_00_acme_{kind}.jsonl"
        files[name] = list(range(n * 10, n * 10 + 3))
        h.land(name, [{"uid": u, "ts": "2025-01-01T00:00:00Z", "kind": "k"} for u in files[name]])
    return files


@pytest.mark.timeout(120)
def test_a_job_that_never_ends_fails_its_data_type_at_the_deadline(
    proxied: tuple[Proxy, Proxy, CloudHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a 3 s job deadline, the events load job that is never confirmed fails its files (left in landing, the
    deadline in the reason) while things load; the run ends by itself with exit 1. The job had run: the next run
    re-attaches to it (its id is derived from the batch) and commits the rows once."""
    from ingestor.warehouse.bigquery import waits

    _, bigquery, h = proxied
    monkeypatch.setenv("INGESTOR_BQ_JOB_TIMEOUT", "3")
    monkeypatch.setattr(waits, "TELL_EVERY", 1.0)
    files = _land_two_types(h)
    bigquery.schedule = polls_fail("load", "events")
    started = time.monotonic()
    run = h.run("--log-level", "DEBUG")
    assert time.monotonic() - started < 60
    result = h.result(run)
    assert run.exit_code == 1, run.output
    outcomes = {f["path"]: f for f in result["files"]}
    for name in files:
        status, reason = outcomes[name]["status"], outcomes[name]["reason"]
        if "_events" in name:
            assert status == "failed" and "left in landing" in reason
            assert "BigQuery did not answer within 3 s (INGESTOR_BQ_JOB_TIMEOUT): job ingestor_load_" in reason
            assert outcomes[name]["reason_code"] == "deadline"
        else:
            assert status == "loaded", reason
    assert "still waiting for job ingestor_load_" in run.stderr
    assert sorted(h.files("acme/landing/")) == sorted(n for n in files if "_events" in n)

    bigquery.schedule = lambda method, path, n: PASS
    again = h.run()
    assert {f["status"] for f in h.result(again)["files"]} == {"loaded"}
    assert "re-attached to load job ingestor_load_" in again.stderr
    rows = h.query(f"SELECT uid FROM {h.dataset}.events UNION ALL SELECT uid FROM {h.dataset}.things")
    assert sorted(r["uid"] for r in rows) == sorted(u for us in files.values() for u in us)  # each once


@pytest.mark.timeout(120)
def test_a_gcs_call_that_hangs_fails_its_file_at_the_deadline(
    proxied: tuple[Proxy, Proxy, CloudHarness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GCS does not answer about one landing object (its metadata, read before it is moved): with a 2 s
    timeout the move gives up, the file stays in landing as failed, the others are archived."""
    gcs, _, h = proxied
    monkeypatch.setenv("INGESTOR_GCS_TIMEOUT", "2")
    files = _land_two_types(h)
    hung = next(iter(files))

    def schedule(method: str, path: str, n: int) -> Fault:
        if method == "GET" and path.startswith("/storage/") and unquote(path.split("?")[0]).endswith(hung):
            return Fault("delay", delay=90)  # beyond the client's default timeout (60 s)
        return PASS

    gcs.schedule = schedule
    started = time.monotonic()
    run = h.run()
    assert time.monotonic() - started < 30
    assert run.exit_code == 1, run.output
    outcomes = {f["path"]: f for f in h.result(run)["files"]}
    assert outcomes[hung]["status"] == "failed" and "Timeout of 2.0s exceeded" in outcomes[hung]["reason"]
    assert "left in landing" in outcomes[hung]["reason"]
    assert {outcomes[n]["status"] for n in files if n != hung} == {"loaded"}
    assert h.files("acme/landing/") == [hung]
