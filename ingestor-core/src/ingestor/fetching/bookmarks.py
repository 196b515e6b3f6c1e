"""What a service's fetcher has already fetched, per data type, in `{service}/_state/bookmarks.json`: outside
`landing/`, so the ingester never sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from ingestor.fetching.request import FetchError
from ingestor.landing import Landing

STATE_FILE = "_state/bookmarks.json"


class BookmarkStore:
    """Per-data-type bookmarks of one service, in `{service}/_state/bookmarks.json`."""

    def __init__(self, landing: Landing, service: str) -> None:
        self.landing = landing
        """Where the bookmark file is."""
        self.name = f"{service}/{STATE_FILE}"
        """The bookmark file's object name."""
        raw = landing.read(self.name)
        try:
            state = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as error:
            raise FetchError(f"bookmark file {self.name} is not valid JSON: {error}") from error
        self.bookmarks: dict[str, Any] = dict(state.get("bookmarks", {})) if isinstance(state, dict) else {}
        """Each data type's bookmark, as last saved (or set since)."""

    def get(self, data_type: str) -> Any:
        """The bookmark of a data type, or None."""
        return self.bookmarks.get(data_type)

    def set(self, data_type: str, value: Any) -> None:
        """Change a bookmark in memory (`save` writes it)."""
        if value is None:
            self.bookmarks.pop(data_type, None)
        else:
            self.bookmarks[data_type] = value

    def save(self, moment: datetime | None = None) -> None:
        """Write every bookmark (atomically replacing the previous state file)."""
        stamp = (moment or datetime.now(UTC)).astimezone(UTC).isoformat()
        state = {"version": 1, "updated_at": stamp, "bookmarks": self.bookmarks}
        self.landing.write(self.name, orjson.dumps(state, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
