"""The spotify plugin's `fetch` hook (entry point `spotify_fetch`); the fetcher itself is `ingestor_spotify.fetcher`.

Kept light: the fetcher and its HTTP dependencies are imported only when spotify is fetched, not by
every `ingestor` command that loads the plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingestor import hookimpl

if TYPE_CHECKING:
    from ingestor.fetching import FetchRequest, FetchResult

SERVICE = "spotify"


@hookimpl
def fetch(service: str, request: FetchRequest) -> FetchResult | None:
    """Fetch the Spotify data types of the account behind `SPOTIFY_REFRESH_TOKEN`; None for other services."""
    if service != SERVICE:
        return None
    from ingestor_spotify.fetcher import fetch_spotify

    return fetch_spotify(request)
