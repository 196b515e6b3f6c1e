"""Google Cloud client helpers shared by the GCS landing zone and the BigQuery warehouse (its staging bucket,
its client on a local API server)."""

from __future__ import annotations

from typing import Any

from google.cloud import storage

from ingestor.landing import check_name

EMULATOR_PROJECT = "test-project"


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
