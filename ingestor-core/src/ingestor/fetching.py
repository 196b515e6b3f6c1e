"""Fetching: what a `fetch` hook is asked and answers, and the helpers every fetcher shares.

A fetcher pulls new data from a service's API and writes NDJSON files into
`{service}/landing/` (create-only: an existing object is never replaced). What it
has already fetched is remembered per data type in `{service}/_state/bookmarks.json`,
outside `landing/` so the ingester never sees it. Bookmarks are saved after each data
type succeeds, so a failure never loses the progress of the others; a crash between a
file write and its bookmark save fetches that data again next time (at least once: the
records of that window may then be loaded twice, as nothing deduplicates rows by key).

HTTP: `http_client()` gives an `httpx.Client` with a descriptive User-Agent that
retries 429 (honouring Retry-After) and transient 5xx/connection errors with backoff.
Environment: `INGESTOR_HTTP_ATTEMPTS` (default 5), `INGESTOR_HTTP_BACKOFF` (first wait
in seconds, default 1), `INGESTOR_HTTP_MAX_WAIT` (longest wait, default 120),
`INGESTOR_FETCH_CONTACT` (added to the User-Agent, e.g. an e-mail address; chess.com asks for one).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson
import tenacity
from pydantic import BaseModel, ConfigDict, Field, SkipValidation, computed_field, model_validator

from ingestor.landing import Landing

log = logging.getLogger("ingestor.fetch")

STATE_FILE = "_state/bookmarks.json"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SECRET_PARAMS = ("token", "secret", "password", "key", "code", "auth", "signature")


class FetchStatus(StrEnum):
    """How one data type's fetch ended."""

    FETCHED = "fetched"  # new files written
    UP_TO_DATE = "up_to_date"  # nothing new since the bookmark: nothing written
    PLANNED = "planned"  # dry run: these files would be written
    FAILED = "failed"  # see `error`; bookmarks of this data type unchanged


class FetchError(RuntimeError):
    """A data type could not be fetched (the message says why, without credentials)."""


class AuthError(FetchError):
    """The service refused the credentials: every remaining data type of the service fails."""


class ConfigError(FetchError):
    """The fetcher is not configured (missing username, credentials...): exit code 2."""


class FetchRequest(BaseModel):
    """What `ingestor fetch` asks one service's fetcher."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    data_types: list[str] | None = None  # None: every data type of the service
    since: date | None = None  # backfill from this day (UTC), ignoring bookmarks
    days: int | None = Field(None, ge=1)  # backfill the last N days, ignoring bookmarks
    limit: int | None = Field(None, ge=1)  # at most N records per data type (bookmarks stop there)
    dry_run: bool = False  # call the API, write nothing (no files, no bookmarks)
    landing: SkipValidation[Landing] = Field(exclude=True)
    now: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="after")
    def _one_window(self) -> FetchRequest:
        if self.since is not None and self.days is not None:
            raise ValueError("give --since or --days, not both")
        if self.now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return self

    def wants(self, data_type: str) -> bool:
        """Whether this data type was asked for."""
        return self.data_types is None or data_type in self.data_types

    @property
    def start(self) -> date | None:
        """First day of a backfill (`--since`, or today minus `--days` + 1), None when incremental."""
        if self.since is not None:
            return self.since
        if self.days is not None:
            return self.now.astimezone(UTC).date() - timedelta(days=self.days - 1)
        return None


class DataTypeFetch(BaseModel):
    """What fetching one data type did."""

    data_type: str
    status: FetchStatus
    files: list[str] = Field(default_factory=list)
    records: int = 0
    bookmark_before: Any = None
    bookmark_after: Any = None
    error: str | None = None
    notes: list[str] = Field(default_factory=list)


class FetchResult(BaseModel):
    """What fetching one service did."""

    service: str
    landing: str
    dry_run: bool = False
    started_at: datetime
    finished_at: datetime | None = None
    data_types: list[DataTypeFetch] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """No data type failed."""
        return all(d.status != FetchStatus.FAILED for d in self.data_types)


# --- file names and writes ---------------------------------------------------------------------


Precision = Literal["microsecond", "second"]


def file_timestamp(moment: datetime, precision: Precision = "microsecond") -> str:
    """`YYYY_MM_DD_HH_MM_SS_ffffff` in UTC (sorts like time; two runs never share one), or
    `YYYY_MM_DD_HH_MM_SS` for an ingest side that only accepts seconds."""
    return moment.astimezone(UTC).strftime("%Y_%m_%d_%H_%M_%S" + ("_%f" if precision == "microsecond" else ""))


def ndjson(records: Iterable[Mapping[str, Any]]) -> bytes:
    """One JSON object per line, UTF-8."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def digest(value: Any) -> str:
    """A stable sha256 of a JSON value (what snapshot bookmarks remember)."""
    return "sha256:" + hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_landing_file(
    landing: Landing, service: str, suffix: str, data: bytes, moment: datetime, precision: Precision = "microsecond"
) -> str:
    """Create `{service}/landing/{timestamp}_{suffix}.jsonl`, never replacing an object: when the
    name is taken, the timestamp moves on by one unit (the suffix, which the ingester matches,
    stays as it is). Returns the object name."""
    step = timedelta(microseconds=1) if precision == "microsecond" else timedelta(seconds=1)
    for _ in range(1000):
        name = f"{service}/landing/{file_timestamp(moment, precision)}_{suffix}.jsonl"
        if landing.write(name, data, create_only=True):
            return name
        moment += step
    raise FetchError(f"no free landing file name for {suffix!r}")


