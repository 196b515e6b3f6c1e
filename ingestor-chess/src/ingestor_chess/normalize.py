"""Per-type normalizers: one landing line (one chess.com API object) -> one table row.

Every row gets `username` (from the file name, lower-cased as chess.com does in its
API ids), `fetched_date` (the date of the file name's fetch timestamp) and `raw_data`
(the line as read). Epoch-second fields become ISO-8601 UTC strings, which the
TIMESTAMP schema hints of `types.py` store as timestamps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from ingestor import SourceFile

_PGN_ECO = re.compile(r'^\[ECO "([^"]*)"\]', re.MULTILINE)
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}

# Epoch-second fields, per data type (dotted paths into nested objects).
GAME_EPOCHS = ("end_time", "start_time", "last_activity", "move_by")
PROFILE_EPOCHS = ("last_online", "joined")
STATS_TIME_CLASSES = ("chess_daily", "chess960_daily", "chess_rapid", "chess_bullet", "chess_blitz")
STATS_EPOCHS = (
    *(f"{tc}.{part}.date" for tc in STATS_TIME_CLASSES for part in ("last", "best")),
    "tactics.highest.date",
    "tactics.lowest.date",
)
CLUB_EPOCHS = ("last_activity", "joined")
TOURNAMENT_EPOCHS = ("finish_time",)


def epoch_to_iso(value: Any) -> Any:
    """Epoch seconds as an ISO-8601 UTC string; other values (ISO strings, None) unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return datetime.fromtimestamp(value, UTC).isoformat()


def fetched_date(stamp: str) -> str:
    """The date of a file name timestamp `YYYY_MM_DD[_HH_MM[_SS]]`, as `YYYY-MM-DD`."""
    year, month, day = (int(part) for part in stamp.split("_")[:3])
    return date(year, month, day).isoformat()


def to_bool(value: Any) -> bool | None:
    """A real boolean from a JSON boolean, 0/1 or "true"/"false"; None stays None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"not a boolean: {value!r}")


def _convert_epochs(record: dict[str, Any], paths: Iterable[str]) -> None:
    """Convert epoch fields in place; nested objects on the way are copied first, never mutated."""
    for path in paths:
        *parents, leaf = path.split(".")
        node = record
        for parent in parents:
            child = node.get(parent)
            if not isinstance(child, dict):
                break
            node[parent] = child = dict(child)
            node = child
        else:
            if leaf in node:
                node[leaf] = epoch_to_iso(node[leaf])


def _base(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """The record's own fields plus the columns every chess table has."""
    row = dict(record)
    row["username"] = source.attributes["username"].lower()
    row["fetched_date"] = fetched_date(source.attributes["fetched"])
    row["raw_data"] = record
    return row


def _refuse_wrapper(record: dict[str, Any], key: str, what: str) -> None:
    """Reject a whole API response where one element per line is expected."""
    if isinstance(record.get(key), list):
        raise ValueError(f"this line is a whole API response ({key!r} list): write one {what} per line")


def _player(value: Any) -> Any:
    """A white/black side as an object: archive games carry one, current daily games only the player URL."""
    if isinstance(value, str):
        return {"@id": value, "username": value.rstrip("/").rsplit("/", 1)[-1]}
    return value


def normalize_game(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """One game of a monthly archive (`/pub/player/{u}/games/{yyyy}/{mm}` -> `games[]`)."""
    _refuse_wrapper(record, "games", "game")
    row = _base(record, source)
    if not row.get("uuid"):
        if not row.get("url"):
            raise ValueError("a game needs a uuid or a url")
        row["uuid"] = row["url"]
    if "rated" in row:
        row["rated"] = to_bool(row["rated"])
    for side in ("white", "black"):
        if side in row:
            row[side] = _player(row[side])
    pgn = row.get("pgn")
    if isinstance(pgn, str) and (eco := _PGN_ECO.search(pgn)):
        row["eco_code"] = eco.group(1)
    _convert_epochs(row, GAME_EPOCHS)
    return row


def normalize_profile(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """A player profile (`/pub/player/{u}`)."""
    row = _base(record, source)
    _convert_epochs(row, PROFILE_EPOCHS)
    return row


def normalize_stats(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """A player's ratings and records per time class (`/pub/player/{u}/stats`)."""
    row = _base(record, source)
    _convert_epochs(row, STATS_EPOCHS)
    return row


def normalize_club(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """One club the player belongs to (`/pub/player/{u}/clubs` -> `clubs[]`)."""
    _refuse_wrapper(record, "clubs", "club")
    row = _base(record, source)
    _convert_epochs(row, CLUB_EPOCHS)
    return row


def normalize_tournament(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
    """One tournament entry of the player (`/pub/player/{u}/tournaments` -> `finished[]`, `in_progress[]`,
    `registered[]`); a fetcher may add the list's name as `category`."""
    for key in ("finished", "in_progress", "registered"):
        _refuse_wrapper(record, key, "tournament")
    row = _base(record, source)
    _convert_epochs(row, TOURNAMENT_EPOCHS)
    return row
