"""The chess plugin's hook implementations (registered through the `ingestor` entry point)."""

from __future__ import annotations

from ingestor import hookimpl
from ingestor.catalog import DataType, View

from ingestor_chess import demo, types


@hookimpl
def list_types() -> list[DataType]:
    """The five chess.com data types."""
    return list(types.DATA_TYPES)


@hookimpl
def list_views() -> list[View]:
    """The legacy combined table `lake_chess__stg_chess_raw`, kept as a view over the typed tables."""
    return [types.STG_CHESS_RAW]


@hookimpl
def demo_files(env: str, days: int, seed: int) -> dict[str, bytes]:
    """A deterministic chess landing zone."""
    return demo.landing_files(days=days, seed=seed)
