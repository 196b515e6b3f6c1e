"""The BigQuery client: where it points (the URL's project, location and staging, the emulator's
endpoint) and its calls, each bounded in time (see waits) and retried on transient errors (see errors)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlparse

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
)

from ingestor.gcs_client import local_server
from ingestor.names import validate_identifier
from ingestor.ops.metrics import RETRIES
from ingestor.run import stopping
from ingestor.warehouse.bigquery.errors import is_transient
from ingestor.warehouse.bigquery.waits import Deadline, Limits, wait_for

if TYPE_CHECKING:
    from ingestor.settings import Settings

T = TypeVar("T")
log = logging.getLogger("ingestor.warehouse.bigquery")

DEFAULT_LOCATION = "US"
RETRY_ATTEMPTS = 7  # the ingestor's tries of one operation (as long as its deadline allows)
CLIENT_RETRY_MAX = 4.0  # seconds, the longest pause between the client's own retries of a request
_client_retries = bigquery.DEFAULT_RETRY._predicate  # the client's own choice of retriable errors


# -- where the client points ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """What a `bigquery://` URL and the settings select."""

    project: str
    location: str
    staging: str | None  # gs://BUCKET[/prefix] for staged files, or None (uploads go with each job)
    emulator: str | None  # a local BigQuery API server
    storage_emulator: str | None  # a local GCS API server for the staging bucket
    limits: Limits = field(default_factory=Limits)  # how long BigQuery may take
    storage_timeout: float = 60.0  # seconds a call to the staging bucket may take

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> Target:
        """`bigquery://PROJECT[?location=EU&staging=gs://BUCKET/prefix]`; `bigquery://` takes `GCP_PROJECT_ID`."""
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        project = parsed.netloc or settings.bigquery.project or ""
        if not project:
            raise ValueError("no project: use bigquery://PROJECT or set GCP_PROJECT_ID")
        staging = query.get("staging") or settings.bigquery.staging_bucket
        if staging and not staging.startswith("gs://"):
            staging = "gs://" + staging
        return cls(
            project,
            query.get("location") or settings.bigquery.location,
            staging or None,
            settings.bigquery.emulator_host,
            settings.gcs.emulator_host,
            Limits(settings.bigquery.call_timeout, settings.bigquery.job_timeout),
            settings.gcs.timeout,
        )


def make_client(project: str, location: str, emulator: str | None) -> bigquery.Client:
    """A client with Application Default Credentials, or anonymous ones against the emulator's endpoint."""
    if emulator:
        return bigquery.Client(project=project, location=location, **local_server(emulator))
    return bigquery.Client(project=project, location=location)


# -- calls -------------------------------------------------------------------------------------------------
def parameter(name: str, value: Any) -> Any:
    """A query parameter: a TIMESTAMP, a DATE, a STRING, or an array of STRING."""
    if isinstance(value, datetime):
        return bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
    if isinstance(value, date):
        return bigquery.ScalarQueryParameter(name, "DATE", value)
    if isinstance(value, str):
        return bigquery.ScalarQueryParameter(name, "STRING", value)
    return bigquery.ArrayQueryParameter(name, "STRING", list(value))


