"""The demo's player snapshots: profile, stats (ratings and win/loss/draw record), clubs and tournaments."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from .chesscom import API, WEB, epoch

CLUBS = (
    ("chess-com-developer-community", "Chess.com Developer Community", 57796),
    ("club-admins", "Club Admins", 77144),
    ("the-endgame-lab", "The Endgame Lab", 301577),
    ("weekend-blitz-arena", "Weekend Blitz Arena", 412093),
)


def player_profile(rng: random.Random, player: str, player_id: int, seen: datetime) -> dict[str, Any]:
    """The player's `/player/{username}` object."""
    return {
        "avatar": f"https://images.chesscomfiles.com/uploads/v1/user/{player_id}.a1b2c3d4.200x200o.0e1f2a3b4c5d.jpg",
        "player_id": player_id,
        "@id": f"{API}/player/{player.lower()}",
        "url": f"{WEB}/member/{player}",
        "username": player.lower(),
        "followers": rng.randint(3, 400),
        "country": f"{API}/country/{rng.choice(('FR', 'BE', 'CA', 'DE'))}",
        "last_online": epoch(seen),
        "joined": 1_400_000_000 + player_id % 200_000_000,
        "status": rng.choice(("basic", "premium")),
        "is_streamer": False,
        "verified": False,
        "league": rng.choice(("Wood", "Stone", "Bronze", "Silver")),
        "streaming_platforms": [],
    }


def player_stats(
    rng: random.Random, ratings: dict[str, int], record: dict[str, list[int]], at: datetime
) -> dict[str, Any]:
    """The player's `/player/{username}/stats` object: ratings, record, tactics and puzzle rush."""
    stats: dict[str, Any] = {}
    for time_class in ("rapid", "bullet", "blitz"):
        win, loss, draw = record[time_class]
        stats[f"chess_{time_class}"] = {
            "last": {
                "rating": ratings[time_class],
                "date": epoch(at) - rng.randint(0, 86_400),
                "rd": rng.randint(40, 120),
            },
            "best": {
                "rating": ratings[time_class] + rng.randint(0, 120),
                "date": epoch(at) - rng.randint(86_400, 86_400 * 700),
                "game": f"{WEB}/game/live/{rng.randint(10**10, 10**11)}",
            },
            "record": {"win": win, "loss": loss, "draw": draw},
        }
    stats["fide"] = 0
    stats["tactics"] = {
        "highest": {"rating": rng.randint(1500, 2600), "date": epoch(at) - rng.randint(86_400, 86_400 * 900)},
        "lowest": {"rating": rng.randint(400, 900), "date": epoch(at) - rng.randint(86_400 * 900, 86_400 * 2000)},
    }
    stats["puzzle_rush"] = {"best": {"total_attempts": rng.randint(20, 45), "score": rng.randint(10, 40)}}
    return stats


def player_clubs(rng: random.Random, at: datetime) -> list[dict[str, Any]]:
    """One to three clubs the player belongs to (`/player/{username}/clubs` items)."""
    chosen = sorted(rng.sample(range(len(CLUBS)), rng.randint(1, 3)))
    clubs = []
    for index in chosen:
        slug, name, club_id = CLUBS[index]
        joined = epoch(at) - rng.randint(86_400 * 30, 86_400 * 1500)
        clubs.append(
            {
                "@id": f"{WEB}/club/{slug}",
                "name": name,
                "last_activity": rng.randint(joined, epoch(at)),
                "icon": f"https://images.chesscomfiles.com/uploads/v1/group/{club_id}.0a1b2c3d.50x50o.4e5f6a7b8c9d.png",
                "url": f"{WEB}/club/{slug}",
                "joined": joined,
            }
        )
    return clubs


def player_tournaments(rng: random.Random) -> list[dict[str, Any]]:
    """Finished arena tournaments and one registered club championship (`/player/{username}/tournaments`)."""
    entries: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 3)):
        slug = f"-weekly-{rng.choice(('blitz', 'rapid'))}-arena-{rng.randint(100_000, 999_999)}"
        wins, losses, draws = rng.randint(0, 7), rng.randint(0, 5), rng.randint(0, 3)
        entries.append(
            {
                "url": f"{WEB}/tournament/live/{slug}",
                "@id": f"{API}/tournament/{slug}",
                "wins": wins,
                "losses": losses,
                "draws": draws,
                "placement": rng.randint(1, 120),
                "status": rng.choice(("registered", "eliminated", "withdrew")),
                "total_players": rng.randint(120, 900),
                "time_class": "blitz" if "blitz" in slug else "rapid",
                "type": "swiss",
                "category": "finished",
            }
        )
    slug = f"club-championship-{rng.randint(2025, 2026)}"
    entries.append(
        {
            "url": f"{WEB}/tournament/{slug}",
            "@id": f"{API}/tournament/{slug}",
            "status": "invited",
            "category": "registered",
        }
    )
    return entries
