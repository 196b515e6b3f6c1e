"""GCSLanding on the storage emulator. The emulator ignores generation preconditions, so the tests of
what they guard wrap the real bucket in `EnforcePreconditions`, a double that checks them itself."""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable
from typing import Any

import pytest
from google.api_core.exceptions import PreconditionFailed

from ingestor.landing import FileChanged, UnsafeName
from ingestor.landing.gcs import GCSLanding
from ingestor.settings import Settings

pytestmark = pytest.mark.timeout(120)
_buckets = itertools.count(1)
NAME = "acme/landing/2025_01_01_00_00_acme_things.jsonl"
ARCHIVED = "acme/archive/2025_01_01_00_00_acme_things.jsonl"


class EnforcePreconditions:
    """The real bucket, with the generation preconditions of copy/delete enforced as GCS does (412), and
    hooks to act at the worst moment: `after_copy` runs between a move's copy and its delete,
    `hidden` names are reported absent by `get_blob` once (a writer that is faster than us)."""

    def __init__(self, bucket: Any) -> None:
        self._bucket = bucket
        self.after_copy: Callable[[], None] | None = None
        self.hidden: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)

    def _generation(self, name: str) -> int:
        blob = self._bucket.get_blob(name)
        return 0 if blob is None else int(blob.generation)

    def get_blob(self, name: str, **kwargs: Any) -> Any:
        if name in self.hidden:
            self.hidden.discard(name)
            return None
        return self._bucket.get_blob(name, **kwargs)

    def copy_blob(self, blob: Any, destination: Any, new_name: str, **kwargs: Any) -> Any:
        if "if_generation_match" in kwargs and self._generation(new_name) != kwargs["if_generation_match"]:
            raise PreconditionFailed(f"{new_name}: generation does not match")
        if (
            "if_source_generation_match" in kwargs
            and self._generation(blob.name) != kwargs["if_source_generation_match"]
        ):
            raise PreconditionFailed(f"{blob.name}: source generation does not match")
        copied = self._bucket.copy_blob(blob, self._bucket, new_name, source_generation=kwargs.get("source_generation"))
        if self.after_copy is not None:
            self.after_copy()
        return copied

    def delete_blob(self, name: str, **kwargs: Any) -> None:
        if "if_generation_match" in kwargs and self._generation(name) != kwargs["if_generation_match"]:
            raise PreconditionFailed(f"{name}: generation does not match")
        self._bucket.delete_blob(name)


@pytest.fixture
def landing(storage_client: Any) -> GCSLanding:
    name = f"landing-{os.getpid()}-{next(_buckets)}"
    storage_client.create_bucket(name)
    return GCSLanding(name, "", client=storage_client)


def _put(landing: GCSLanding, name: str, data: bytes) -> None:
    landing.bucket.blob(name).upload_from_string(data)


def test_list_open_checksum_read_write(landing: GCSLanding) -> None:
    _put(landing, NAME, b'{"a": 1}\n')
    _put(landing, "acme/landing/sub/x.jsonl", b'{"b": 2}\n')
    _put(landing, "other/landing/y.jsonl", b"{}\n")
    files = list(landing.list("acme/landing/"))
    assert [f.name for f in files] == [NAME, "acme/landing/sub/x.jsonl"]
    assert files[0].size == 9 and files[0].version == str(landing.bucket.get_blob(NAME).generation)
    assert landing.checksum(files[0]) == "md5:" + hashlib.md5(b'{"a": 1}\n').hexdigest()
    with landing.open(files[0]) as stream:
        assert stream.read() == b'{"a": 1}\n'
    assert landing.write("acme/state/bookmark.json", b"1")
    assert landing.write("acme/state/bookmark.json", b"2")
    assert not landing.write("acme/state/bookmark.json", b"3", create_only=True)
    assert landing.read("acme/state/bookmark.json") == b"2"
    assert landing.read("acme/state/missing.json") is None
    with pytest.raises(UnsafeName):
        landing.read("acme/../secrets")


def test_prefix_in_url(storage_client: Any) -> None:
    name = f"landing-{os.getpid()}-{next(_buckets)}"
    storage_client.create_bucket(name).blob("root/acme/landing/a.jsonl").upload_from_string(b"{}\n")
    landing = GCSLanding.from_url(f"gs://{name}/root", Settings())
    assert landing.url == f"gs://{name}/root"
    file = next(landing.list("acme/landing/"))
    assert file.name == "acme/landing/a.jsonl"
    assert landing.move(file, "acme/archive/a.jsonl") == "acme/archive/a.jsonl"
    assert landing.read("acme/archive/a.jsonl") == b"{}\n"
    landing.close()


def test_move_never_overwrites_and_completes_an_interrupted_move(landing: GCSLanding) -> None:
    _put(landing, NAME, b"new\n")
    _put(landing, ARCHIVED, b"an older file of the same name\n")
    file = next(landing.list("acme/landing/"))
    assert landing.move(file, ARCHIVED) == "acme/archive/2025_01_01_00_00_acme_things__2.jsonl"
    assert landing.read(ARCHIVED) == b"an older file of the same name\n"
    assert landing.read("acme/archive/2025_01_01_00_00_acme_things__2.jsonl") == b"new\n"
    # copied, not deleted (a crash mid-move): the next move reuses the identical copy
    _put(landing, NAME, b"again\n")
    _put(landing, "acme/archive/2025_01_01_00_00_acme_things__3.jsonl", b"again\n")
    file = next(landing.list("acme/landing/"))
    assert landing.move(file, ARCHIVED) == "acme/archive/2025_01_01_00_00_acme_things__3.jsonl"
    assert list(landing.list("acme/landing/")) == []
    assert [f.name for f in landing.list("acme/archive/")] == [
        ARCHIVED,
        "acme/archive/2025_01_01_00_00_acme_things__2.jsonl",
        "acme/archive/2025_01_01_00_00_acme_things__3.jsonl",
    ]


def test_a_newer_object_under_the_same_name_is_never_deleted(landing: GCSLanding) -> None:
    guarded = EnforcePreconditions(landing.bucket)
    landing.bucket = guarded
    _put(landing, NAME, b"v1\n")
    file = next(landing.list("acme/landing/"))
    guarded.after_copy = lambda: _put(landing, NAME, b"v2\n")  # a fetcher rewrites it mid-move
    assert landing.move(file, ARCHIVED) == ARCHIVED
    assert landing.read(ARCHIVED) == b"v1\n"
    assert landing.read(NAME) == b"v2\n"  # the delete was refused: generation changed
    # rewritten before the copy: nothing is copied, the file stays in landing for the next run
    guarded.after_copy = None
    stale = file
    with pytest.raises(FileChanged, match="changed"):
        landing.move(stale, "acme/archive/other.jsonl")
    assert landing.read(NAME) == b"v2\n" and landing.read("acme/archive/other.jsonl") is None


def test_copy_is_create_only(landing: GCSLanding) -> None:
    guarded = EnforcePreconditions(landing.bucket)
    landing.bucket = guarded
    _put(landing, NAME, b"mine\n")
    file = next(landing.list("acme/landing/"))
    _put(landing, ARCHIVED, b"someone else's\n")
    guarded.hidden.add(ARCHIVED)  # it appears after our existence check: the copy precondition catches it
    assert landing.move(file, ARCHIVED) == "acme/archive/2025_01_01_00_00_acme_things__2.jsonl"
    assert landing.read(ARCHIVED) == b"someone else's\n"