class Api:
    """The calls to BigQuery for one project. Each operation has a deadline (`limits.job`, see waits): its
    requests get timeouts that never pass it (`limits.call` at most), the client's own retries of a request
    end with the request's timeout, and the ingestor tries the operation again on a transient error (after
    `retry_wait` seconds, doubling) up to RETRY_ATTEMPTS times while the deadline allows. Each retry is
    logged at DEBUG with its cause."""

    def __init__(
        self, client: Any, project: str, location: str, retry_wait: float = 1.0, limits: Limits | None = None
    ) -> None:
        self.client: bigquery.Client = client  # or a test double of one
        self.project = project
        self.location = location
        self.retry_wait = retry_wait
        self.limits = limits or Limits()

    def deadline(self) -> Deadline:
        """The deadline of an operation that begins now."""
        return Deadline(self.limits.job)

    def bounds(self, deadline: Deadline, what: str) -> dict[str, Any]:
        """A request's `retry=` and `timeout=`: the client's own retries of its choice of errors, none after
        the request's timeout (which never passes the deadline) nor after a stop."""
        timeout = deadline.timeout(self.limits.call)
        retry = Retry(
            predicate=lambda error: _client_retries(error) and not stopping.asked(),
            maximum=CLIENT_RETRY_MAX,
            timeout=timeout,
            on_error=lambda error: _retried(what, error),
        )
        return {"retry": retry, "timeout": timeout}

    def retry(self, fn: Callable[[], T], what: str, deadline: Deadline | None = None) -> T:
        """Call `fn`, trying again on transient errors, up to the deadline (a new operation's by default)."""
        deadline = deadline or self.deadline()
        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_before_delay(deadline.left()),
            wait=wait_exponential(multiplier=self.retry_wait, max=60 * self.retry_wait),
            sleep=deadline.pause,
            reraise=True,
            before_sleep=lambda state: _retried(what, _error_of(state), state.upcoming_sleep),
        )
        try:
            for attempt in retrying:
                with attempt:
                    return fn()
        except Exception as error:  # whatever the call raised goes on up; a transient one the deadline stopped is that
            if is_transient(error) and retrying.statistics.get("attempt_number", 0) < RETRY_ATTEMPTS:
                raise deadline.expired(what, error) from error  # stopped by the deadline, not by the count
            raise
        raise AssertionError("unreachable")

    def call(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`method(*args, **kwargs)`: one operation, its requests bounded, retried up to its deadline."""
        deadline = self.deadline()
        return self.retry(lambda: method(*args, **kwargs, **self.bounds(deadline, what)), what, deadline)

    def ref(self, dataset: str, table: str) -> str:
        """`project.dataset.table`, validated."""
        return f"{self.project}.{validate_identifier(dataset, 'dataset')}.{validate_identifier(table, 'table')}"

    def query(self, sql: str, params: list[Any] | None = None) -> list[Any]:
        """The rows of a query (or a DDL statement's none): its job submitted, waited for and read, again if
        it failed transiently, up to one deadline."""
        config = bigquery.QueryJobConfig(query_parameters=params or [])
        deadline = self.deadline()

        def run() -> list[Any]:
            job = self.client.query(sql, job_config=config, job_retry=None, **self.bounds(deadline, "a query"))
            self.wait(job, deadline)
            return list(job.result(job_retry=None, **self.bounds(deadline, f"the rows of job {job.job_id}")))

        return self.retry(run, "a query", deadline)

    def get_table(self, dataset: str, table: str) -> bigquery.Table | None:
        """The table, or None when it does not exist."""
        ref = self.ref(dataset, table)
        try:
            return self.call(f"reading table {ref}", self.client.get_table, ref)
        except gexc.NotFound:
            return None

    def create_dataset(self, dataset: str) -> None:
        """Create the dataset in `location` if it is missing."""
        ds = bigquery.Dataset(f"{self.project}.{validate_identifier(dataset, 'dataset')}")
        ds.location = self.location
        self.call(f"creating dataset {dataset}", self.client.create_dataset, ds, exists_ok=True)

    def create_table(self, table: bigquery.Table) -> None:
        """Create the table if it is missing."""
        self.call(f"creating table {table.table_id}", self.client.create_table, table, exists_ok=True)

    def update_table(self, table: bigquery.Table, fields: list[str]) -> None:
        """Patch these properties of the table."""
        self.call(f"updating table {table.table_id}", self.client.update_table, table, fields)

    def delete_table(self, dataset: str, table: str) -> None:
        """Drop the table if it exists."""
        ref = self.ref(dataset, table)
        self.call(f"dropping table {ref}", self.client.delete_table, ref, not_found_ok=True)

    def get_job(self, job_id: str) -> Any:
        """The job (NotFound when there is none)."""
        return self.call(f"reading job {job_id}", self.client.get_job, job_id, location=self.location)

    def existing_job(self, job_id: str) -> Any:
        """The job, or None when there is none."""
        try:
            return self.get_job(job_id)
        except gexc.NotFound:
            return None

    def wait(self, job: Any, deadline: Deadline | None = None) -> Any:
        """Wait for a job to finish, up to the deadline (a new operation's by default); its failure, if any, is
        read from `job.error_result`."""
        log.debug("waiting for job %s (%s)", job.job_id, job.state)
        return wait_for(job, deadline or self.deadline(), self.limits.call)


def _error_of(state: RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None


def _retried(what: str, error: BaseException | None, pause: float | None = None) -> None:
    """Count and log a retry (the client's, or the ingestor's after `pause` seconds)."""
    RETRIES.inc()
    if pause is None:
        log.debug("%s: the client retries after %s", what, error)
    else:
        log.debug("%s: trying again in %.1f s after %s", what, pause, error)
