"""The Garmin plugin (entry point `garmin` of the group `ingestor`): one service, declared."""

from __future__ import annotations

from ingestor import Service, hookimpl
from ingestor_garmin.types import DATA_TYPES


@hookimpl
def services() -> list[Service]:
    """Garmin Connect: 29 data types, a fetcher and a demo."""
    return [
        Service(
            name="garmin",
            data_types=DATA_TYPES,
            fetcher="ingestor_garmin.fetcher:fetch_garmin",
            settings="ingestor_garmin.settings:GarminSettings",
            demo="ingestor_garmin.demo:demo_landing",
        )
    ]
