"""The landing zone in a Google Cloud Storage bucket (`gs://BUCKET[/prefix]`).

Credentials come only from Application Default Credentials. When `STORAGE_EMULATOR_HOST` is set
(honoured by google-cloud-storage itself), anonymous credentials are used instead.

Objects are read at the generation that was listed (`LandingFile.version`), so the checksum recorded
in the ledger (the object's md5, or crc32c for composite objects, from the listing: no download)
always describes the bytes that were loaded. A move is a copy then a delete, both guarded by
generation preconditions: the copy is create-only (`if_generation_match=0`), so it never overwrites a
different object at the destination (a free `numbered` name is chosen instead), and the delete only
removes the generation that was copied, so a newer object written meanwhile under the same name
survives. A file whose live generation is no longer the one read is not moved at all (FileChanged).
A move interrupted between copy and delete completes on the next run: the identical copy found at
the destination is reused and only the source is deleted.

Every call is bounded in time (`timeout`, `INGESTOR_GCS_TIMEOUT`): each request gets that long, and the
client starts no retry after it (see `gcs_client.bounds`).

A small object's version is its generation: `create` uploads with `if_generation_match=0`, `replace`
and `delete` with the generation read, so GCS itself refuses a change over a version not seen.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from google.api_core.exceptions import NotFound, PreconditionFailed

from ingestor.gcs_client import bounds, split_gs_url, storage_client
from ingestor.landing import FileChanged, LandingFile, Stream, UnsafeName, Versioned, check_name, numbered
from ingestor.landing.reading import Ranges, buffer_for

if TYPE_CHECKING:
    from google.cloud.storage import Blob, Bucket

    from ingestor.settings import Settings

log = logging.getLogger("ingestor.landing.gcs")
MAX_OBJECT_NAME_BYTES = 1024  # GCS's limit on a whole object name


def _checksum(blob: Blob) -> str:
    """The content checksum GCS keeps in the object's metadata, as `md5:<hex>` (or `crc32c:<hex>`)."""
    if blob.md5_hash:
        return "md5:" + base64.b64decode(blob.md5_hash).hex()
    if blob.crc32c:
        return "crc32c:" + base64.b64decode(blob.crc32c).hex()
    raise ValueError(f"object {blob.name} carries no md5 or crc32c")


