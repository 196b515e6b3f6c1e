"""Planning one data type's rebuild: which archived file is which loaded file, in what order they load, what part
of each was loaded before as another version, which rows of the live table are carried over, and which files were
never recorded.

- **Which loaded file.** An archived file is the ledger's entry with its checksum under one of its candidate
  landing names (`archive.landing_names`); its rows carry that name, and `_dp_inserted_at` the entry's `loaded_at`
  (so a rebuild leaves the rows of a rebuilt file as they were). A file the ledger never recorded is
  `unrecorded`, and `recovered` as well when the live table holds no row of it (the seed system archived files
  whose load had failed): its rows get the rebuild's time.
- **The order and the appended versions.** Files load in the order they were loaded (the ledger's time, then the
  unrecorded by name). A file that begins with the version of its name planned before it (whole lines appended,
  as `plan.appended_to` tells) loads only what follows, as its run did.
- **What is carried over.** Rows whose source file column names no archived file (its file was deleted from
  archive/, or the seed system loaded it from a file since removed) stay, with their ledger entries. A ledger
  entry of a name that is rebuilt, whose version is not in archive/ and is no beginning of an archived version,
  holds rows that cannot be told from the archived file's: the type is not rebuilt (`conflict`) rather than lose
  them."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingestor.catalog import DataType
from ingestor.landing import Landing
from ingestor.rebuild.archive import Archived
from ingestor.run.ledger import LedgerEntry
from ingestor.run.plan import appended_to

EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass
class FilePlan:
    """One archived file to load again."""

    archived: Archived
    landed: str  # the landing name its rows carry
    checksum: str
    loaded_at: datetime | None  # when it was first loaded (the ledger's); None: never recorded
    skip: int = 0  # bytes an earlier version of it, loaded before it, holds
    recovered: bool = False  # never recorded, and no row of it in the live table


@dataclass
class TypePlan:
    """A data type's rebuild, planned."""

    files: list[FilePlan] = field(default_factory=list)  # in load order
    rows_before: int = 0  # rows in the live table
    counts: dict[str | None, int] = field(default_factory=dict)  # live rows per source file value
    conflict: str | None = None  # why the type cannot be rebuilt without losing rows

    def rebuilt(self, dt: DataType, leave: Collection[str] = ()) -> set[str]:
        """The source file values whose rows the rebuild replaces (but those of the archived files `leave`)."""
        return {dt.source_file_for(f.landed) for f in self.files if f.archived.file.name not in leave}

    def carried(self, dt: DataType, leave: Collection[str] = ()) -> int:
        """Live rows kept as they are: their source file is not rebuilt."""
        rebuilt = self.rebuilt(dt, leave)
        return sum(n for value, n in self.counts.items() if value is None or value not in rebuilt)


def plan_rebuild(
    dt: DataType,
    landing: Landing,
    archived: list[Archived],
    ledger: list[LedgerEntry],
    counts: dict[str | None, int],
    checksum: Callable[[Archived], str],
) -> TypePlan:
    """The plan of a data type's archived files against its ledger entries and the live table's rows per source
    file value (`counts`)."""
    known: dict[tuple[str, str], list[LedgerEntry]] = {}
    for entry in ledger:
        known.setdefault((entry.source_name, entry.checksum), []).append(entry)
    files = []
    for item in archived:
        digest = checksum(item)
        landed = next((name for name in item.candidates if (name, digest) in known), item.candidates[0])
        entries = known.get((landed, digest), [])
        first = min((_utc(e.loaded_at) for e in entries), default=None)
        recovered = not entries and not counts.get(dt.source_file_for(landed))
        files.append(FilePlan(item, landed, digest, first, recovered=recovered))
    files.sort(key=lambda f: (f.loaded_at is None, f.loaded_at or EARLIEST, f.archived.file.name))
    last: dict[str, FilePlan] = {}
    for file in files:  # an appended version loads what follows the version of its name before it
        before = last.get(file.landed)
        if before is not None and appended_to(landing, file.archived.file, _entry(dt, before)):
            file.skip = before.archived.file.size
        last[file.landed] = file
    plan = TypePlan(files, sum(counts.values()), counts)
    plan.conflict = _conflict(dt, landing, plan, ledger, {(f.landed, f.checksum) for f in files})
    return plan


def _conflict(
    dt: DataType, landing: Landing, plan: TypePlan, ledger: list[LedgerEntry], matched: set[tuple[str, str]]
) -> str | None:
    """Why the rows of a ledger entry not in archive/ could not be kept apart from those rebuilt, if so."""
    rebuilt = plan.rebuilt(dt)
    for entry in ledger:
        if (entry.source_name, entry.checksum) in matched or dt.source_file_for(entry.source_name) not in rebuilt:
            continue
        same = [f for f in plan.files if f.landed == entry.source_name]
        if any(appended_to(landing, f.archived.file, entry) for f in same):
            continue  # its rows are the beginning of an archived version: loaded again with it
        return (
            f"{entry.source_name} was loaded in a version that is not in archive/ any more ({entry.size} bytes, "
            f"{entry.rows} rows, run {entry.run_id}) and its rows cannot be told from those of the archived file "
            f"{dt.source_file_column} = {dt.source_file_for(entry.source_name)!r}: not rebuilt, so as to lose none"
        )
    return None


def _entry(dt: DataType, plan: FilePlan) -> LedgerEntry:
    """A planned file as the ledger entry `appended_to` compares with (its checksum and size)."""
    return LedgerEntry(
        source_name=plan.landed,
        checksum=plan.checksum,
        size=plan.archived.file.size,
        service=dt.service,
        data_type=dt.name,
        table_name="",
        rows=0,
        run_id="",
        loaded_at=plan.loaded_at or EARLIEST,
    )


def _utc(moment: datetime) -> datetime:
    """A ledger time as an aware UTC one (DuckDB gives its TIMESTAMP naive, in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
