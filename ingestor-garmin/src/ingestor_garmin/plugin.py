"""The Garmin plugin: hook implementations only (registered through the entry point `garmin`)."""

from __future__ import annotations

from ingestor import hookimpl
from ingestor.catalog import DataType
from ingestor_garmin.demo import demo_landing
from ingestor_garmin.types import DATA_TYPES


@hookimpl
def list_types() -> list[DataType]:
    """The 29 Garmin data types."""
    return list(DATA_TYPES)


@hookimpl
def demo_files(env: str, days: int, seed: int) -> dict[str, bytes]:
    """A deterministic Garmin landing zone covering every data type over `days` days."""
    return demo_landing(days=days, seed=seed)
