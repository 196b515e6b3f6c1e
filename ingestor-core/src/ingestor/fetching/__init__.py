"""Fetching: what a fetcher is asked and answers, and the helpers every fetcher shares.

A fetcher pulls new data from a service's API and writes NDJSON files into `{service}/landing/`
(create-only: an existing object is never replaced). What it has already fetched is remembered per
data type in `{service}/_state/bookmarks.json`, outside `landing/` so the ingester never sees it.
Bookmarks are saved after each data type succeeds, so a failure never loses the progress of the
others; a crash between a file write and its bookmark save fetches that data again next time (at
least once: the records of that window may then be loaded twice, as nothing deduplicates rows by key).

One module per concern: `request` (the request, the result, the errors), `files` (landing file names
and writes), `bookmarks`, `run` (a service's data types in order), `client` (HTTP with retries, as
`request.http` says). Plugins import these names from `ingestor`.
"""

from ingestor.fetching.bookmarks import STATE_FILE, BookmarkStore
from ingestor.fetching.client import (
    RETRY_STATUSES,
    RetryTransport,
    describe_error,
    get_json,
    http_client,
    retry_after_seconds,
    safe_url,
    user_agent,
)
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
from ingestor.fetching.run import TypeFetch, TypeFetcher, run_fetch

__all__ = [
    "RETRY_STATUSES",
    "STATE_FILE",
    "AuthError",
    "BookmarkStore",
    "ConfigError",
    "DataTypeFetch",
    "FetchError",
    "FetchRequest",
    "FetchResult",
    "FetchStatus",
    "Precision",
    "RetryTransport",
    "TypeFetch",
    "TypeFetcher",
    "describe_error",
    "digest",
    "failed_result",
    "file_timestamp",
    "get_json",
    "http_client",
    "ndjson",
    "retry_after_seconds",
    "run_fetch",
    "safe_url",
    "user_agent",
    "write_landing_file",
]
