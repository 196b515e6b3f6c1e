"""The garmin plugin's `fetch` hook (entry point `garmin_fetch`); the fetcher itself is `ingestor_garmin.fetcher`.

Kept light: the fetcher and its HTTP dependencies are imported only when garmin is fetched, not by
every `ingestor` command that loads the plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingestor import hookimpl

if TYPE_CHECKING:
    from ingestor.fetching import FetchRequest, FetchResult

SERVICE = "garmin"


@hookimpl
def fetch(service: str, request: FetchRequest) -> FetchResult | None:
    """Fetch the Garmin Connect data types (GARMIN_TOKENS or username/password); None for other services."""
    if service != SERVICE:
        return None
    from ingestor_garmin.fetcher import fetch_garmin

    return fetch_garmin(request)
