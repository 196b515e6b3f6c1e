"""Fetch chess.com published data (no authentication) into the landing zone.

Settings (`ChessSettings`, from the environment): `CHESS_USERNAMES` (comma-separated, required),
`INGESTOR_CHESS_API_URL` (default https://api.chess.com/pub). Requests are serial, with a descriptive
User-Agent (set `INGESTOR_FETCH_CONTACT` to add a contact, as chess.com asks).

One landing file per user and data type and run, `{ts}_chess_{username}_{type}.jsonl`,
one API object per line: the profile, the stats, each game of the monthly archives,
each club, each tournament entry (with the list it came from as `category`).

Bookmarks (per username):
- games: the last monthly archive fetched and the `end_time` of its newest game written;
  later runs re-fetch that month while it was still open (the current month) and every newer
  one, and write only games that ended after the bookmark. `--since`/`--days` fetch the
  archives from that month on and write the games that ended since then.
- player_profile, player_stats, clubs, tournaments (snapshots): a digest of what was written;
  an unchanged snapshot is not written again (a backfill window writes it anyway).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from typing import Any

import httpx

from ingestor import (
    ConfigError,
    FetchError,
    FetchRequest,
    FetchResult,
    Precision,
    TypeFetch,
    describe_error,
    file_timestamp,
    get_json,
    http_client,
    run_fetch,
)
from ingestor_chess import types
from ingestor_chess.settings import ChessSettings

SERVICE = types.SERVICE
TOURNAMENT_LISTS = ("finished", "in_progress", "registered")
_USERNAME = re.compile(r"[A-Za-z0-9_-]+")
_ARCHIVE = re.compile(r"/games/(\d{4})/(\d{2})/?$")


def _precision() -> Precision:
    """Microsecond file timestamps when the ingest side's file pattern accepts them, else seconds."""
    sample = f"{file_timestamp(datetime(2000, 1, 2, tzinfo=UTC))}_{SERVICE}_user_games"
    return "microsecond" if re.fullmatch(types.file_pattern("games"), sample) else "second"


def usernames(settings: ChessSettings) -> list[str]:
    """The chess.com usernames of `CHESS_USERNAMES`, lower-cased."""
    names = [part.strip().lower() for part in settings.usernames.split(",") if part.strip()]
    if not names:
        raise ConfigError("CHESS_USERNAMES is not set: give the chess.com usernames to fetch, comma-separated")
    bad = [name for name in names if not _USERNAME.fullmatch(name)]
    if bad:
        raise ConfigError(f"CHESS_USERNAMES: not a chess.com username: {', '.join(bad)}")
    return list(dict.fromkeys(names))


def archive_month(url: str) -> str | None:
    """`.../games/2024/05` -> `2024/05`."""
    found = _ARCHIVE.search(url)
    return f"{found.group(1)}/{found.group(2)}" if found else None


