"""The local landing zone's conditional primitives (what a lease and a rejection's reason are made with): create
only if absent, compare-and-swap replace, delete of a version; each atomic against the others, across threads
(each thread opens its own lock, as another process would). GCS: tests/cloud/test_gcs_landing.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestor.landing import Versioned, reason_name
from ingestor.landing.local import LocalLanding

pytestmark = pytest.mark.timeout(60)
STATE = "acme/_state/lease.json"


def _race(n: int, attempt: Callable[[int], object]) -> list[object]:
    """What `attempt(i)` returned in each of n threads started at once."""
    results: list[object] = [None] * n
    start = threading.Barrier(n)

    def one(i: int) -> None:
        start.wait()
        results[i] = attempt(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_create_replace_delete_and_their_versions(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    assert landing.read_versioned(STATE) is None
    v1 = landing.create(STATE, b"one")
    assert v1 is not None and landing.create(STATE, b"two") is None  # never over an existing object
    assert not landing.write(STATE, b"two", create_only=True)
    current = landing.read_versioned(STATE)
    assert current is not None and (current.data, current.version) == (b"one", v1)
    v2 = landing.replace(STATE, b"two", v1)
    assert v2 is not None and v2 != v1 and landing.read(STATE) == b"two"
    assert landing.replace(STATE, b"three", v1) is None  # v1 is gone: nothing written
    assert landing.read(STATE) == b"two"
    assert not landing.delete(STATE, v1)  # another version is there: it stays
    assert landing.read(STATE) == b"two"
    assert landing.delete(STATE, v2)
    assert landing.read_versioned(STATE) is None and not (tmp_path / "acme" / "_state").exists()  # no empty folder
    assert (tmp_path / "acme").is_dir()  # a service's own folder stays
    assert landing.delete(STATE, v2)  # already gone: a retried delete
    assert landing.replace(STATE, b"x", v2) is None and landing.read(STATE) is None  # never recreates it
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_a_version_changes_with_every_write(tmp_path: Path) -> None:
    """Even a rewrite of the same bytes within one clock tick (one modification time) is a new version: the new
    file is made while the one it replaces still holds its inode."""
    landing = LocalLanding(tmp_path)
    previous, version = None, landing.create(STATE, b"same")
    for _ in range(5):
        assert version is not None
        previous, version = version, landing.replace(STATE, b"same", version)
        assert version is not None and version != previous
    assert previous is not None and landing.replace(STATE, b"same", previous) is None


def test_racing_creates_have_one_winner(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    versions = _race(8, lambda i: landing.create(STATE, f"run-{i}".encode()))
    [winner] = [i for i, v in enumerate(versions) if v is not None]
    assert landing.read(STATE) == f"run-{winner}".encode()


def test_racing_compare_and_swaps_of_one_version_have_one_winner(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    seen = landing.create(STATE, b"stale")
    for _ in range(10):
        assert seen is not None
        versions = _race(8, lambda i, seen=seen: LocalLanding(tmp_path).replace(STATE, f"run-{i}".encode(), seen))
        [winner] = [v for v in versions if v is not None]
        assert landing.read_versioned(STATE) == Versioned(landing.read(STATE) or b"", str(winner))
        seen = str(winner)


def test_a_delete_racing_a_create_in_the_same_folder_loses_nothing(tmp_path: Path) -> None:
    """A delete prunes the folder it empties: under the lock, never while a create is writing into it."""
    landing = LocalLanding(tmp_path)
    other = "acme/_state/lease.1-of-2.json"
    for _ in range(20):
        version = landing.create(STATE, b"old")
        assert version is not None

        def step(i: int, version: str = version) -> object:
            return landing.delete(STATE, version) if i == 0 else landing.create(other, b"new")

        results = _race(2, step)
        assert results[0] is True and results[1] is not None
        assert landing.read(STATE) is None and landing.read(other) == b"new"
        assert landing.delete(other, str(results[1]))


def test_an_orphan_reason_can_be_removed_and_only_if_it_is_the_one_written(tmp_path: Path) -> None:
    """What the settle step does when a rejected file changes between its reason's write and its move: delete
    the reason at the version its create returned; a reason rewritten meanwhile stays."""
    landing = LocalLanding(tmp_path)
    reason = reason_name("acme/rejected/sub/2025_01_01_acme_events.jsonl")
    version = landing.create(reason, b'{"reason": "invalid"}')
    assert version is not None
    assert landing.delete(reason, version)
    assert not (tmp_path / "acme" / "rejected" / "sub").exists()  # the folder the write made goes with it
    version = landing.create(reason, b'{"reason": "invalid"}')
    assert version is not None
    landing.write(reason, b'{"reason": "another run\'s"}')
    assert not landing.delete(reason, version) and landing.read(reason) == b'{"reason": "another run\'s"}'


def test_is_folder_means_a_folder_inside_the_root(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path / "zone")
    (tmp_path / "zone" / "acme" / "landing").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "zone" / "other").mkdir()
    (tmp_path / "zone" / "other" / "landing").symlink_to(tmp_path / "outside", target_is_directory=True)
    (tmp_path / "zone" / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert landing.is_folder("acme/landing")
    assert not landing.is_folder("missing/landing")
    assert not landing.is_folder("other/landing")  # a link out of the root (the scan reports it)
    assert not landing.is_folder("linked/landing")
    assert not landing.is_folder("../zone/acme/landing")


def test_a_create_in_a_new_landing_zone_makes_its_root(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path / "new" / "zone")
    assert landing.write("acme/landing/a.jsonl", b"{}\n", create_only=True)
    assert landing.read("acme/landing/a.jsonl") == b"{}\n"


@pytest.mark.parametrize("read_first", [True, False])
def test_reading_a_small_file_and_its_checksum_holds_no_more_than_the_file(tmp_path: Path, read_first: bool) -> None:
    """A backlog's tiny files: each stream and its checksum hold about the file's size (before: a 1 MiB read
    buffer, and 1 MiB zeroed for the checksum, per file: more than staging the file cost). The checksum is the
    sha256 of the bytes, read through the stream or not."""
    import hashlib
    import tracemalloc

    data = b'{"id": 1}\n'
    (tmp_path / "svc" / "landing").mkdir(parents=True)
    (tmp_path / "svc" / "landing" / "a.jsonl").write_bytes(data)
    landing = LocalLanding(tmp_path)
    (file,) = landing.list("svc/landing/")
    tracemalloc.start()
    try:
        with landing.open(file) as stream:
            assert (stream.read() if read_first else data) == data
            checksum = stream.checksum()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert checksum == "sha256:" + hashlib.sha256(data).hexdigest()
    assert peak < 64 * 1024, peak