class GCSLanding:
    """Objects of a bucket (below an optional prefix); names are relative to that prefix."""

    concurrency = 8  # each move is 3 requests; below the HTTP session's pool of 10 connections
    local = False

    def __init__(self, bucket: str, prefix: str, client: Any, timeout: float = 60.0) -> None:
        self.client = client
        self.timeout = timeout
        self.bucket: Bucket = self.client.bucket(bucket)
        self.prefix = prefix
        self.url = f"gs://{bucket}/{prefix}".rstrip("/")

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> GCSLanding:
        """`gs://BUCKET` or `gs://BUCKET/prefix`."""
        client = storage_client(settings.gcs.project, settings.gcs.emulator_host)
        return cls(*split_gs_url(url), client=client, timeout=settings.gcs.timeout)

    @property
    def _call(self) -> dict[str, Any]:
        """A call's timeout and retry."""
        return bounds(self.timeout)

    @property
    def _copy(self) -> dict[str, Any]:
        """A copy's timeout and retry (only under a generation precondition)."""
        return bounds(self.timeout, if_generation=True)

    def _key(self, name: str) -> str:
        """The object key for a name we build (checked: it can never climb out of a folder, and GCS takes it)."""
        key = self.prefix + check_name(name)
        if len(key.encode()) > MAX_OBJECT_NAME_BYTES:
            raise ValueError(f"object name of {len(key.encode())} bytes, over GCS's limit of {MAX_OBJECT_NAME_BYTES}")
        return key

    def _listed_key(self, file: LandingFile) -> str:
        """The key of an object as listed: used as it is, whatever its name, so that even an
        object with an unsafe name can be read and moved to rejected/ (under a safe name)."""
        return self.prefix + file.name

    def list(self, prefix: str) -> Iterator[LandingFile]:
        """Objects whose name starts with `prefix`, in name order. Folder placeholders (empty objects named
        `folder/`, as the console makes) are skipped; an object with content is listed whatever its name."""
        found = []
        for blob in self.client.list_blobs(self.bucket.name, prefix=self.prefix + prefix, **self._call):
            if blob.name.endswith("/") and not blob.size:
                continue
            name = blob.name[len(self.prefix) :]
            found.append(
                LandingFile(name, int(blob.size or 0), str(blob.generation), blob.updated, checksum=_checksum(blob))
            )
        yield from sorted(found, key=lambda f: f.name)

    def open(self, file: LandingFile) -> AbstractContextManager[Stream]:
        """The listed generation's bytes, streamed in ranged requests (`reading.Ranges`): each byte downloaded once, and
        no request past the listed size. Never downloaded whole (on Cloud Run the disk is memory too): a file
        that is not NDJSON costs no more than its first bound on a record to reject. Its checksum is GCS's."""
        blob = self.bucket.blob(self._listed_key(file), generation=int(file.version))
        return Stream(Ranges(blob, file.size, lambda: self._call), lambda: self.checksum(file), buffer_for(file.size))

    def checksum(self, file: LandingFile) -> str:
        """md5 (or crc32c) of the listed generation, from metadata: the listing's, else looked up."""
        if file.checksum is not None:
            return file.checksum
        blob = self.bucket.get_blob(self._listed_key(file), generation=int(file.version), **self._call)
        if blob is None:
            raise FileNotFoundError(file.name)
        return _checksum(blob)

    def move(self, file: LandingFile, destination: str) -> str:
        """Copy (create-only) then delete the copied generation; see the module docstring."""
        generation = int(file.version)
        source = self.bucket.blob(self._listed_key(file), generation=generation)
        checksum = self.checksum(file)
        live = self.bucket.get_blob(self._listed_key(file), **self._call)
        if live is None:
            raise FileNotFoundError(f"{file.name} is no longer in landing")
        if int(live.generation) != generation:  # rewritten since it was read: it stays for the next run
            raise FileChanged(f"{file.name} changed after it was read (a new generation, {live.size} bytes)")
        n, name = 1, destination
        while True:
            existing = self.bucket.get_blob(self._key(name), **self._call)
            if existing is None:
                try:
                    self.bucket.copy_blob(
                        source,
                        self.bucket,
                        self._key(name),
                        source_generation=generation,
                        if_generation_match=0,
                        if_source_generation_match=generation,
                        **self._copy,
                    )
                    break
                except PreconditionFailed:  # destination taken meanwhile (or our own retried copy)?
                    existing = self.bucket.get_blob(self._key(name), **self._call)
                    if existing is None:  # no: the source generation is gone (rewritten)
                        raise FileChanged(f"{file.name} changed while being moved") from None
                except NotFound as error:
                    raise FileNotFoundError(f"{file.name} is no longer in landing") from error
            if existing is not None and existing.size == file.size and _checksum(existing) == checksum:
                break  # an earlier, interrupted move of this very content
            if existing is not None:
                n += 1
                name = numbered(destination, n)
        try:
            self.bucket.delete_blob(self._listed_key(file), if_generation_match=generation, **self._call)
        except NotFound:
            pass  # already gone: another run finished this move
        except PreconditionFailed:
            log.warning("%s was rewritten while being moved: the newer object stays in place", file.name)
        return name

    def write(self, name: str, data: bytes, *, create_only: bool = False) -> bool:
        """Upload a whole object; with `create_only`, as `create`."""
        if create_only:
            return self.create(name, data) is not None
        self.bucket.blob(self._key(name)).upload_from_string(data, **self._call)
        return True

    def create(self, name: str, data: bytes) -> str | None:
        """Upload with `if_generation_match=0` (after a look that spares the upload when the name is taken)."""
        if self.bucket.get_blob(self._key(name), **self._call) is not None:
            return None
        return self._upload(name, data, 0)

    def replace(self, name: str, data: bytes, version: str) -> str | None:
        """Upload with `if_generation_match=<version>`."""
        return self._upload(name, data, int(version))

    def delete(self, name: str, version: str) -> bool:
        """Delete with `if_generation_match=<version>`."""
        try:
            self.bucket.delete_blob(self._key(name), if_generation_match=int(version), **self._call)
        except NotFound:
            return True
        except PreconditionFailed:
            return False
        return True

    def _upload(self, name: str, data: bytes, generation: int) -> str | None:
        """Upload only over `generation` (0: no object); the new generation, or None if the precondition failed."""
        blob = self.bucket.blob(self._key(name))
        try:
            blob.upload_from_string(data, if_generation_match=generation, **self._call)
        except PreconditionFailed:
            return None
        return str(blob.generation)

    def read(self, name: str) -> bytes | None:
        """An object's bytes, or None when absent."""
        try:
            data: bytes = self.bucket.blob(self._key(name)).download_as_bytes(**self._call)
        except NotFound:
            return None
        return data

    def read_versioned(self, name: str) -> Versioned | None:
        """The live generation (metadata), then that generation's bytes; looked up again if it was replaced
        between the two requests."""
        key = self._key(name)
        while True:
            blob = self.bucket.get_blob(key, **self._call)
            if blob is None:
                return None
            try:
                data: bytes = self.bucket.blob(key, generation=blob.generation).download_as_bytes(**self._call)
            except NotFound:
                continue
            return Versioned(data, str(blob.generation))

    def is_folder(self, name: str) -> bool:
        """Any safe name: a bucket's folders are name prefixes, none to create and none leading out of it."""
        try:
            check_name(name)
        except UnsafeName:
            return False
        return True

    def close(self) -> None:
        """Close the client's HTTP session."""
        self.client.close()
