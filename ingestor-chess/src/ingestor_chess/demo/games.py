"""The demo's games: one finished game of a player, with its PGN headers, TCN moves and both sides' results."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .chesscom import API, WEB, epoch

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


def tcn_moves(uci_moves: str) -> str:
    """chess.com's compact move encoding: one character per square, two per move."""
    return "".join(
        _TCN[ord(sq[0]) - 97 + (int(sq[1]) - 1) * 8] for move in uci_moves.split() for sq in (move[:2], move[2:])
    )


def pgn_text(headers: dict[str, str], san: str, result: str) -> str:
    """The PGN: the headers, then the numbered moves and the result."""
    moves = san.split()
    text = " ".join(f"{i // 2 + 1}.{'' if i % 2 == 0 else '..'} {m}" for i, m in enumerate(moves))
    return "".join(f'[{k} "{v}"]\n' for k, v in headers.items()) + f"\n{text} {result}\n"


def finished_game(rng: random.Random, player: str, ratings: dict[str, int], day: date) -> dict[str, Any]:
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
        "pgn": pgn_text(headers, san, result),
        "time_control": control,
        "end_time": epoch(end),
        "rated": rng.random() < 0.85,
    }
    if rng.random() < 0.6:
        game["accuracies"] = {"white": round(rng.uniform(55, 99), 2), "black": round(rng.uniform(55, 99), 2)}
    game.update(
        {
            "tcn": tcn_moves(uci),
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
