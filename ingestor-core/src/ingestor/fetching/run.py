"""Running a service's data types in order: each one's fetch function, its files, records, bookmark and errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from ingestor.fetching.bookmarks import BookmarkStore
from ingestor.fetching.client import describe_error
from ingestor.fetching.files import Precision, digest, file_timestamp, ndjson, write_landing_file
from ingestor.fetching.request import (
    AuthError,
    ConfigError,
    DataTypeFetch,
    FetchError,
    FetchRequest,
    FetchResult,
    FetchStatus,
    failed_result,
)

log = logging.getLogger("ingestor.fetch")


class TypeFetch:
    """Handed to one data type's fetch function: its bookmark, and where its records go."""

    def __init__(
        self, service: str, data_type: str, request: FetchRequest, bookmark: Any, precision: Precision = "microsecond"
    ) -> None:
        self.service = service
        """The service fetched."""
        self.data_type = data_type
        """The data type fetched."""
        self.request = request
        """What `ingestor fetch` asked (the window, the limit, the settings...)."""
        self.precision: Precision = precision
        """The precision of the landing file names' timestamps."""
        self.bookmark = bookmark
        """The bookmark before the fetch; set it to move it (saved when the data type succeeds)."""
        self.errors: list[str] = []
        """The failures recorded with `error()`."""
        self.outcome = DataTypeFetch(data_type=data_type, status=FetchStatus.UP_TO_DATE, bookmark_before=bookmark)
        """What this fetch did so far: its files and records."""

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


def _short(value: Any, width: int = 80) -> str:
    text = orjson.dumps(value).decode() if value is not None else "none"
    return text if len(text) <= width else text[: width - 3] + "..."
