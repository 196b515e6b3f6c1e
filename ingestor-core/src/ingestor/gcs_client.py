"""Google Cloud Storage helpers shared by the GCS landing zone and BigQuery's staging bucket."""

from __future__ import annotations

from google.cloud import storage

from ingestor.landing import check_name

EMULATOR_PROJECT = "test-project"


def storage_client(project: str | None, emulator_host: str | None = None) -> storage.Client:
    """A storage client: ADC, or anonymous credentials against a local GCS API server at `emulator_host`."""
    if emulator_host:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials

        endpoint = ClientOptions(api_endpoint=emulator_host if "://" in emulator_host else "http://" + emulator_host)

        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        return storage.Client(project=project or EMULATOR_PROJECT, credentials=anonymous, client_options=endpoint)  # type: ignore[no-untyped-call]
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
