"""The whole plugin contract. A plugin is a module or object with `@hookimpl` functions,
registered through the entry-point group `ingestor`; what it may use is exported by `ingestor`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ingestor.run.context import RunContext, ServiceResult
    from ingestor.service import Service

hookspec = pluggy.HookspecMarker("ingestor")
hookimpl = pluggy.HookimplMarker("ingestor")
"""Marks a plugin's implementation of a hook: `@hookimpl def services() -> list[Service]: ...`."""


@hookspec
def services() -> list[Service]:
    """Return the services this plugin provides: their data types, views, fetcher and demo."""


@hookspec(firstresult=True)
def ingest(service: str, context: RunContext) -> ServiceResult | None:
    """Ingest one service's landing files, or return None to leave it to the next
    implementation; the core's generic engine is registered last."""
