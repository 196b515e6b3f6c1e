"""The BigQuery client: where it points (the URL's project, location and staging, the emulator's
endpoint), its calls, each with bounded retries, and which errors are worth another try."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlparse

import requests
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from ingestor.gcs_client import local_server
from ingestor.metrics import RETRIES
from ingestor.names import validate_identifier
from ingestor.warehouse import LoadError

if TYPE_CHECKING:
    from ingestor.settings import Settings

T = TypeVar("T")

DEFAULT_LOCATION = "US"
RETRY_ATTEMPTS = 7
# The client's own retry of one call, bounded (its default allows 600 s per call, which stacked
# under RETRY_ATTEMPTS would take an hour to report an outage), its retries counted in the metrics.
CALL_RETRY = Retry(
    predicate=bigquery.DEFAULT_RETRY._predicate,  # the client's own choice of retriable errors
    timeout=60,
    on_error=lambda _: RETRIES.inc(),
)
_TRANSIENT_REASONS = {"backendError", "internalError", "rateLimitExceeded", "backendErrorRetriable", "jobInternalError"}
_TRANSIENT_MESSAGES = (
    "too many table update operations",
    "concurrent update",
    "exceeded rate limits",
    "retry",
    "backenderror",
    "internal error",
)
_DATA_REASONS = {"invalid", "invalidQuery"}


# -- errors ------------------------------------------------------------------------------------------------
def _reasons(error: BaseException) -> set[str]:
    return {e.get("reason", "") for e in getattr(error, "errors", None) or [] if isinstance(e, dict)}


def refuses_rows(error: BaseException) -> bool:
    """Whether an API error says the rows (or the statement) themselves were refused."""
    return bool(_reasons(error) & _DATA_REASONS)


def is_transient(error: BaseException) -> bool:
    """429, 5xx, rate limits, concurrent-update aborts, connection resets: worth another try."""
    if isinstance(
        error,
        (
            gexc.TooManyRequests,
            gexc.InternalServerError,
            gexc.BadGateway,
            gexc.ServiceUnavailable,
            gexc.GatewayTimeout,
            gexc.RetryError,
        ),
    ):
        return True
    if isinstance(error, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)):
        return True
    if isinstance(error, gexc.GoogleAPICallError):
        message = str(error.message).lower()
        return bool(_reasons(error) & _TRANSIENT_REASONS) or any(m in message for m in _TRANSIENT_MESSAGES)
    return False


@contextmanager
def as_load_error() -> Iterator[None]:
    """BigQuery's and the network's errors as LoadError, with `data_error` when the rows themselves were refused."""
    try:
        yield
    except LoadError:
        raise
    except gexc.GoogleAPICallError as error:
        data = refuses_rows(error) and not is_transient(error)
        raise LoadError(str(error.message).splitlines()[0], data_error=data) from error
    except gexc.RetryError as error:  # the client's own retries ran out, on each of our attempts
        cause = error.cause.message if isinstance(error.cause, gexc.GoogleAPICallError) else error.cause
        raise LoadError(f"BigQuery kept failing ({error.message}): {cause}", data_error=False) from error
    except (requests.RequestException, ConnectionError, TimeoutError) as error:
        raise LoadError(f"BigQuery unreachable: {error}", data_error=False) from error


def job_error(job: Any) -> tuple[str, bool, bool] | None:
    """(message, transient, data_error) of a finished job that failed, else None."""
    result = job.error_result
    if not result:
        return None
    details = [e.get("message", "") for e in (job.errors or []) if e.get("message")]
    message = "; ".join(dict.fromkeys([result.get("message", ""), *details[:5]])).strip("; ")
    reason = result.get("reason", "")
    lowered = message.lower()
    transient = reason in _TRANSIENT_REASONS or any(m in lowered for m in _TRANSIENT_MESSAGES)
    return message or reason, transient, not transient and reason in _DATA_REASONS


# -- where the client points ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """What a `bigquery://` URL and the settings select."""

    project: str
    location: str
    staging: str | None  # gs://BUCKET[/prefix] for staged files, or None (uploads go with each job)
    emulator: str | None  # a local BigQuery API server
    storage_emulator: str | None  # a local GCS API server for the staging bucket

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
    """The calls to BigQuery for one project, each retried on transient errors with bounded backoff
    (`retry_wait` seconds, doubling), the client's own retry of a call bounded by CALL_RETRY."""

    def __init__(self, client: Any, project: str, location: str, retry_wait: float = 1.0) -> None:
        self.client: bigquery.Client = client  # or a test double of one
        self.project = project
        self.location = location
        self.retry_wait = retry_wait

    def retry(self, fn: Callable[[], T]) -> T:
        """Call `fn`, retrying transient errors with bounded exponential backoff."""
        for attempt in Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(RETRY_ATTEMPTS),
            wait=wait_exponential(multiplier=self.retry_wait, max=60 * self.retry_wait),
            reraise=True,
            before_sleep=lambda _: RETRIES.inc(),
        ):
            with attempt:
                return fn()
        raise AssertionError("unreachable")

    def ref(self, dataset: str, table: str) -> str:
        """`project.dataset.table`, validated."""
        return f"{self.project}.{validate_identifier(dataset, 'dataset')}.{validate_identifier(table, 'table')}"

    def query(self, sql: str, params: list[Any] | None = None) -> list[Any]:
        """The rows of a query (or a DDL statement's none)."""
        config = bigquery.QueryJobConfig(query_parameters=params or [])
        return self.retry(lambda: list(self.client.query(sql, job_config=config, retry=CALL_RETRY).result()))

    def get_table(self, dataset: str, table: str) -> bigquery.Table | None:
        """The table, or None when it does not exist."""
        try:
            return self.retry(lambda: self.client.get_table(self.ref(dataset, table), retry=CALL_RETRY))
        except gexc.NotFound:
            return None

    def create_dataset(self, dataset: str) -> None:
        """Create the dataset in `location` if it is missing."""
        ds = bigquery.Dataset(f"{self.project}.{validate_identifier(dataset, 'dataset')}")
        ds.location = self.location
        self.retry(lambda: self.client.create_dataset(ds, exists_ok=True, retry=CALL_RETRY))

    def create_table(self, table: bigquery.Table) -> None:
        """Create the table if it is missing."""
        self.retry(lambda: self.client.create_table(table, exists_ok=True, retry=CALL_RETRY))

    def update_table(self, table: bigquery.Table, fields: list[str]) -> None:
        """Patch these properties of the table."""
        self.retry(lambda: self.client.update_table(table, fields, retry=CALL_RETRY))

    def delete_table(self, dataset: str, table: str) -> None:
        """Drop the table if it exists."""
        self.retry(lambda: self.client.delete_table(self.ref(dataset, table), not_found_ok=True, retry=CALL_RETRY))

    def get_job(self, job_id: str) -> Any:
        """The job (NotFound when there is none)."""
        return self.retry(lambda: self.client.get_job(job_id, location=self.location, retry=CALL_RETRY))

    def existing_job(self, job_id: str) -> Any:
        """The job, or None when there is none."""
        try:
            return self.get_job(job_id)
        except gexc.NotFound:
            return None

    def wait(self, job: Any) -> Any:
        """Wait for a job to finish; its failure (if any) is read from `job.error_result`."""

        def poll() -> Any:
            try:
                job.result()
            except gexc.GoogleAPICallError:
                if job.state != "DONE":
                    raise  # retried when transient, else reported by the caller
            return job

        return self.retry(poll)
