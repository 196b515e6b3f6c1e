"""The five chess.com data types, their tables, and the legacy combined view."""

from __future__ import annotations

import re

from ingestor import DataType, Kind, Normalizer, View, ViewSource
from ingestor_chess import normalize

SERVICE = "chess"
DATASET = "dp_lake_{env}"
TABLE_PREFIX = "lake_chess__"
INSERTED_AT = "dp_inserted_at"
SOURCE_FILE = "source_file"

LEGACY_VIEW = "lake_chess__stg_chess_raw"
# Rename the old system's table to this name and the view keeps serving its rows too.
LEGACY_TABLE = "lake_chess__stg_chess_raw_legacy"
VIEW_COLUMNS = ("raw_data", "data_type", "username", INSERTED_AT, SOURCE_FILE)

# The fetch timestamp (`YYYY_MM_DD_HH_MM`; a bare date, `_SS` and `_SS_ffffff` are accepted too) and
# the username (chess.com allows letters, digits, `_` and `-`). The type is an anchored suffix, so a
# username may contain `_` and no type name is split.
_STAMP = r"(?P<fetched>\d{4}_\d{2}_\d{2}(?:_\d{2}_\d{2}(?:_\d{2}(?:_\d{6})?)?)?)"
_USERNAME = r"(?P<username>[A-Za-z0-9_-]+)"

# Fetched on every run, one line per fetch: stale after 36 hours without a file (games come only when played);
# the day a line is about is the fetch's, in the file name (`ingestor status` names the days missing).
_DAILY = frozenset({"player_profile", "player_stats"})
_COMMON_HEAD: dict[str, Kind] = {"username": Kind.STRING, "fetched_date": Kind.DATE}
_SIDE = {"username": Kind.STRING, "rating": Kind.INT64, "result": Kind.STRING, "uuid": Kind.STRING, "id": Kind.STRING}


def file_pattern(name: str) -> str:
    """The file-name regex of one chess data type (matched against the name without extension)."""
    return rf"{_STAMP}_{SERVICE}_{_USERNAME}_{re.escape(name)}"


def _data_type(
    name: str,
    normalizer: Normalizer,
    hints: dict[str, Kind],
    primary_key: tuple[str, ...],
    description: str,
) -> DataType:
    return DataType(
        service=SERVICE,
        name=name,
        dataset=DATASET,
        table=TABLE_PREFIX + name,
        file_patterns=(file_pattern(name),),
        primary_key=primary_key,
        cluster_by=("username",),
        schema_hints={**_COMMON_HEAD, **hints, "raw_data": Kind.JSON},
        inserted_at_column=INSERTED_AT,
        source_file_column=SOURCE_FILE,
        description=description,
        expected_every="daily" if name in _DAILY else None,
        date_group="fetched" if name in _DAILY else None,
        normalize=normalizer,
    )


GAMES = _data_type(
    "games",
    normalize.normalize_game,
    {
        "uuid": Kind.STRING,
        "url": Kind.STRING,
        "end_time": Kind.TIMESTAMP,
        "start_time": Kind.TIMESTAMP,
        "time_class": Kind.STRING,
        "time_control": Kind.STRING,
        "rated": Kind.BOOL,
        "rules": Kind.STRING,
        **{f"{side}.{field}": kind for side in ("white", "black") for field, kind in _SIDE.items()},
        "accuracies.white": Kind.FLOAT64,
        "accuracies.black": Kind.FLOAT64,
        "eco": Kind.STRING,
        "eco_code": Kind.STRING,
        "fen": Kind.STRING,
        "pgn": Kind.STRING,
    },
    ("uuid",),
    "One finished game per line, from the monthly archives /pub/player/{username}/games/{YYYY}/{MM} (games[]).",
)

PLAYER_PROFILE = _data_type(
    "player_profile",
    normalize.normalize_profile,
    {"player_id": Kind.INT64, "last_online": Kind.TIMESTAMP, "joined": Kind.TIMESTAMP},
    ("username", "fetched_date"),
    "The player's profile, /pub/player/{username}: one line per fetch.",
)

PLAYER_STATS = _data_type(
    "player_stats",
    normalize.normalize_stats,
    {path: Kind.TIMESTAMP for path in normalize.STATS_EPOCHS},
    ("username", "fetched_date"),
    "The player's ratings and records per time class, /pub/player/{username}/stats: one line per fetch.",
)

CLUBS = _data_type(
    "clubs",
    normalize.normalize_club,
    {"url": Kind.STRING, "name": Kind.STRING, "joined": Kind.TIMESTAMP, "last_activity": Kind.TIMESTAMP},
    ("username", "url", "fetched_date"),
    "One club the player belongs to per line, /pub/player/{username}/clubs (clubs[]).",
)

TOURNAMENTS = _data_type(
    "tournaments",
    normalize.normalize_tournament,
    {"url": Kind.STRING, "status": Kind.STRING, "category": Kind.STRING},
    ("username", "url", "fetched_date"),
    "One tournament entry of the player per line, /pub/player/{username}/tournaments "
    "(finished[], in_progress[], registered[]; the list's name may come as `category`).",
)

DATA_TYPES: tuple[DataType, ...] = (PLAYER_PROFILE, PLAYER_STATS, GAMES, CLUBS, TOURNAMENTS)


def _source(table: str, data_type: str | None) -> ViewSource:
    mapped = VIEW_COLUMNS if data_type is None else tuple(c for c in VIEW_COLUMNS if c != "data_type")
    return ViewSource(
        dataset=DATASET,
        table=table,
        columns={column: column for column in mapped},
        constants={} if data_type is None else {"data_type": data_type},
    )


STG_CHESS_RAW = View(
    service=SERVICE,
    dataset=DATASET,
    name=LEGACY_VIEW,
    columns=VIEW_COLUMNS,
    sources=(
        *(_source(dt.table, dt.name) for dt in DATA_TYPES),
        _source(LEGACY_TABLE, None),
    ),
)
