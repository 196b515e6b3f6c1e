"""Planning one data type's files against the ledger: whether this very version of a file was loaded already
(archived without loading), another version was (this one begins with it and only the records appended since
are loaded, or it does not and is loaded whole), or none was. A file to load gets its staging task: where its
conformed rows go, and how many bytes to skip.

A file is read once per run. One whose name the ledger does not know (the common case) is not read here:
staging computes its checksum from the bytes it reads (`Stream.checksum`). One whose name the ledger knows
is read here for its checksum (GCS gives it from the listing), and for whether it begins with the version
loaded, in that same read: found loaded already, it costs this one read and no staging. Found changed (a
rare case: a file rewritten during the run that loaded it, or delivered again with other content), it is read
again by staging (the records after an earlier version only, when it was appended to), which checks that
it reads what was planned."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingestor.catalog import Match
from ingestor.landing import Landing, LandingFile, Stream
from ingestor.run import stopping
from ingestor.run.ledger import LedgerEntry
from ingestor.staging import StageTask

CHECKSUM_THREADS = 4  # hashing frees the GIL: large files are hashed this many at a time
CHECKSUM_THREADS_MIN_BYTES = 1024 * 1024  # average file size from which checksums are computed in threads


@dataclass(frozen=True)
class Planned:
    """One file's plan: `task` is None when the ledger shows this very version loaded."""

    file: LandingFile
    task: StageTask | None
    earlier: str | None = None  # what an earlier version of it loaded (the first part of its reason)


@dataclass(frozen=True)
class _Known:
    """What the read of a file the ledger knows found: its checksum, and whether it begins with the latest version
    loaded (whole lines appended since)."""

    checksum: str
    appended: bool


def plan(
    landing: Landing,
    files: list[tuple[LandingFile, Match]],
    loaded_before: dict[str, list[LedgerEntry]],
    staging_path: Callable[[], Path],
) -> list[Planned]:
    """The plan of each file (in the order given); `staging_path` gives a fresh path for each file to stage."""
    known = _read_known(landing, [(f, loaded_before[f.name]) for f, _ in files if loaded_before.get(f.name)])
    planned = []
    for file, match in files:
        seen = known.get(file.name)
        if seen is None:  # never loaded: staged, its checksum taken as it is read
            planned.append(Planned(file, StageTask(file, match.attributes, staging_path())))
            continue
        versions = loaded_before[file.name]
        if seen.checksum in {v.checksum for v in versions}:
            planned.append(Planned(file, None))
            continue
        # another version of it was loaded: changed during that run, or delivered again
        last = _latest(versions)
        loaded = f"an earlier version of it ({last.size} bytes, {last.rows} records) was loaded by run "
        if seen.appended:
            skip = last.size
            earlier = f"{loaded}{last.run_id}; only the records appended after it were loaded now"
        else:
            skip = 0
            earlier = f"{loaded}{last.run_id}; this version does not begin with it: loaded whole"
        task = StageTask(file, match.attributes, staging_path(), skip, checksum=seen.checksum)
        planned.append(Planned(file, task, earlier))
    return planned


def _latest(versions: list[LedgerEntry]) -> LedgerEntry:
    return max(versions, key=lambda v: (v.loaded_at, v.size))


def _read_known(landing: Landing, files: list[tuple[LandingFile, list[LedgerEntry]]]) -> dict[str, _Known]:
    """What each file the ledger knows holds (`_examine`): in threads when the files are large (hashing frees the
    GIL), else one after the other (threads cost more than they save on small files)."""
    if sum(f.size for f, _ in files) < len(files) * CHECKSUM_THREADS_MIN_BYTES:
        return {f.name: _examine(landing, f, versions) for f, versions in files}
    with stopping.threads(CHECKSUM_THREADS, "ingestor-checksum") as pool:
        found = pool.map(lambda pair: _examine(landing, *pair), files)
        return {f.name: seen for (f, _), seen in zip(files, found, strict=True)}


def _examine(landing: Landing, file: LandingFile, versions: list[LedgerEntry]) -> _Known:
    """A file's checksum and whether it is the latest of `versions` with whole lines appended, in one read (none
    when its store gives its checksum and that is a version loaded, or it cannot have been appended to)."""
    last = _latest(versions)
    appendable = _appendable(file, last)
    if file.checksum is not None and (not appendable or file.checksum in {v.checksum for v in versions}):
        return _Known(file.checksum, appended=False)
    with landing.open(file) as stream:
        appended = appendable and _begins_with(stream, file, last)
        return _Known(stream.checksum(), appended)


def appended_to(landing: Landing, file: LandingFile, earlier: LedgerEntry) -> bool:
    """Whether `file` is `earlier` (a version the ledger holds) with whole lines appended (a rebuild asks)."""
    if not _appendable(file, earlier):
        return False
    with landing.open(file) as stream:
        return _begins_with(stream, file, earlier)


def _appendable(file: LandingFile, earlier: LedgerEntry) -> bool:
    """Whether `file` can be `earlier` with lines appended: larger, and `earlier`'s checksum one a read can check."""
    return file.size > earlier.size and earlier.checksum.partition(":")[0] in {"sha256", "md5"}


def _begins_with(stream: Stream, file: LandingFile, earlier: LedgerEntry) -> bool:
    """Whether the stream's first `earlier.size` bytes hash to the earlier checksum (sha256 locally, md5 on GCS) and
    end a line (or a gzip member): `file` is `earlier` with whole lines appended."""
    algorithm, _, digest = earlier.checksum.partition(":")
    hasher, left, last = hashlib.new(algorithm), earlier.size, b"\n"
    while left:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            return False
        hasher.update(chunk)
        left, last = left - len(chunk), chunk[-1:]
    return (last == b"\n" or file.name.endswith(".gz")) and hasher.hexdigest() == digest