class ChessFetcher:
    """The five data types, each over every configured username."""

    def __init__(self, client: httpx.Client, users: list[str]) -> None:
        self.client = client
        self.users = users

    def fetchers(self) -> dict[str, Any]:
        """Data type -> fetch function, in fetch order."""
        return {
            "player_profile": self.player_profile,
            "player_stats": self.player_stats,
            "games": self.games,
            "clubs": self.clubs,
            "tournaments": self.tournaments,
        }

    def _each_user(self, task: TypeFetch, fetch_one: Any) -> None:
        bookmark = dict(task.bookmark or {})
        for user in self.users:
            if task.remaining == 0:
                task.note(f"--limit reached before {user}")
                break
            try:
                state = fetch_one(task, user, bookmark.get(user))
            except (FetchError, httpx.HTTPError, ValueError, KeyError, TypeError) as error:
                task.error(f"{user}: {describe_error(error)}")
                continue
            if state is not None:
                bookmark[user] = state
        task.bookmark = bookmark or None

    def _snapshot(self, task: TypeFetch, user: str, records: list[dict[str, Any]], previous: Any) -> Any:
        """Write a snapshot unless it is what was written last time; return the new bookmark."""
        return task.write_snapshot(records, previous, suffix=f"{SERVICE}_{user}_{task.data_type}")

    def player_profile(self, task: TypeFetch) -> None:
        """`/player/{u}`: one line."""
        self._each_user(task, lambda t, u, b: self._snapshot(t, u, [self._object(f"player/{u}")], b))

    def player_stats(self, task: TypeFetch) -> None:
        """`/player/{u}/stats`: one line."""
        self._each_user(task, lambda t, u, b: self._snapshot(t, u, [self._object(f"player/{u}/stats")], b))

    def clubs(self, task: TypeFetch) -> None:
        """`/player/{u}/clubs`: one line per club."""
        self._each_user(task, lambda t, u, b: self._snapshot(t, u, self._list(f"player/{u}/clubs", "clubs"), b))

    def tournaments(self, task: TypeFetch) -> None:
        """`/player/{u}/tournaments`: one line per entry, with `category` (finished, in_progress, registered)."""

        def one(t: TypeFetch, user: str, previous: Any) -> Any:
            body = self._object(f"player/{user}/tournaments")
            records = [
                {**entry, "category": category}
                for category in TOURNAMENT_LISTS
                for entry in body.get(category) or []
                if isinstance(entry, dict)
            ]
            return self._snapshot(t, user, records, previous)

        self._each_user(task, one)

    def games(self, task: TypeFetch) -> None:
        """The monthly archives newer than the bookmark (or from `--since`): one line per game."""
        self._each_user(task, self._games_of)

    def _games_of(self, task: TypeFetch, user: str, previous: dict[str, Any] | None) -> dict[str, Any] | None:
        listed = self._list(f"player/{user}/games/archives", "archives")
        months = sorted({m for m in (archive_month(str(url)) for url in listed) if m})
        current = f"{task.request.now.astimezone(UTC):%Y/%m}"
        start = task.request.start
        if start is not None:
            first, after = f"{start:%Y/%m}", int(datetime.combine(start, time(), UTC).timestamp()) - 1
            wanted = [m for m in months if m >= first]
        elif previous:
            first, after = previous["month"], int(previous.get("end_time") or 0)
            wanted = [m for m in months if m > first or (m == first and not previous.get("closed"))]
        else:
            after, wanted = -1, months
        games: list[dict[str, Any]] = []
        state = previous
        high = max(after, int((previous or {}).get("end_time") or 0))  # newest end_time written, ever
        truncated = False
        for month in wanted:
            body = self._object(f"player/{user}/games/{month}")
            new = sorted(
                (g for g in body.get("games") or [] if isinstance(g, dict) and int(g.get("end_time") or 0) > after),
                key=lambda g: int(g.get("end_time") or 0),
            )
            room = None if task.remaining is None else task.remaining - len(games)
            if room is not None and len(new) > room:
                new, truncated = new[:room], True
            games.extend(new)
            if new:
                high = max(high, int(new[-1].get("end_time") or 0))
            candidate = {"month": month, "end_time": high, "closed": month < current and not truncated}
            if _later(candidate, state):
                state = candidate
            if truncated:
                task.note(f"{user}: --limit reached in {month}")
                break
        task.write(games, suffix=f"{SERVICE}_{user}_games")
        return state

    def _object(self, path: str) -> dict[str, Any]:
        body = get_json(self.client, path)
        if not isinstance(body, dict):
            raise FetchError(f"GET {path}: expected a JSON object, got {type(body).__name__}")
        return body

    def _list(self, path: str, key: str) -> list[Any]:
        value = self._object(path).get(key)
        if not isinstance(value, list):
            raise FetchError(f"GET {path}: no {key!r} list in the answer")
        return value


def _later(candidate: dict[str, Any], state: dict[str, Any] | None) -> bool:
    """Whether a games bookmark moves forward (a backfill never moves it back)."""
    if state is None:
        return True
    key = (candidate["month"], candidate["end_time"], candidate["closed"])
    return key > (state["month"], int(state.get("end_time") or 0), bool(state.get("closed")))


def fetch_chess(request: FetchRequest) -> FetchResult:
    """Fetch chess.com data of the users in `CHESS_USERNAMES`."""
    settings = request.settings_as(ChessSettings)
    users = usernames(settings)
    with http_client(SERVICE, settings.api_url, settings=request.http) as client:
        return run_fetch(SERVICE, request, ChessFetcher(client, users).fetchers(), precision=_precision())
