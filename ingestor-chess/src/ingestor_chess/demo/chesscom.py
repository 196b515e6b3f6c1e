"""The chess.com addresses and the epoch-seconds timestamps that the demo's payloads use."""

from __future__ import annotations

from datetime import datetime

API = "https://api.chess.com/pub"
WEB = "https://www.chess.com"


def epoch(moment: datetime) -> int:
    """The moment as chess.com writes times: whole seconds since the Unix epoch."""
    return int(moment.timestamp())
