"""The backup a rebuild keeps of each table it replaces: named by the rebuild's start, numbered when a rebuild
begun in the same second kept one already (a rerun right after a killed rebuild), never refused for the name."""

from __future__ import annotations

from datetime import UTC, datetime

from ingestor.landing import open_landing
from ingestor.plugins import Plugins
from ingestor.rebuild import rebuild
from ingestor.run.context import RunContext
from ingestor.settings import Settings
from ingestor.testing import Harness
from ingestor.warehouse import open_warehouse


def test_two_rebuilds_begun_in_the_same_second_keep_a_backup_each(harness: Harness, acme_plugins: Plugins) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    started = datetime.now(UTC)
    backups = []
    for _ in range(2):
        settings = Settings()
        landing = open_landing(harness.landing.as_uri(), settings)
        warehouse = open_warehouse(f"duckdb://{harness.database}", settings)
        context = RunContext(
            env="dev",
            landing=landing,
            warehouse=warehouse,
            catalog=acme_plugins.catalog,
            settings=settings,
            data_types={"events"},
            started_at=started,
        )
        try:
            (events,) = rebuild(context, "acme").types
        finally:
            warehouse.close()
            landing.close()
        assert events.error is None and events.rows_after == 1
        backups.append(events.backup)
    first = f"lake_dev.acme__events__before_rebuild_{started:%Y%m%d_%H%M%S}"
    assert backups == [first, f"{first}_2"]
    assert harness.query(f"SELECT id FROM {first}_2") == harness.query(f"SELECT id FROM {first}") == [(1,)]
