"""GCSLanding on the storage emulator. The emulator ignores generation preconditions, so what it does is
tested on it directly, and what the preconditions guard (a move's copy and delete, `create`, `replace` and
`delete` racing another writer, a lease taken over) with the real bucket wrapped in `EnforcePreconditions`,
a double that checks them itself."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.api_core.exceptions import PreconditionFailed

from ingestor.landing import FileChanged, UnsafeName, Versioned
from ingestor.landing.gcs import GCSLanding
from ingestor.run.lease import acquire, release, renew
from ingestor.settings import Settings
from ingestor.staging.reader import MalformedFile, read_records

from ..faults.limits import MiB, tmpfs
from ..faults.test_concurrency import created_renewed_released, taken_over_after_expiry

pytestmark = pytest.mark.timeout(120)
_buckets = itertools.count(1)
NAME = "acme/landing/2025_01_01_00_00_acme_things.jsonl"
ARCHIVED = "acme/archive/2025_01_01_00_00_acme_things.jsonl"


class EnforcePreconditions:
    """The real bucket, with the generation preconditions of copy/delete/upload enforced as GCS does (412), and
    hooks to act at the worst moment: `after_copy` runs between a move's copy and its delete,
    `hidden` names are reported absent by `get_blob` once (a writer that is faster than us), and with
    `lost_answers` an upload happens but answers 412 (what the client's retry meets after a lost answer)."""

    def __init__(self, bucket: Any) -> None:
        self._bucket = bucket
        self.after_copy: Callable[[], None] | None = None
        self.hidden: set[str] = set()
        self.lost_answers = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)

    def _generation(self, name: str) -> int:
        blob = self._bucket.get_blob(name)
        return 0 if blob is None else int(blob.generation)

    def _check(self, name: str, kwargs: dict[str, Any]) -> None:
        if "if_generation_match" in kwargs and self._generation(name) != kwargs["if_generation_match"]:
            raise PreconditionFailed(f"{name}: generation does not match")

    def blob(self, name: str, **kwargs: Any) -> Any:
        return _GuardedBlob(self._bucket.blob(name, **kwargs), self)

    def get_blob(self, name: str, **kwargs: Any) -> Any:
        if name in self.hidden:
            self.hidden.discard(name)
            return None
        return self._bucket.get_blob(name, **kwargs)

    def copy_blob(self, blob: Any, destination: Any, new_name: str, **kwargs: Any) -> Any:
        blob = getattr(blob, "_blob", blob)
        self._check(new_name, kwargs)
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
        self._check(name, kwargs)
        self._bucket.delete_blob(name)


class _GuardedBlob:
    """A real blob whose uploads are checked by its `EnforcePreconditions` bucket."""

    def __init__(self, blob: Any, bucket: EnforcePreconditions) -> None:
        self._blob, self._guard = blob, bucket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._blob, name)

    def upload_from_string(self, data: bytes, **kwargs: Any) -> None:
        self._guard._check(self._blob.name, kwargs)
        self._blob.upload_from_string(data)
        if self._guard.lost_answers:
            raise PreconditionFailed(f"{self._blob.name}: generation does not match (the retry of a lost answer)")


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


def test_a_landing_file_is_streamed_never_downloaded_whole(
    landing: GCSLanding, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Cloud Run the disk is memory: 40 MB of NUL bytes are rejected at their first bound on a record with
    a temporary disk of 4 MB (a whole download would not fit), and a good file reads back whole."""
    _put(landing, NAME, b"\x00" * 40 * MiB)
    _put(landing, "acme/landing/sub/x.jsonl.gz", gzip.compress(b'{"b": 2}\n' * 100_000))
    nul, good = sorted(landing.list("acme/landing/"), key=lambda f: f.size, reverse=True)
    with tmpfs(tmp_path / "tmp", 4) as small:
        monkeypatch.setattr(tempfile, "tempdir", str(small))
        with landing.open(nul) as stream, pytest.raises(MalformedFile, match="NUL bytes"):
            list(read_records(stream, max_bytes=MiB))
        with landing.open(good) as stream:
            assert sum(1 for _ in read_records(stream, gzipped=True, max_bytes=MiB)) == 100_000


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


# -- state objects (a lease, a rejection's reason): create, compare-and-swap, delete of a generation ---------------
STATE = "acme/_state/lease.json"


def test_state_objects_on_the_emulator(landing: GCSLanding) -> None:
    """What the emulator does by itself: versions are generations, `create` never writes over a name it sees."""
    first = landing.create(STATE, b"one")
    assert first == str(landing.bucket.get_blob(STATE).generation)
    assert landing.create(STATE, b"two") is None and landing.read(STATE) == b"one"
    assert landing.read_versioned(STATE) == Versioned(b"one", first)
    second = landing.replace(STATE, b"two", first)
    assert second is not None and second != first
    assert landing.read_versioned(STATE) == Versioned(b"two", second)
    assert landing.delete(STATE, second) and landing.read_versioned(STATE) is None
    assert landing.delete(STATE, second)  # already gone: a retried delete
    assert landing.is_folder("acme/landing") and not landing.is_folder("acme/../landing")


def test_state_objects_only_change_at_the_version_seen(landing: GCSLanding) -> None:
    """The preconditions (enforced by the double): a stale version neither replaces nor deletes, and a create
    racing another writer past its look is refused."""
    landing.bucket = EnforcePreconditions(landing.bucket)
    seen = landing.create(STATE, b"mine")
    assert seen is not None
    _put(landing, STATE, b"another run's")
    assert landing.replace(STATE, b"mine again", seen) is None
    assert not landing.delete(STATE, seen)
    assert landing.read(STATE) == b"another run's"
    reason = "acme/rejected/x.jsonl.reason.json"
    _put(landing, reason, b"an earlier file's reason")
    landing.bucket.hidden.add(reason)  # it appears after create's look: `if_generation_match=0` refuses it
    assert landing.create(reason, b"ours") is None and landing.read(reason) == b"an earlier file's reason"


def test_the_lease_on_gcs(landing: GCSLanding) -> None:
    """As on a local landing zone (tests/faults/test_concurrency.py), with the preconditions enforced."""
    landing.bucket = EnforcePreconditions(landing.bucket)
    created_renewed_released(landing, STATE)
    taken_over_after_expiry(landing, STATE)


def test_a_retried_lease_write_is_recognised_as_ours(landing: GCSLanding) -> None:
    """An answer lost after the server wrote: the client's retry meets the precondition (412); the lease reads
    its own bytes back instead of reporting itself busy or lost."""
    guarded = EnforcePreconditions(landing.bucket)
    landing.bucket = guarded
    guarded.lost_answers = True
    held = acquire(landing, STATE, "run-a", ttl=60, wait=0)
    renew(held)
    assert not held.lost and held.version == str(landing.bucket.get_blob(STATE).generation)
    release(held)
    assert landing.read(STATE) is None


def test_folder_placeholders_are_skipped_and_names_past_the_limit_refused(landing: GCSLanding) -> None:
    _put(landing, "acme/landing/folder/", b"")  # the console's folder: no file
    _put(landing, "acme/landing/x/", b'{"a": 1}\n')  # content under a folder's name: a file (the scan rejects it)
    assert [f.name for f in landing.list("acme/landing/")] == ["acme/landing/x/"]
    too_long = "acme/rejected/" + "a/" * 510 + "x.jsonl"
    with pytest.raises(ValueError, match="object name of 1041 bytes, over GCS's limit of 1024"):
        landing.write(too_long, b"{}")