# --- bookmarks -----------------------------------------------------------------------------------


class BookmarkStore:
    """Per-data-type bookmarks of one service, in `{service}/_state/bookmarks.json`."""

    def __init__(self, landing: Landing, service: str) -> None:
        self.landing = landing
        self.name = f"{service}/{STATE_FILE}"
        raw = landing.read(self.name)
        try:
            state = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as error:
            raise FetchError(f"bookmark file {self.name} is not valid JSON: {error}") from error
        self.bookmarks: dict[str, Any] = dict(state.get("bookmarks", {})) if isinstance(state, dict) else {}

    def get(self, data_type: str) -> Any:
        """The bookmark of a data type, or None."""
        return self.bookmarks.get(data_type)

    def set(self, data_type: str, value: Any) -> None:
        """Change a bookmark in memory (`save` writes it)."""
        if value is None:
            self.bookmarks.pop(data_type, None)
        else:
            self.bookmarks[data_type] = value

    def save(self, moment: datetime | None = None) -> None:
        """Write every bookmark (atomically replacing the previous state file)."""
        stamp = (moment or datetime.now(UTC)).astimezone(UTC).isoformat()
        state = {"version": 1, "updated_at": stamp, "bookmarks": self.bookmarks}
        self.landing.write(self.name, orjson.dumps(state, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))


# --- running a service's data types --------------------------------------------------------------


