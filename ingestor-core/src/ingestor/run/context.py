"""What a run is given (`RunContext`): built once at the edge (`ingestor run`, or a test) and handed to
the engine (`ingestor.run.engine.run`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingestor.catalog import Catalog, View
from ingestor.landing import Landing
from ingestor.result import FileOutcome
from ingestor.run.latest import LatestView
from ingestor.settings import Settings
from ingestor.warehouse import Warehouse


def new_run_id() -> str:
    """A run's id: its start time (UTC) and a random suffix, e.g. `20250101T000000Z-1a2b3c4d`."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class RunContext:
    """Everything a run needs, built once at the edge and handed to the engine unchanged."""

    env: str
    """The environment (`dev`, `prd`...)."""
    landing: Landing
    """The landing zone."""
    warehouse: Warehouse
    """The warehouse."""
    catalog: Catalog
    """Every data type of the working services."""
    settings: Settings
    """The configuration tree, built at the edge."""
    data_types: set[str] | None = None
    """The data types the run is limited to; None: all."""
    dry_run: bool = False
    """Plan only: write nothing."""
    views: list[View | LatestView] = field(default_factory=list)
    """The views of the services run: the plugins' and the latest views by key (`ingestor.run.latest`)."""
    task_index: int = 0
    """This task's index among `task_count` parallel tasks."""
    task_count: int = 1
    """The number of parallel tasks sharing the landing zone."""
    run_id: str = field(default_factory=new_run_id)
    """The run's id."""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When the run started (UTC)."""
    history_dataset: str | None = None
    """Where the run history goes (see `ingestor.ops.history`); None: nowhere."""
    on_file: Callable[[FileOutcome], None] = lambda outcome: None
    """Called with each outcome as its file settles."""

    def header(self) -> dict[str, Any]:
        """The fields a run's result and a rebuild's both open with (`IngestResult`, `RebuildResult`)."""
        return {
            "run_id": self.run_id,
            "env": self.env,
            "data_types": sorted(self.data_types) if self.data_types else None,
            "dry_run": self.dry_run,
            "landing": self.landing.url,
            "warehouse": self.warehouse.url,
            "started_at": self.started_at,
        }
