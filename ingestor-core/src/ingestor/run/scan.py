"""Scanning: list a service's landing folder once and give each file its data type, or the reason
it matches none (a name that is not UTF-8 is rejected so: it can be neither a row's `_source_file` nor a
ledger entry). An entry that cannot be read as a file (`LandingFile.fault`: not a regular file, unreadable,
past the system's limits, a folder it cannot list) fails, left in landing and never opened. Hidden files and folders
(in-progress writes, editor files) are left alone; so are the files of data types not asked for, and
those another task of a sharded job takes (`owns`)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from ingestor.catalog import AmbiguousFile, Catalog, Match
from ingestor.errors import ReasonCode
from ingestor.landing import Landing, LandingFile, UnsafeName, check_name, hidden

NO_MATCH = "no data type matches"


def owns(key: str, task_index: int, task_count: int) -> bool:
    """Whether this task (of `task_count` parallel ones) takes the work named `key`."""
    return task_count <= 1 or zlib.crc32(key.encode()) % task_count == task_index


@dataclass
class Scan:
    """A service's landing folder, sorted out: per data type its files (in name order), the entries that
    cannot be read as files, and the files rejected for their name; or why the whole service was refused."""

    batches: dict[str, list[tuple[LandingFile, Match]]] = field(default_factory=dict)
    failed: list[tuple[LandingFile, str]] = field(default_factory=list)  # (entry, its fault), in name order
    rejected: list[tuple[LandingFile, str, ReasonCode]] = field(
        default_factory=list
    )  # (file, why, code), in name order
    refused: str | None = None  # the folder cannot be read safely: nothing of the service is touched


def scan(
    service: str,
    landing: Landing,
    catalog: Catalog,
    data_types: set[str] | None = None,
    task_index: int = 0,
    task_count: int = 1,
) -> Scan:
    """Match every file under `{service}/landing/` against the service's data types."""
    prefix = f"{service}/landing/"
    found = Scan()
    try:
        listed = list(landing.list(prefix))
    except UnsafeName as error:  # its landing folder is a symbolic link out of the root
        found.refused = f"service {service} refused: {error}; nothing of it was read or moved"
        return found
    rejects = owns(f"{service}.", task_index, task_count)  # one task of a job rejects the unknown files
    for file in sorted(listed, key=lambda f: f.name):
        relative = file.name[len(prefix) :]
        if hidden(relative):
            continue  # in-progress writes, editor files
        if file.fault is not None:
            if rejects:
                found.failed.append((file, file.fault))
            continue
        base = relative.rsplit("/", 1)[-1]
        try:
            check_name(file.name)
            match = catalog.match(service, base)
        except (UnsafeName, AmbiguousFile) as error:
            if rejects:
                found.rejected.append((file, str(error), error.code))
            continue
        if match is None:
            if rejects:
                found.rejected.append((file, NO_MATCH, ReasonCode.NO_DATA_TYPE))
            continue
        if data_types and match.data_type.name not in data_types:
            continue
        if not owns(match.data_type.key, task_index, task_count):
            continue  # another task of this job takes it
        found.batches.setdefault(match.data_type.name, []).append((file, match))
    return found
