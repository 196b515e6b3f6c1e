"""A deterministic demo landing zone shaped like real chess.com API payloads.

Two players (one with `_` in the username). Each day with games gets one games file
per player (the day's finished games, one per line); profile and stats are fetched on
the first and the last day, clubs and tournaments on the last day. Dates end on a fixed
day so that the same (days, seed) always gives the same bytes.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

END_DAY = date(2025, 6, 30)
PLAYERS = ("Pawn_Storm_42", "KnightOwl")
OPPONENTS = ("viditchess", "Hikaru_fan_99", "e4_enjoyer", "RookLift", "quiet-bishop", "Zugzwanger", "caro_kann_kid")
TIME_CONTROLS = (("rapid", "600"), ("rapid", "900+10"), ("blitz", "180+2"), ("blitz", "300"), ("bullet", "60"))
# (ECO, opening page, SAN moves, UCI moves, FEN after the moves)
OPENINGS = (
    (
        "C65",
        "Ruy-Lopez-Opening-Berlin-Defense",
        "e4 e5 Nf3 Nc6 Bb5 Nf6",
        "e2e4 e7e5 g1f3 b8c6 f1b5 g8f6",
        "r1bqkb1r/pppp1ppp/2n2n2/1B2p3/4P3/5N2/PPPP1PPP/RNBQK2R w KQkq - 4 4",
    ),
    (
        "B50",
        "Sicilian-Defense-Modern-Variations",
        "e4 c5 Nf3 d6",
        "e2e4 c7c5 g1f3 d7d6",
        "rnbqkbnr/pp2pppp/3p4/2p5/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 0 3",
    ),
    (
        "D30",
        "Queens-Gambit-Declined",
        "d4 d5 c4 e6",
        "d2d4 d7d5 c2c4 e7e6",
        "rnbqkbnr/ppp2ppp/4p3/3p4/2PP4/8/PP2PPPP/RNBQKBNR w KQkq - 0 3",
    ),
    (
        "C00",
        "French-Defense-Normal-Variation",
        "e4 e6 d4 d5",
        "e2e4 e7e6 d2d4 d7d5",
        "rnbqkbnr/ppp2ppp/4p3/3p4/3PP3/8/PPP2PPP/RNBQKBNR w KQkq - 0 3",
    ),
    (
        "B12",
        "Caro-Kann-Defense",
        "e4 c6 d4 d5",
        "e2e4 c7c6 d2d4 d7d5",
        "rnbqkbnr/pp2pppp/2p5/3p4/3PP3/8/PPP2PPP/RNBQKBNR w KQkq - 0 3",
    ),
)
CLUBS = (
    ("chess-com-developer-community", "Chess.com Developer Community", 57796),
    ("club-admins", "Club Admins", 77144),
    ("the-endgame-lab", "The Endgame Lab", 301577),
    ("weekend-blitz-arena", "Weekend Blitz Arena", 412093),
)
# result code -> how the PGN Termination header words it
LOSSES = {
    "checkmated": "won by checkmate",
    "resigned": "won by resignation",
    "timeout": "won on time",
    "abandoned": "won - game abandoned",
}
DRAWS = {
    "agreed": "Game drawn by agreement",
    "repetition": "Game drawn by repetition",
    "stalemate": "Game drawn by stalemate",
    "insufficient": "Game drawn by insufficient material",
    "50move": "Game drawn by 50-move rule",
}
_TCN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!?"
API = "https://api.chess.com/pub"
WEB = "https://www.chess.com"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _tcn(uci_moves: str) -> str:
    """chess.com's compact move encoding: one character per square, two per move."""
    return "".join(
        _TCN[ord(sq[0]) - 97 + (int(sq[1]) - 1) * 8] for move in uci_moves.split() for sq in (move[:2], move[2:])
    )


