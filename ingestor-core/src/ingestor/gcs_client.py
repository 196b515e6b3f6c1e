"""Google Cloud client helpers shared by the GCS landing zone and the BigQuery warehouse (its staging bucket,
its client on a local API server)."""

from __future__ import annotations

from typing import Any

from google.cloud import storage

from ingestor.landing import check_name
from ingestor.run import stopping

EMULATOR_PROJECT = "test-project"
MIN_TIMEOUT = 1.0  # seconds, a request's shortest timeout


def local_server(host: str) -> dict[str, Any]:
    """A Google client's arguments for a local API server (an emulator) at `host`: anonymous credentials and
    its endpoint (`http://` unless the host names a scheme). Used by the storage and the BigQuery client."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    endpoint = host if "://" in host else "http://" + host
    return {
        "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
        "client_options": ClientOptions(api_endpoint=endpoint),
    }


def storage_client(project: str | None, emulator_host: str | None = None) -> storage.Client:
    """A storage client: ADC, or anonymous credentials against a local GCS API server at `emulator_host`."""
    if emulator_host:
        return storage.Client(project=project or EMULATOR_PROJECT, **local_server(emulator_host))  # type: ignore[no-untyped-call]
    return storage.Client(project=project)


def bounds(timeout: float, *, if_generation: bool = False) -> dict[str, Any]:
    """A storage call's `timeout=` and `retry=`: each request gets `timeout` seconds (after a stop, no more than
    what is left of its grace), and the library retries its choice of errors (with `if_generation`, as for a
    copy, only under a generation precondition) but starts no retry after that time, nor after a stop."""
    from google.cloud.storage.retry import DEFAULT_RETRY, ConditionalRetryPolicy, is_generation_specified

    if stopping.asked():  # what a stopped run still does (its lease's release) ends within the grace
        timeout = min(timeout, max(stopping.grace_left(), MIN_TIMEOUT))

    retriable = DEFAULT_RETRY._predicate
    retry = DEFAULT_RETRY.with_timeout(timeout).with_predicate(lambda e: retriable(e) and not stopping.asked())
    policy = ConditionalRetryPolicy(retry, is_generation_specified, ["query_params"]) if if_generation else retry
    return {"timeout": timeout, "retry": policy}


def split_gs_url(url: str) -> tuple[str, str]:
    """`gs://bucket/some/prefix` -> (`bucket`, `some/prefix/`); the prefix may be empty."""
    if not url.startswith("gs://"):
        raise ValueError(f"not a gs:// URL: {url!r}")
    bucket, _, prefix = url[len("gs://") :].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {url!r}: use gs://BUCKET[/prefix]")
    prefix = prefix.strip("/")
    if prefix:
        check_name(prefix)
    return bucket, prefix + "/" if prefix else ""
