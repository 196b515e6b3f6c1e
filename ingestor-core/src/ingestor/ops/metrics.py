"""Prometheus metrics of a run and of the state it leaves (see `ingestor status`), for a batch job that cannot
be scraped: pushed to a Pushgateway (`--metrics-push URL`) or written in the text format to a file that node
exporter's textfile collector reads (`--metrics-file PATH`). Every series carries `env`.

Run metrics (`ingestor run`): files by outcome (and reason code), rows and bytes by table, run and phase
durations, load jobs, retries of warehouse calls. State metrics (`ingestor run` and `ingestor status`): landing
backlog and its age, rejected files, last success per data type, stale data types.
"""

from __future__ import annotations

from collections.abc import Callable
from http.client import HTTPException
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, push_to_gateway, write_to_textfile

if TYPE_CHECKING:
    from ingestor.ops.status import Status
    from ingestor.result import IngestResult

# Retries of warehouse calls in this process (BigQuery's transient errors), counted where they happen.
RETRY_REGISTRY = CollectorRegistry()
RETRIES = Counter(
    "ingestor_warehouse_retries", "Warehouse calls retried after a transient error.", registry=RETRY_REGISTRY
)


def retries() -> float:
    """Warehouse calls retried so far in this process."""
    return RETRY_REGISTRY.get_sample_value("ingestor_warehouse_retries_total") or 0.0


def _gauge(registry: CollectorRegistry, name: str, doc: str, labels: tuple[str, ...]) -> Gauge:
    return Gauge(name, doc, ("env", *labels), registry=registry)


def add_run(registry: CollectorRegistry, result: IngestResult, retried: float) -> None:
    """What one run did (`retried`: warehouse calls it retried)."""
    env = result.env
    files = _gauge(
        registry,
        "ingestor_run_files",
        "Files of the last run by outcome and, for a rejected or failed one, its reason code.",
        ("service", "data_type", "status", "reason_code"),
    )
    rows = _gauge(registry, "ingestor_run_rows", "Rows loaded by the last run.", ("service", "data_type", "table"))
    size = _gauge(registry, "ingestor_run_bytes", "Landing bytes settled by the last run.", ("service", "data_type"))
    phase = _gauge(registry, "ingestor_run_phase_seconds", "Seconds per phase.", ("service", "data_type", "phase"))
    jobs = _gauge(registry, "ingestor_run_load_jobs", "Warehouse jobs of the last run.", ("service", "data_type"))
    for outcome in result.files:
        data_type = outcome.data_type or "(unmatched)"
        files.labels(env, outcome.service, data_type, outcome.status.value, outcome.reason_code or "").inc()
        size.labels(env, outcome.service, data_type).inc(outcome.bytes)
    for load in result.tables:
        rows.labels(env, load.service, load.data_type, load.table).inc(load.rows)
        phase.labels(env, load.service, load.data_type, "stage").set(load.stage_seconds)
        phase.labels(env, load.service, load.data_type, "load").set(load.load_seconds)
        jobs.labels(env, load.service, load.data_type).set(len(load.job_ids))
    services = ",".join(result.services)
    labels = ("services",)
    if result.finished_at is not None:
        seconds = (result.finished_at - result.started_at).total_seconds()
        _gauge(registry, "ingestor_run_duration_seconds", "Seconds the last run took.", labels).labels(
            env, services
        ).set(seconds)
    _gauge(registry, "ingestor_run_success", "1 if the last run rejected or failed no file.", labels).labels(
        env, services
    ).set(int(result.success))
    _gauge(registry, "ingestor_run_finished_timestamp_seconds", "When the last run ended.", labels).labels(
        env, services
    ).set_to_current_time()
    _gauge(registry, "ingestor_run_retries", "Warehouse calls retried during the last run.", labels).labels(
        env, services
    ).set(retried)


def add_status(registry: CollectorRegistry, status: Status) -> None:
    """The state of each data type (see ingestor.ops.status)."""
    env, labels = status.env, ("service", "data_type")
    waiting = _gauge(registry, "ingestor_landing_files", "Files waiting in landing.", labels)
    age = _gauge(registry, "ingestor_landing_oldest_age_seconds", "Age of the oldest file in landing.", labels)
    rejected = _gauge(registry, "ingestor_rejected_files", "Files in rejected/.", labels)
    last = _gauge(
        registry, "ingestor_last_success_timestamp_seconds", "When a file of the type was last loaded.", labels
    )
    stale = _gauge(registry, "ingestor_stale", "1 if the data type is past its expected cadence.", labels)
    for t in status.types:
        waiting.labels(env, t.service, t.data_type).set(t.waiting)
        rejected.labels(env, t.service, t.data_type).set(t.rejected)
        if t.oldest_waiting_at is not None:
            age.labels(env, t.service, t.data_type).set((status.generated_at - t.oldest_waiting_at).total_seconds())
        if t.last_loaded_at is not None:
            last.labels(env, t.service, t.data_type).set(t.last_loaded_at.timestamp())
        if t.expected_every:
            stale.labels(env, t.service, t.data_type).set(int(t.freshness.value == "stale"))


def publish(
    registry: CollectorRegistry, job: str, env: str, push: str | None, path: str | None, log: Callable[..., None]
) -> None:
    """Push to a Pushgateway (replacing this job's group for `env`) and/or write the text file; a failure is
    logged, never raised: metrics never change a run's result."""
    if push:
        try:
            push_to_gateway(push, job=job, registry=registry, grouping_key={"env": env}, timeout=10)
        except (OSError, HTTPException, ValueError) as error:  # unreachable, refused (urllib's: OSErrors), a bad URL
            log("metrics could not be pushed to the Pushgateway: %s", error)
    if path:
        try:
            write_to_textfile(path, registry)
        except OSError as error:  # a missing folder, a full disk, no permission
            log("metrics could not be written to %s: %s", path, error)
