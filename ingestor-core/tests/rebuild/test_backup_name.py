"""The backup a rebuild keeps of each table it replaces: named by the rebuild's start, numbered when a rebuild
begun in the same second kept one already (a rerun right after a killed rebuild), never refused for the name."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from ingestor.plugins import Plugins
from ingestor.rebuild import rebuild
from ingestor.run.context import RunContext
from ingestor.testing import Harness


def test_two_rebuilds_begun_in_the_same_second_keep_a_backup_each(
    harness: Harness, acme_plugins: Plugins, run_context: Callable[..., AbstractContextManager[RunContext]]
) -> None:
    harness.land("acme/landing/2025_01_01_00_00_acme_events.jsonl", [{"id": 1}])
    assert harness.run("--service", "acme").exit_code == 0
    started = datetime.now(UTC)
    backups = []
    for _ in range(2):
        with run_context(
            harness.landing, harness.database, acme_plugins.catalog, data_types={"events"}, started_at=started
        ) as context:
            (events,) = rebuild(context, "acme").types
        assert events.error is None and events.rows_after == 1
        backups.append(events.backup)
    first = f"lake_dev.acme__events__before_rebuild_{started:%Y%m%d_%H%M%S}"
    assert backups == [first, f"{first}_2"]
    assert harness.query(f"SELECT id FROM {first}_2") == harness.query(f"SELECT id FROM {first}") == [(1,)]