def _pgn(headers: dict[str, str], san: str, result: str) -> str:
    moves = san.split()
    text = " ".join(f"{i // 2 + 1}.{'' if i % 2 == 0 else '..'} {m}" for i, m in enumerate(moves))
    return "".join(f'[{k} "{v}"]\n' for k, v in headers.items()) + f"\n{text} {result}\n"


def _game(rng: random.Random, player: str, ratings: dict[str, int], day: date) -> dict[str, Any]:
    """One finished game of `player`, ending on `day`, shaped like an archive `games[]` item."""
    time_class, control = rng.choice(TIME_CONTROLS)
    eco, opening, san, uci, fen = rng.choice(OPENINGS)
    end = datetime.combine(day, time(0, 0), UTC) + timedelta(seconds=rng.randint(600, 84_000))
    start = end - timedelta(seconds=rng.randint(60, 1_800))
    mine, theirs = ratings[time_class], ratings[time_class] + rng.randint(-150, 150)
    outcome = rng.choices(("win", "loss", "draw"), weights=(45, 42, 13))[0]
    loss, draw = rng.choice(sorted(LOSSES)), rng.choice(sorted(DRAWS))
    mine_result = {"win": "win", "loss": loss, "draw": draw}[outcome]
    their_result = {"win": loss, "loss": "win", "draw": draw}[outcome]
    opponent = rng.choice(OPPONENTS)
    ratings[time_class] = mine + {"win": 8, "loss": -8, "draw": 0}[outcome]
    as_white = rng.random() < 0.5
    white, black = ((player, mine, mine_result), (opponent, theirs, their_result))[:: 1 if as_white else -1]
    result = "1-0" if white[2] == "win" else "0-1" if black[2] == "win" else "1/2-1/2"
    game_id = rng.randint(10**10, 10**11)
    url = f"{WEB}/game/live/{game_id}"
    winner = white[0] if white[2] == "win" else black[0]
    termination = DRAWS[draw] if outcome == "draw" else f"{winner} {LOSSES[loss]}"
    headers = {
        "Event": "Live Chess",
        "Site": "Chess.com",
        "Date": f"{start:%Y.%m.%d}",
        "Round": "-",
        "White": white[0],
        "Black": black[0],
        "Result": result,
        "CurrentPosition": fen,
        "Timezone": "UTC",
        "ECO": eco,
        "ECOUrl": f"{WEB}/openings/{opening}",
        "UTCDate": f"{start:%Y.%m.%d}",
        "UTCTime": f"{start:%H:%M:%S}",
        "WhiteElo": str(white[1]),
        "BlackElo": str(black[1]),
        "TimeControl": control,
        "Termination": termination,
        "StartTime": f"{start:%H:%M:%S}",
        "EndDate": f"{end:%Y.%m.%d}",
        "EndTime": f"{end:%H:%M:%S}",
        "Link": url,
    }
    game: dict[str, Any] = {
        "url": url,
        "pgn": _pgn(headers, san, result),
        "time_control": control,
        "end_time": _epoch(end),
        "rated": rng.random() < 0.85,
    }
    if rng.random() < 0.6:
        game["accuracies"] = {"white": round(rng.uniform(55, 99), 2), "black": round(rng.uniform(55, 99), 2)}
    game.update(
        {
            "tcn": _tcn(uci),
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=1)),
            "initial_setup": "",
            "fen": fen,
            "time_class": time_class,
            "rules": "chess",
        }
    )
    for side, (name, rating, side_result) in (("white", white), ("black", black)):
        game[side] = {
            "rating": rating,
            "result": side_result,
            "@id": f"{API}/player/{name.lower()}",
            "username": name,
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=1)),
        }
    game["eco"] = f"{WEB}/openings/{opening}"
    return game


