"""Staged files on their way to BigQuery: grouped by size, concatenated (many small files cost one
upload, not one request each), and, with a staging bucket, uploaded as objects a load job reads by URI
and removed after the commit."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from ingestor.gcs_client import bounds, split_gs_url, storage_client
from ingestor.run import stopping
from ingestor.staging.staged import StagedFile
from ingestor.warehouse.bigquery.client import Api
from ingestor.warehouse.bigquery.waits import Deadline

T = TypeVar("T")
MAX_STAGING_OBJECT = 1024**3  # staged files are concatenated into objects of up to this size
UPLOAD_THREADS = 4


def batches(files: list[StagedFile], max_bytes: int) -> list[list[StagedFile]]:
    """Split staged files into consecutive groups of at most `max_bytes` (a group holds one file at least)."""
    out: list[list[StagedFile]] = [[]]
    size = 0
    for file in files:
        length = file.path.stat().st_size
        if out[-1] and size + length > max_bytes:
            out.append([])
            size = 0
        out[-1].append(file)
        size += length
    return out


def concatenate(files: list[StagedFile], out: Any) -> None:
    """Append the files' bytes to `out` (each staged file ends with a newline)."""
    for file in files:
        with file.path.open("rb") as part:
            shutil.copyfileobj(part, out)
    out.flush()


class StagingBucket:
    """`gs://BUCKET[/prefix]`: a batch's objects go under `{prefix}_staging/{digest}/`."""

    def __init__(
        self, api: Api, url: str, storage: Any = None, emulator: str | None = None, timeout: float = 60.0
    ) -> None:
        self.api = api
        self.name, self.prefix = split_gs_url(url)
        self.emulator = emulator  # a local GCS API server
        self._storage = storage
        self.timeout = timeout  # seconds a call may take (see gcs_client.bounds)

    @property
    def storage(self) -> Any:
        """The storage client (created on first use)."""
        if self._storage is None:
            self._storage = storage_client(self.api.project, self.emulator)
        return self._storage

    def upload(self, files: list[StagedFile], digest: str, part: str) -> list[str]:
        """Upload the staged files, concatenated into objects of up to `MAX_STAGING_OBJECT`; their URIs."""
        bucket = self.storage.bucket(self.name)
        groups = batches(files, MAX_STAGING_OBJECT)
        names = [f"{self.prefix}_staging/{digest}/{part}/{i:05d}.jsonl" for i in range(len(groups))]

        def put(name: str, group: list[StagedFile]) -> None:
            with tempfile.TemporaryFile() as joined:
                concatenate(group, joined)
                upload = bucket.blob(name).upload_from_file
                self._call(f"uploading {name}", upload, joined, rewind=True, content_type="application/x-ndjson")

        with stopping.threads(UPLOAD_THREADS, "ingestor-upload") as pool:
            list(pool.map(put, names, groups))
        return [f"gs://{self.name}/{name}" for name in names]

    def remove(self, digest: str) -> None:
        """Delete a batch's objects."""
        bucket = self.storage.bucket(self.name)
        folder = f"{self.prefix}_staging/{digest}/"

        def listed(**bounded: Any) -> list[Any]:
            return list(self.storage.list_blobs(bucket, prefix=folder, **bounded))

        for blob in self._call(f"listing {folder}", listed):
            self._call(f"deleting {blob.name}", bucket.delete_blob, blob.name)

    def _call(self, what: str, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`method(*args, **kwargs)` with a storage call's bounds, retried on transient errors up to a deadline."""
        deadline = Deadline(self.api.limits.job, "GCS")  # (a staging upload is part of a load job's time)
        return self.api.retry(lambda: method(*args, **kwargs, **bounds(self.timeout)), what, deadline)

    def close(self) -> None:
        """Close the storage client's HTTP session, if one was opened."""
        if self._storage is not None:
            self._storage.close()
