"""The whole plugin contract. A plugin is a module or object with `@hookimpl` functions,
registered through the entry-point group `ingestor`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ingestor.catalog import DataType, View
    from ingestor.engine import RunContext, ServiceResult
    from ingestor.fetching import FetchRequest, FetchResult

hookspec = pluggy.HookspecMarker("ingestor")
hookimpl = pluggy.HookimplMarker("ingestor")


@hookspec
def list_types() -> list[DataType]:
    """Return the data types this plugin provides."""


@hookspec
def list_views() -> list[View]:
    """Return the views this plugin keeps over its tables (refreshed after each load)."""


@hookspec(firstresult=True)
def ingest(service: str, context: RunContext) -> ServiceResult | None:
    """Ingest one service's landing files, or return None to leave it to the next
    implementation; the core's generic engine is registered last."""


@hookspec
def demo_files(env: str, days: int, seed: int) -> dict[str, bytes]:
    """Return a deterministic demo landing zone: object name (`{service}/landing/...`) -> content."""


@hookspec(firstresult=True)
def fetch(service: str, request: FetchRequest) -> FetchResult | None:
    """Fetch what is new of `service` from its API into `request.landing` (`{service}/landing/`),
    or return None to leave the service to another plugin. See `ingestor.fetching`."""