class TypeFetch:
    """Handed to one data type's fetch function: its bookmark, and where its records go."""

    def __init__(
        self, service: str, data_type: str, request: FetchRequest, bookmark: Any, precision: Precision = "microsecond"
    ) -> None:
        self.service = service
        self.data_type = data_type
        self.request = request
        self.precision: Precision = precision
        self.bookmark = bookmark  # the bookmark before; set `bookmark` to move it
        self.errors: list[str] = []
        self.outcome = DataTypeFetch(data_type=data_type, status=FetchStatus.UP_TO_DATE, bookmark_before=bookmark)

    @property
    def remaining(self) -> int | None:
        """How many more records `--limit` allows (None: no limit)."""
        limit = self.request.limit
        return None if limit is None else max(limit - self.outcome.records, 0)

    def write(self, records: list[dict[str, Any]], suffix: str | None = None) -> str | None:
        """Write records as one landing file `{ts}_{suffix}.jsonl` (default suffix
        `{service}_{data_type}`); nothing when there are none; only planned on a dry run."""
        if not records:
            return None
        suffix = suffix or f"{self.service}_{self.data_type}"
        if self.request.dry_run:
            name = f"{self.service}/landing/{file_timestamp(self.request.now, self.precision)}_{suffix}.jsonl"
        else:
            data = ndjson(records)
            name = write_landing_file(
                self.request.landing, self.service, suffix, data, self.request.now, self.precision
            )
        self.outcome.files.append(name)
        self.outcome.records += len(records)
        return name

    def write_snapshot(self, records: list[dict[str, Any]], previous: Any, suffix: str | None = None) -> Any:
        """Write a snapshot (a profile, a list...) unless it is the one written last time, whose
        digest is `previous` (a backfill window writes it anyway). Returns the digest to keep."""
        if self.remaining is not None:
            records = records[: self.remaining]
        fingerprint = digest(records)
        if fingerprint == previous and self.request.start is None:
            return previous
        self.write(records, suffix)
        return fingerprint

    def error(self, message: str) -> None:
        """Record a failure of one part (e.g. one user) and go on: the data type fails, but the
        bookmark the fetcher set for the parts that worked is kept."""
        log.error("%s %s: %s", self.service, self.data_type, message)
        self.errors.append(message)

    def note(self, message: str) -> None:
        """Add a note to the result (and the log)."""
        log.info("%s %s: %s", self.service, self.data_type, message)
        self.outcome.notes.append(message)


TypeFetcher = Callable[[TypeFetch], None]


