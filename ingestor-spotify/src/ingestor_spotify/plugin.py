"""The plugin's hook implementations (entry point `spotify` of the group `ingestor`)."""

from __future__ import annotations

from ingestor import hookimpl
from ingestor.catalog import DataType
from ingestor_spotify import demo
from ingestor_spotify.types import DATA_TYPES


@hookimpl
def list_types() -> list[DataType]:
    """The ten Spotify data types."""
    return list(DATA_TYPES)


@hookimpl
def demo_files(env: str, days: int, seed: int) -> dict[str, bytes]:
    """A deterministic demo landing zone for Spotify (the same for every env)."""
    return demo.landing_files(days, seed)
