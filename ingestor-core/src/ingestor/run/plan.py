"""Planning one data type's files against the ledger: each file's checksum, and whether this very
version was loaded already (archived without loading), another version was (this one begins with it
and only the records appended since are loaded, or it does not and is loaded whole), or none was.
A file to load gets its staging task: where its conformed rows go, and how many bytes to skip."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingestor.catalog import Match
from ingestor.landing import Landing, LandingFile
from ingestor.run import stopping
from ingestor.run.ledger import LedgerEntry
from ingestor.staging import StageTask

CHECKSUM_THREADS = 4  # hashing frees the GIL: large files are hashed this many at a time
CHECKSUM_THREADS_MIN_BYTES = 1024 * 1024  # average file size from which checksums are computed in threads


@dataclass(frozen=True)
class Planned:
    """One file's plan: `task` is None when the ledger shows this very version loaded."""

    file: LandingFile
    checksum: str
    task: StageTask | None
    earlier: str | None = None  # what an earlier version of it loaded (the first part of its reason)


def plan(
    landing: Landing,
    files: list[tuple[LandingFile, Match]],
    loaded_before: dict[str, list[LedgerEntry]],
    staging_path: Callable[[], Path],
) -> list[Planned]:
    """The plan of each file (in the order given); `staging_path` gives a fresh path for each file to stage."""
    checksums = _checksums(landing, [file for file, _ in files])
    planned = []
    for file, match in files:
        versions = loaded_before.get(file.name, [])
        if checksums[file.name] in {v.checksum for v in versions}:
            planned.append(Planned(file, checksums[file.name], None))
            continue
        skip, earlier = 0, None
        if versions:  # another version of it was loaded: changed during that run, or delivered again
            last = max(versions, key=lambda v: (v.loaded_at, v.size))  # the latest version loaded
            loaded = f"an earlier version of it ({last.size} bytes, {last.rows} records) was loaded by run "
            if appended_to(landing, file, last):
                skip = last.size
                earlier = f"{loaded}{last.run_id}; only the records appended after it were loaded now"
            else:
                earlier = f"{loaded}{last.run_id}; this version does not begin with it: loaded whole"
        task = StageTask(file, match.attributes, staging_path(), skip)
        planned.append(Planned(file, checksums[file.name], task, earlier))
    return planned


def _checksums(landing: Landing, files: list[LandingFile]) -> dict[str, str]:
    """Each file's checksum: in threads when the files are large (hashing frees the GIL),
    else one after the other (threads cost more than they save on small files)."""
    checksum = landing.checksum
    if sum(f.size for f in files) < len(files) * CHECKSUM_THREADS_MIN_BYTES:
        return {f.name: checksum(f) for f in files}
    with stopping.threads(CHECKSUM_THREADS, "ingestor-checksum") as pool:
        return {f.name: c for f, c in zip(files, pool.map(checksum, files), strict=True)}


def appended_to(landing: Landing, file: LandingFile, earlier: LedgerEntry) -> bool:
    """Whether `file` is `earlier` (a version the ledger holds) with whole lines (or gzip members) appended:
    its first `earlier.size` bytes hash to the earlier checksum (sha256 locally, md5 on GCS) and end a line."""
    algorithm, _, digest = earlier.checksum.partition(":")
    if file.size <= earlier.size or algorithm not in {"sha256", "md5"}:
        return False
    hasher, left, last = hashlib.new(algorithm), earlier.size, b"\n"
    with landing.open(file) as stream:
        while left:
            chunk = stream.read(min(left, 1 << 20))
            if not chunk:
                return False
            hasher.update(chunk)
            left, last = left - len(chunk), chunk[-1:]
    return (last == b"\n" or file.name.endswith(".gz")) and hasher.hexdigest() == digest
