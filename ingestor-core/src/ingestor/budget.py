"""The run's memory budget: the limit the process must live within (`INGESTOR_MEMORY_MB`, else the cgroup's
memory limit, which is what a container such as a Cloud Run job gets, else a default), and how it is shared
out: DuckDB's memory, the longest record, what the columnar path holds, the files staged at once, and the
size of a part (the files loaded and settled together; the next part stages while one loads, so at most
two parts are staged at once).

On Cloud Run the file system is memory too: the staged files of a part count against the limit, so a part's
bytes are a share of the budget like the rest. Every figure can be set on its own (see `Settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
# The longest record: DuckDB's JSON reader takes at most 64 MiB a row (warehouse/duckdb/inserts.py MAX_OBJECT_SIZE).
MAX_RECORD_BYTES = 64 * MiB
DEFAULT_MB = 2048  # no limit set or found: as if the process had 2 GiB
_UNLIMITED = 1 << 50  # cgroup v1 writes a huge number (page-rounded 2^63) for "no limit"


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


@dataclass(frozen=True)
class Budget:
    """Bytes of memory for the run (`total`, found in `source`) and each consumer's share of it. A share
    given explicitly (a setting) wins over the derived one."""

    total: int
    source: str  # "INGESTOR_MEMORY_MB", "cgroup" or "default"
    duckdb_mb_set: int | None = None
    record_bytes_set: int | None = None
    part_bytes_set: int | None = None
    part_files_set: int | None = None
    workers_set: int | None = None

    @property
    def duckdb_mb(self) -> int:
        """DuckDB's memory limit (it spills to disk beyond it; an insert raises it for what it holds): an
        eighth of the budget, 64 MB to 1 GB."""
        return self.duckdb_mb_set or _clamp(self.total // 8 // MiB, 64, 1024)

    @property
    def record_bytes(self) -> int:
        """The longest line (one record) a file may hold: a longer one rejects its file at once. Parsed, a
        record takes several times its bytes; DuckDB's JSON reader takes at most 64 MB a row."""
        return self.record_bytes_set or _clamp(self.total // 64, MiB, MAX_RECORD_BYTES)

    @property
    def columnar_bytes(self) -> int:
        """The largest file (uncompressed) the columnar path reads whole; larger ones stream row by row."""
        return _clamp(self.total // 32, 4 * MiB, 64 * MiB)

    @property
    def part_bytes(self) -> int:
        """Landing bytes staged before a load: a data type's files load in parts of at most this (a single
        larger file is a part of its own); the next part stages while one loads (two parts staged at once)."""
        return self.part_bytes_set or _clamp(self.total // 16, 8 * MiB, 1024 * MiB)

    @property
    def part_files(self) -> int:
        """Files staged before a load (each holds some memory until it settles)."""
        return self.part_files_set or _clamp(self.total // (128 * 1024), 100, 20_000)

    def workers(self, cpus: int) -> int:
        """Files staged at once: the setting, else the CPUs (at most 4), and no more than one per 256 MB."""
        if self.workers_set is not None:
            return self.workers_set
        return max(1, min(cpus, 4, self.total // (256 * MiB)))

    def describe(self) -> str:
        """One line for the log."""
        return (
            f"memory budget {self.total // MiB} MB ({self.source}): DuckDB {self.duckdb_mb} MB, records up to "
            f"{self.record_bytes // MiB} MB, parts of {self.part_bytes // MiB} MB or {self.part_files} files"
        )


def cgroup_limit(proc: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")) -> int | None:
    """This process's memory limit from its cgroup (v2 `memory.max`, v1 `memory.limit_in_bytes`, the
    smallest on the way up to the root), or None when there is none or it cannot be read."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return None
    limits: list[int] = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # v2
            base, name = root, "memory.max"
        elif "memory" in controllers.split(","):
            base, name = root / "memory", "memory.limit_in_bytes"
        else:
            continue
        folder = base / path.lstrip("/")
        while True:  # the group and its parents (a container may see only its own, mounted at the root)
            limits.extend(_read_limit(folder / name))
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
        limits.extend(_read_limit(base / name))
    return min(limits) if limits else None


def _read_limit(path: Path) -> list[int]:
    try:
        text = path.read_text().strip()
    except OSError:
        return []
    if not text.isdigit() or int(text) >= _UNLIMITED:
        return []  # "max", or v1's "no limit"
    return [int(text)]


def find_budget(
    memory_mb: int | None,
    *,
    duckdb_mb: int | None = None,
    record_bytes: int | None = None,
    part_bytes: int | None = None,
    part_files: int | None = None,
    workers: int | None = None,
) -> Budget:
    """The budget: `memory_mb` if given, else the cgroup's limit, else DEFAULT_MB."""
    if memory_mb is not None:
        total, source = memory_mb * MiB, "INGESTOR_MEMORY_MB"
    elif (found := cgroup_limit()) is not None:
        total, source = found, "cgroup"
    else:
        total, source = DEFAULT_MB * MiB, "default"
    return Budget(total, source, duckdb_mb, record_bytes, part_bytes, part_files, workers)
