"""What a run did: per-file outcomes, per-table summaries, totals (pydantic, printed by --json)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, TypeAdapter, computed_field
from pydantic.dataclasses import dataclass

from ingestor.errors import ReasonCode


class FileStatus(StrEnum):
    """Where a landing file ended, and why."""

    LOADED = "loaded"
    """Rows stored, the file in `archive/`."""
    EMPTY = "empty"
    """No records, the file in `archive/`."""
    ALREADY_LOADED = "already_loaded"
    """The ledger had it (a crash before the move, a file delivered again): archived, not loaded again."""
    REJECTED = "rejected"
    """Cannot be loaded (the file's own fault, or its normalizer raising): in `rejected/` with `<name>.reason.json`."""
    FAILED = "failed"
    """Not loaded for a reason outside the file (the warehouse, a full disk...): left in landing for the next run."""
    PLANNED = "planned"
    """Dry run: would be loaded."""
    WOULD_REJECT = "would_reject"
    """Dry run: would be rejected."""


FAILURES = {FileStatus.REJECTED, FileStatus.FAILED, FileStatus.WOULD_REJECT}
ROWS_COUNTED = {FileStatus.LOADED, FileStatus.PLANNED}  # the files whose rows a run's totals count


@dataclass(slots=True, kw_only=True)
class FileOutcome:
    """The fate of one landing file. A run holds one per file to its end: a slotted dataclass is a fifth of a
    model's memory (270 bytes, not 1.4 KB: a 300,000-file backlog within 512 MiB)."""

    path: str
    """The landing object name (a non-UTF-8 byte shown as `\\xNN`)."""
    service: str
    """The service whose landing folder holds it."""
    data_type: str | None = None
    """The data type it matched; None when it matched none."""
    status: FileStatus
    """Where it ended."""
    rows: int = 0
    """Rows loaded (or planned) from it."""
    bytes: int = 0
    """The landing file's size."""
    dropped: int = 0
    """Records the plugin's normalizer dropped (returned [] for)."""
    null_lines: int = 0
    """Lines that were JSON `null`: not records, skipped."""
    reason: str | None = None
    """Why it was rejected or failed (or what an earlier version of it loaded)."""
    reason_code: ReasonCode | None = None
    """The stable code of why it was rejected or failed (`ingestor.errors.ReasonCode`); None for any other status."""
    destination: str | None = None
    """Where it was moved (`archive/` or `rejected/`); None when it stayed in landing."""
    notes: list[str] = Field(default_factory=list)
    """What the schema policy did with its values (e.g. a conflict stored as JSON)."""


class TableLoad(BaseModel):
    """One data type's load (or plan) in this run."""

    service: str
    """The data type's service."""
    data_type: str
    """The data type."""
    table: str
    """The table, `dataset.table`."""
    files: int
    """Files loaded (or planned)."""
    rows: int
    """Rows loaded (or planned)."""
    created: bool = False
    """The table did not exist before this run (in a dry run: would be created)."""
    columns_added: list[str] = Field(default_factory=list)
    """Columns (and struct fields) added to the table."""
    columns_widened: list[str] = Field(default_factory=list)
    """Columns widened (INT64 to FLOAT64)."""
    notes: list[str] = Field(default_factory=list)
    """What the schema policy did (conflicts stored as JSON, an existing column's type kept...)."""
    job_ids: list[str] = Field(default_factory=list)
    """The warehouse's job ids (BigQuery)."""
    error: str | None = None
    """Why the load failed, if it did."""
    stage_seconds: float = 0.0
    """Time reading, validating, normalizing and conforming."""
    columnar_files: int = 0
    """Files staged column-wise (see `ingestor.staging.columnar`); the others row by row."""
    load_seconds: float = 0.0
    """Time on schema changes, rows and ledger in the warehouse."""


_OUTCOMES = TypeAdapter(list[FileOutcome])
OUTCOMES_AT_ONCE = 10_000  # outcomes serialized at a time by `json_pieces`


class IngestResult(BaseModel):
    """Everything one `ingestor run` did."""

    run_id: str
    """The run's id: its UTC start and a random suffix, e.g. `20250101T000000Z-1a2b3c4d`."""
    services: list[str]
    """The services run."""
    env: str
    """The environment (`dev`, `prd`...)."""
    data_types: list[str] | None = None
    """The data types the run was limited to (`--data-types`); None: all."""
    dry_run: bool = False
    """A plan only: nothing was written."""
    landing: str
    """The landing zone's URL."""
    warehouse: str
    """The warehouse's URL."""
    started_at: datetime
    """When the run started (UTC)."""
    finished_at: datetime | None = None
    """When it ended (UTC)."""
    files: list[FileOutcome] = Field(default_factory=list)
    """One outcome per landing file."""
    tables: list[TableLoad] = Field(default_factory=list)
    """One entry per data type loaded (or planned)."""
    history_error: str | None = None
    """Why the run's history could not be written (e.g. a full disk), if so."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def totals(self) -> dict[str, int]:
        """Files per status, and rows loaded (or planned)."""
        counts = {status.value: 0 for status in FileStatus}
        for outcome in self.files:
            counts[outcome.status.value] += 1
        counts["files"] = len(self.files)
        counts["rows"] = sum(o.rows for o in self.files if o.status in ROWS_COUNTED)
        return counts

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """True when no file was rejected or failed, and the run's history was written."""
        return self.history_error is None and not any(o.status in FAILURES for o in self.files)

    def json_pieces(self) -> Iterator[bytes]:
        """`model_dump_json()`, byte for byte, in pieces: the outcomes OUTCOMES_AT_ONCE at a time, so that a run
        of many files never holds its whole text (300,000 files: ~90 MB, and as much again while it is made)."""
        names = [*type(self).model_fields, *type(self).model_computed_fields]
        at = names.index("files")
        head = self.model_dump_json(include=set(names[:at])).encode()
        tail = self.model_dump_json(include=set(names[at + 1 :])).encode()
        yield head[:-1] + b',"files":['
        for start in range(0, len(self.files), OUTCOMES_AT_ONCE):
            piece = _OUTCOMES.dump_json(self.files[start : start + OUTCOMES_AT_ONCE])[1:-1]
            yield b"," + piece if start else piece
        yield b"]," + tail[1:]
