"""The chess plugin's `fetch` hook (entry point `chess_fetch`); the fetcher itself is `ingestor_chess.fetcher`.

Kept light: the fetcher and its HTTP dependencies are imported only when chess is fetched, not by
every `ingestor` command that loads the plugins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingestor import hookimpl

if TYPE_CHECKING:
    from ingestor.fetching import FetchRequest, FetchResult

SERVICE = "chess"


@hookimpl
def fetch(service: str, request: FetchRequest) -> FetchResult | None:
    """Fetch chess.com data of the users in `CHESS_USERNAMES`; None for other services."""
    if service != SERVICE:
        return None
    from ingestor_chess.fetcher import fetch_chess

    return fetch_chess(request)
