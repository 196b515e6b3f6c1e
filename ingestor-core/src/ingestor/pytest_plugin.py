"""ingestor's pytest plugin (entry point `pytest11`), active wherever ingestor-core is installed:
fixtures for testing plugins against the real engine.

    def test_events_load(ingestor_harness):
        h = ingestor_harness(my_plugin)
        h.land("svc/landing/2025_01_01_00_00_00_svc_events.jsonl", [{"id": 1}])
        assert h.ingest("--service", "svc").success
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ingestor.testing import Harness


@pytest.fixture
def ingestor_harness(tmp_path: Path) -> Callable[..., Harness]:
    """Makes a hermetic `Harness` in this test's temporary folder with the plugins given
    (each call its own sub-folder)."""
    from ingestor.testing import Harness

    made: list[Harness] = []

    def make(*plugins: object, env: str = "dev") -> Harness:
        made.append(Harness(tmp_path / f"harness{len(made)}", *plugins, env=env))
        return made[-1]

    return make
