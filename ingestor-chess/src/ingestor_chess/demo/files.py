"""The demo's file writer: each player's days of games and snapshots turned into `{object name: NDJSON bytes}`."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .games import LOSSES, finished_game
from .players import player_clubs, player_profile, player_stats, player_tournaments

END_DAY = date(2025, 6, 30)
PLAYERS = ("Pawn_Storm_42", "KnightOwl")


def ndjson(records: list[dict[str, Any]]) -> bytes:
    """One compact JSON object per line."""
    return b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for r in records)


def object_name(moment: datetime, player: str, data_type: str) -> str:
    """The landing file's name, as the fetcher writes it for `player` and `data_type`."""
    return f"chess/landing/{moment:%Y_%m_%d_%H_%M}_chess_{player.lower()}_{data_type}.jsonl"


def landing_files(days: int, seed: int) -> dict[str, bytes]:
    """Object name -> NDJSON bytes for `days` days ending on END_DAY; the same arguments give the same bytes."""
    rng = random.Random(f"chess/{seed}")
    days = max(1, days)
    first = END_DAY - timedelta(days=days - 1)
    files: dict[str, bytes] = {}
    for number, player in enumerate(PLAYERS):
        player_id = 10_000_000 + rng.randint(0, 89_999_999)
        base = rng.randint(900, 1600)
        ratings = {"rapid": base, "blitz": base - 80, "bullet": base - 150}
        record = {time_class: [0, 0, 0] for time_class in ratings}
        snapshots = sorted({first, END_DAY})
        for offset in range(days):
            day = first + timedelta(days=offset)
            morning = datetime.combine(day, time(6, 5 + number), UTC)
            if day in snapshots:
                seen = morning - timedelta(minutes=rng.randint(30, 900))
                files[object_name(morning, player, "player_profile")] = ndjson(
                    [player_profile(rng, player, player_id, seen)]
                )
                files[object_name(morning, player, "player_stats")] = ndjson(
                    [player_stats(rng, ratings, record, morning)]
                )
            games = [finished_game(rng, player, ratings, day) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
            for game in games:
                side = "white" if game["white"]["username"] == player else "black"
                result = game[side]["result"]
                record[game["time_class"]][0 if result == "win" else 1 if result in LOSSES else 2] += 1
            if games:
                games.sort(key=lambda g: g["end_time"])
                evening = datetime.combine(day, time(23, 55 - number), UTC)
                files[object_name(evening, player, "games")] = ndjson(games)
        last = datetime.combine(END_DAY, time(6, 5 + number), UTC)
        files[object_name(last, player, "clubs")] = ndjson(player_clubs(rng, last))
        files[object_name(last, player, "tournaments")] = ndjson(player_tournaments(rng))
    return dict(sorted(files.items()))