def _profile(rng: random.Random, player: str, player_id: int, seen: datetime) -> dict[str, Any]:
    return {
        "avatar": f"https://images.chesscomfiles.com/uploads/v1/user/{player_id}.a1b2c3d4.200x200o.0e1f2a3b4c5d.jpg",
        "player_id": player_id,
        "@id": f"{API}/player/{player.lower()}",
        "url": f"{WEB}/member/{player}",
        "username": player.lower(),
        "followers": rng.randint(3, 400),
        "country": f"{API}/country/{rng.choice(('FR', 'BE', 'CA', 'DE'))}",
        "last_online": _epoch(seen),
        "joined": 1_400_000_000 + player_id % 200_000_000,
        "status": rng.choice(("basic", "premium")),
        "is_streamer": False,
        "verified": False,
        "league": rng.choice(("Wood", "Stone", "Bronze", "Silver")),
        "streaming_platforms": [],
    }


def _stats(rng: random.Random, ratings: dict[str, int], record: dict[str, list[int]], at: datetime) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for time_class in ("rapid", "bullet", "blitz"):
        win, loss, draw = record[time_class]
        stats[f"chess_{time_class}"] = {
            "last": {
                "rating": ratings[time_class],
                "date": _epoch(at) - rng.randint(0, 86_400),
                "rd": rng.randint(40, 120),
            },
            "best": {
                "rating": ratings[time_class] + rng.randint(0, 120),
                "date": _epoch(at) - rng.randint(86_400, 86_400 * 700),
                "game": f"{WEB}/game/live/{rng.randint(10**10, 10**11)}",
            },
            "record": {"win": win, "loss": loss, "draw": draw},
        }
    stats["fide"] = 0
    stats["tactics"] = {
        "highest": {"rating": rng.randint(1500, 2600), "date": _epoch(at) - rng.randint(86_400, 86_400 * 900)},
        "lowest": {"rating": rng.randint(400, 900), "date": _epoch(at) - rng.randint(86_400 * 900, 86_400 * 2000)},
    }
    stats["puzzle_rush"] = {"best": {"total_attempts": rng.randint(20, 45), "score": rng.randint(10, 40)}}
    return stats


def _clubs(rng: random.Random, at: datetime) -> list[dict[str, Any]]:
    chosen = sorted(rng.sample(range(len(CLUBS)), rng.randint(1, 3)))
    clubs = []
    for index in chosen:
        slug, name, club_id = CLUBS[index]
        joined = _epoch(at) - rng.randint(86_400 * 30, 86_400 * 1500)
        clubs.append(
            {
                "@id": f"{WEB}/club/{slug}",
                "name": name,
                "last_activity": rng.randint(joined, _epoch(at)),
                "icon": f"https://images.chesscomfiles.com/uploads/v1/group/{club_id}.0a1b2c3d.50x50o.4e5f6a7b8c9d.png",
                "url": f"{WEB}/club/{slug}",
                "joined": joined,
            }
        )
    return clubs


def _tournaments(rng: random.Random) -> list[dict[str, Any]]:
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


def _ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for r in records)


def _name(moment: datetime, player: str, data_type: str) -> str:
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
                files[_name(morning, player, "player_profile")] = _ndjson([_profile(rng, player, player_id, seen)])
                files[_name(morning, player, "player_stats")] = _ndjson([_stats(rng, ratings, record, morning)])
            games = [_game(rng, player, ratings, day) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
            for game in games:
                side = "white" if game["white"]["username"] == player else "black"
                result = game[side]["result"]
                record[game["time_class"]][0 if result == "win" else 1 if result in LOSSES else 2] += 1
            if games:
                games.sort(key=lambda g: g["end_time"])
                evening = datetime.combine(day, time(23, 55 - number), UTC)
                files[_name(evening, player, "games")] = _ndjson(games)
        last = datetime.combine(END_DAY, time(6, 5 + number), UTC)
        files[_name(last, player, "clubs")] = _ndjson(_clubs(rng, last))
        files[_name(last, player, "tournaments")] = _ndjson(_tournaments(rng))
    return dict(sorted(files.items()))
