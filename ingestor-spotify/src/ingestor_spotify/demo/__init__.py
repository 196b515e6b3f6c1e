"""A deterministic demo landing zone: every Spotify data type, shaped like the real API payloads.

The calendar is fixed (the demo ends on `END`), so the same seed gives the same bytes on any
day. The 21 default days span the switch to summer time in Europe/Paris, so the enrichment
files carry both +01:00 and +02:00 offsets, as the real fetchers write them.

The package: `clock` (the calendar and time formats), `catalogue` (artists, albums, tracks),
`listener` (plays, favourites, follows, playlists, enrichment) and `files` (the NDJSON landing files).
"""

from __future__ import annotations

from .catalogue import API, MARKETS, Obj
from .clock import END
from .files import LANDING, landing_files

__all__ = ["API", "END", "LANDING", "MARKETS", "Obj", "landing_files"]