def run_fetch(
    service: str, request: FetchRequest, fetchers: Mapping[str, TypeFetcher], precision: Precision = "microsecond"
) -> FetchResult:
    """Run each requested data type's fetcher in order, recording files, records, bookmarks and
    errors; save the bookmarks after each success. A `FetchError` fails that data type; an
    `AuthError` fails it and every data type after it (with the same message)."""
    result = FetchResult(
        service=service, landing=request.landing.url, dry_run=request.dry_run, started_at=datetime.now(UTC)
    )
    try:
        store = BookmarkStore(request.landing, service)
    except FetchError as error:  # a damaged state file: fix or remove it, never guess
        return failed_result(service, request, fetchers, str(error))
    auth_failure: str | None = None
    for data_type, fetcher in fetchers.items():
        if not request.wants(data_type):
            continue
        task = TypeFetch(service, data_type, request, store.get(data_type), precision)
        outcome = task.outcome
        if auth_failure is not None:
            outcome.status, outcome.error = FetchStatus.FAILED, auth_failure
            result.data_types.append(outcome)
            continue
        log.info("fetching %s %s (bookmark %s)", service, data_type, _short(task.bookmark))
        try:
            fetcher(task)
        except ConfigError:
            raise
        except AuthError as error:
            auth_failure = str(error)
            outcome.status, outcome.error = FetchStatus.FAILED, auth_failure
        except (FetchError, httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            outcome.status, outcome.error = FetchStatus.FAILED, describe_error(error)
        if outcome.status == FetchStatus.FAILED:
            log.error("%s %s failed: %s", service, data_type, outcome.error)
            outcome.bookmark_after = outcome.bookmark_before
            result.data_types.append(outcome)
            continue
        outcome.bookmark_after = task.bookmark
        if task.errors:
            outcome.status, outcome.error = FetchStatus.FAILED, "; ".join(task.errors)
        elif outcome.files:
            outcome.status = FetchStatus.PLANNED if request.dry_run else FetchStatus.FETCHED
        if not request.dry_run and task.bookmark != outcome.bookmark_before:
            store.set(data_type, task.bookmark)
            store.save(request.now)
        result.data_types.append(outcome)
    result.finished_at = datetime.now(UTC)
    return result


def failed_result(service: str, request: FetchRequest, types: Iterable[str], error: str) -> FetchResult:
    """A result where every requested data type failed with `error` (e.g. not implemented)."""
    now = datetime.now(UTC)
    outcomes = [DataTypeFetch(data_type=t, status=FetchStatus.FAILED, error=error) for t in types if request.wants(t)]
    return FetchResult(
        service=service,
        landing=request.landing.url,
        dry_run=request.dry_run,
        started_at=now,
        finished_at=now,
        data_types=outcomes,
    )


def _short(value: Any, width: int = 80) -> str:
    text = orjson.dumps(value).decode() if value is not None else "none"
    return text if len(text) <= width else text[: width - 3] + "..."


# --- HTTP ----------------------------------------------------------------------------------------


def safe_url(url: str | httpx.URL) -> str:
    """A URL fit for logs and messages: no user info, secret-looking query values redacted."""
    parts = urlsplit(str(url))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, "REDACTED" if any(s in k.lower() for s in SECRET_PARAMS) else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def describe_error(error: BaseException) -> str:
    """A one-line reason without credentials (HTTP errors name method, URL and status)."""
    if isinstance(error, httpx.HTTPStatusError):
        response = error.response
        return (
            f"{response.request.method} {safe_url(response.request.url)} -> {response.status_code} "
            f"{response.reason_phrase}".rstrip()
        )
    if isinstance(error, httpx.RequestError):
        return f"{error.request.method} {safe_url(error.request.url)}: {type(error).__name__}: {error}"
    if isinstance(error, FetchError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport: retries 429/5xx answers and connection errors (tenacity), waiting
    Retry-After when the server gives one, else exponential backoff with jitter."""

    def __init__(
        self,
        transport: httpx.BaseTransport,
        *,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.attempts = max(attempts, 1)
        self.max_wait = max_wait
        self.sleep = sleep
        self._backoff = tenacity.wait_exponential_jitter(multiplier=backoff, max=max_wait, jitter=backoff / 2)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            seconds = retry_after_seconds(outcome.result())
            if seconds is not None:
                return min(seconds, self.max_wait)
        return float(self._backoff(state))

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        request: httpx.Request = state.args[0]
        if outcome is None:
            return
        if outcome.failed:
            why = type(outcome.exception()).__name__
        else:
            response = outcome.result()
            why = str(response.status_code)
            response.close()
        wait = state.next_action.sleep if state.next_action else 0
        log.warning(
            "%s %s: %s, retrying in %.1fs (attempt %d of %d)",
            request.method,
            safe_url(request.url),
            why,
            wait,
            state.attempt_number + 1,
            self.attempts,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, retrying transient failures; the last answer (or error) is returned (raised)."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(httpx.TransportError)
            | tenacity.retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            before_sleep=self._before_sleep,
            sleep=self.sleep,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            reraise=True,
        )
        return retrying(self._send, request)  # type: ignore[no-any-return]

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.transport.handle_request(request)
        if response.status_code in RETRY_STATUSES:
            response.read()  # so it can be closed and the connection reused
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.transport.close()


def user_agent(service: str) -> str:
    """`ingestor/<version> (<service> fetcher; personal data export[; contact])`."""
    from ingestor import __version__

    contact = os.environ.get("INGESTOR_FETCH_CONTACT", "").strip()
    extra = f"; {contact}" if contact else ""
    return f"ingestor/{__version__} ({service} fetcher; personal data export{extra}) httpx/{httpx.__version__}"


def http_client(
    service: str,
    base_url: str,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client for one service's API: User-Agent, timeouts, retries (see the module doc)."""
    retrying = RetryTransport(
        transport or httpx.HTTPTransport(),
        attempts=int(_env_float("INGESTOR_HTTP_ATTEMPTS", 5)),
        backoff=_env_float("INGESTOR_HTTP_BACKOFF", 1.0),
        max_wait=_env_float("INGESTOR_HTTP_MAX_WAIT", 120.0),
    )
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"User-Agent": user_agent(service), "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        transport=retrying,
        follow_redirects=True,
    )


def get_json(client: httpx.Client, url: str, **params: Any) -> Any:
    """GET a JSON body; HTTP errors raise `httpx.HTTPStatusError` (after the retries)."""
    response = client.get(url, params={k: v for k, v in params.items() if v is not None} or None)
    response.raise_for_status()
    return response.json()
