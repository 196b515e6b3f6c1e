"""Staged files on their way to BigQuery: grouped by size, concatenated (many small files cost one
upload, not one request each), and, with a staging bucket, uploaded as objects a load job reads by URI
and removed after the commit."""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from ingestor.gcs_client import split_gs_url, storage_client
from ingestor.staged import StagedFile
from ingestor.warehouse.bigquery.client import Api

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

    def __init__(self, api: Api, url: str, storage: Any = None, emulator: str | None = None) -> None:
        self.api = api
        self.name, self.prefix = split_gs_url(url)
        self.emulator = emulator  # a local GCS API server
        self._storage = storage

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
                self.api.retry(
                    lambda: bucket.blob(name).upload_from_file(joined, rewind=True, content_type="application/x-ndjson")
                )

        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            list(pool.map(put, names, groups))
        return [f"gs://{self.name}/{name}" for name in names]

    def remove(self, digest: str) -> None:
        """Delete a batch's objects."""
        bucket = self.storage.bucket(self.name)
        for blob in self.api.retry(
            lambda: list(self.storage.list_blobs(bucket, prefix=f"{self.prefix}_staging/{digest}/"))
        ):
            self.api.retry(partial(bucket.delete_blob, blob.name))

    def close(self) -> None:
        """Close the storage client's HTTP session, if one was opened."""
        if self._storage is not None:
            self._storage.close()
