"""A deterministic demo landing zone shaped like real chess.com API payloads.

Two players (one with `_` in the username). Each day with games gets one games file
per player (the day's finished games, one per line); profile and stats are fetched on
the first and the last day, clubs and tournaments on the last day. Dates end on a fixed
day so that the same (days, seed) always gives the same bytes.

The package: `chesscom` (addresses, epoch seconds), `games` (openings, results, PGN and TCN),
`players` (profile, stats, clubs, tournaments) and `files` (the NDJSON landing files).
"""

from __future__ import annotations

from .chesscom import API, WEB
from .files import END_DAY, PLAYERS, landing_files
from .games import DRAWS, LOSSES, OPENINGS, OPPONENTS, TIME_CONTROLS
from .players import CLUBS

__all__ = [
    "API",
    "CLUBS",
    "DRAWS",
    "END_DAY",
    "LOSSES",
    "OPENINGS",
    "OPPONENTS",
    "PLAYERS",
    "TIME_CONTROLS",
    "WEB",
    "landing_files",
]
