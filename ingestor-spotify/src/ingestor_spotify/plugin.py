"""The Spotify plugin (entry point `spotify` of the group `ingestor`): one service, declared."""

from __future__ import annotations

from ingestor import Service, hookimpl
from ingestor_spotify.types import DATA_TYPES


@hookimpl
def services() -> list[Service]:
    """Spotify: ten data types, a fetcher and a demo."""
    return [
        Service(
            name="spotify",
            data_types=DATA_TYPES,
            fetcher="ingestor_spotify.fetcher:fetch_spotify",
            settings="ingestor_spotify.settings:SpotifySettings",
            demo="ingestor_spotify.demo:landing_files",
        )
    ]
