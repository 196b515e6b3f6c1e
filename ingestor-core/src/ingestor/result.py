"""What a run did: per-file outcomes, per-table summaries, totals (pydantic, printed by --json)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, TypeAdapter, computed_field
from pydantic.dataclasses import dataclass


class FileStatus(StrEnum):
    """Where a landing file ended, and why."""

    LOADED = "loaded"  # rows stored, file in archive/
    EMPTY = "empty"  # no records, file in archive/
    ALREADY_LOADED = "already_loaded"  # the ledger had it (crash before the move): archived, not reloaded
    REJECTED = "rejected"  # cannot be loaded: file in rejected/ with <name>.reason.json
    FAILED = "failed"  # not loaded for a reason outside the file (warehouse down...): left in landing
    PLANNED = "planned"  # dry run: would be loaded
    WOULD_REJECT = "would_reject"  # dry run: would be rejected


FAILURES = {FileStatus.REJECTED, FileStatus.FAILED, FileStatus.WOULD_REJECT}


@dataclass(slots=True, kw_only=True)
class FileOutcome:
    """The fate of one landing file. A run holds one per file to its end: a slotted dataclass is a fifth of a
    model's memory (270 bytes, not 1.4 KB: a 300,000-file backlog within 512 MiB)."""

    path: str
    service: str
    data_type: str | None = None
    status: FileStatus
    rows: int = 0
    bytes: int = 0  # the landing file's size
    dropped: int = 0  # records the plugin's normalizer dropped (returned [] for)
    null_lines: int = 0  # lines that were JSON `null`: not records, skipped
    reason: str | None = None
    destination: str | None = None
    notes: list[str] = Field(default_factory=list)


class TableLoad(BaseModel):
    """One data type's load (or plan) in this run."""

    service: str
    data_type: str
    table: str
    files: int
    rows: int
    created: bool = False  # the table did not exist before this run (in a dry run: would be created)
    columns_added: list[str] = Field(default_factory=list)
    columns_widened: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    job_ids: list[str] = Field(default_factory=list)
    error: str | None = None
    stage_seconds: float = 0.0  # reading, validating, normalizing, conforming
    columnar_files: int = 0  # files staged column-wise (see ingestor.columnar); the others row by row
    load_seconds: float = 0.0  # schema changes, rows and ledger in the warehouse


_OUTCOMES = TypeAdapter(list[FileOutcome])
OUTCOMES_AT_ONCE = 10_000  # outcomes serialized at a time by `json_pieces`


class IngestResult(BaseModel):
    """Everything one `ingestor run` did."""

    run_id: str
    services: list[str]
    env: str
    data_types: list[str] | None = None
    dry_run: bool = False
    landing: str
    warehouse: str
    started_at: datetime
    finished_at: datetime | None = None
    files: list[FileOutcome] = Field(default_factory=list)
    tables: list[TableLoad] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def totals(self) -> dict[str, int]:
        """Files per status, and rows loaded (or planned)."""
        counts = {status.value: 0 for status in FileStatus}
        for outcome in self.files:
            counts[outcome.status.value] += 1
        counts["files"] = len(self.files)
        counts["rows"] = sum(o.rows for o in self.files if o.status in {FileStatus.LOADED, FileStatus.PLANNED})
        return counts

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """True when no file was rejected or failed."""
        return not any(o.status in FAILURES for o in self.files)

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
