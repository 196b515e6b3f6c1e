"""What `ingestor rebuild` did (or, with `--dry-run`, would do): per data type (pydantic, printed by --json)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, computed_field


class TypeRebuild(BaseModel):
    """One data type's table rebuilt from the archive (or planned)."""

    data_type: str
    """The data type."""
    table: str
    """Its table, `dataset.table`."""
    files_in_archive: int = 0
    """Its files in `archive/`."""
    files_unrecorded: int = 0
    """Archived files the ledger never recorded (every file the seed system loaded; a file without records)."""
    files_recovered: int = 0
    """Unrecorded files with records of which the table held none (the seed system's failed loads): loaded now."""
    rows_recovered: int = 0
    """The rows of the recovered files."""
    rows_before: int = 0
    """Rows in the table before."""
    rows_after: int = 0
    """Rows in the table after (planned, in a dry run)."""
    rows_rebuilt: int = 0
    """Rows loaded again from the archived files."""
    rows_carried_over: int = 0
    """Rows kept as they were: their source file is not in `archive/` (or cannot be loaded any more)."""
    columns_added: list[str] = Field(default_factory=list)
    """Columns the new table has and the old one had not, with their type."""
    columns_removed: list[str] = Field(default_factory=list)
    """Columns of the old table the new one has not (only when no row is carried over)."""
    columns_retyped: list[str] = Field(default_factory=list)
    """Columns whose type changes, `name OLD -> NEW`."""
    files_not_rebuilt: dict[str, str] = Field(default_factory=dict)
    """Archived files the plugin now rejects, with why: their rows, if any, are carried over."""
    backup: str | None = None
    """Where the old table was kept (`dataset.table__before_rebuild_...`); None: none kept, or no old table."""
    notes: list[str] = Field(default_factory=list)
    """What the schema policy did (conflicts stored as JSON, ...)."""
    error: str | None = None
    """Why the table was not rebuilt (it is as it was), if so."""


class RebuildResult(BaseModel):
    """Everything one `ingestor rebuild` did."""

    run_id: str
    """The rebuild's id (its ledger entries carry it)."""
    service: str
    """The service rebuilt."""
    env: str
    """The environment."""
    data_types: list[str] | None = None
    """The data types it was limited to (`--data-types`); None: all."""
    dry_run: bool = False
    """A plan only: nothing was written."""
    landing: str
    """The landing zone's URL."""
    warehouse: str
    """The warehouse's URL."""
    started_at: datetime
    """When it started (UTC)."""
    finished_at: datetime | None = None
    """When it ended (UTC)."""
    types: list[TypeRebuild] = Field(default_factory=list)
    """One entry per data type."""
    skipped: dict[str, str] = Field(default_factory=dict)
    """Entries of `archive/` no data type takes (or that cannot be read), with why: left alone."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def success(self) -> bool:
        """True when every data type was rebuilt (or could be) with every archived file."""
        return not any(t.error or t.files_not_rebuilt for t in self.types)
