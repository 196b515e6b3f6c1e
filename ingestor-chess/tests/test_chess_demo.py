"""The demo landing zone: deterministic, shaped like the real payloads, and loadable without rejects."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingestor.catalog import Catalog
from ingestor.testing import Harness
from ingestor_chess import demo, plugin


def test_same_arguments_same_bytes_other_seed_other_bytes() -> None:
    first = plugin.services()[0].load_demo()(10, 3)
    assert first == plugin.services()[0].load_demo()(10, 3)
    assert first != plugin.services()[0].load_demo()(10, 4)
    assert all(isinstance(content, bytes) and content for content in first.values())


def test_every_type_for_two_players_one_with_an_underscore() -> None:
    files = plugin.services()[0].load_demo()(10, 3)
    catalog = Catalog(list(plugin.services()[0].data_types))
    found: Counter[tuple[str, str]] = Counter()
    for name in files:
        assert name.startswith("chess/landing/")
        match = catalog.match("chess", name.rsplit("/", 1)[-1])
        assert match is not None, name
        found[(match.attributes["username"], match.data_type.name)] += 1
    users = {user for user, _ in found}
    assert len(users) == 2 and any("_" in user for user in users)
    for user in users:
        assert {t for u, t in found if u == user} == {"player_profile", "player_stats", "games", "clubs", "tournaments"}
    assert sum(len(content) for content in files.values()) < 100_000


def test_games_span_the_requested_days_and_look_like_archive_games() -> None:
    for days in (1, 5, 30):
        files = demo.landing_files(days=days, seed=11)
        games = [
            json.loads(line)
            for name, content in files.items()
            if name.endswith("_games.jsonl")
            for line in content.splitlines()
        ]
        assert games
        ends = [datetime.fromtimestamp(g["end_time"], UTC).date() for g in games]
        assert demo.END_DAY - timedelta(days=days - 1) <= min(ends) and max(ends) <= demo.END_DAY
        if days == 30:
            assert len(set(ends)) > 10
        for game in games:
            assert set(game) >= {
                "url",
                "pgn",
                "time_control",
                "end_time",
                "rated",
                "uuid",
                "fen",
                "time_class",
                "rules",
                "white",
                "black",
                "eco",
                "tcn",
            }
            assert isinstance(game["rated"], bool)
            assert set(game["white"]) == {"rating", "result", "@id", "username", "uuid"}
            assert f'[Link "{game["url"]}"]' in game["pgn"]
        assert len({g["uuid"] for g in games}) == len(games)


def test_demo_landing_zone_ingests_cleanly(tmp_path: Path) -> None:
    h = Harness(tmp_path, plugin)
    written = h.cli("demo", "--data-dir", str(tmp_path), "--days", "8", "--seed", "5")
    assert written.exit_code == 0, written.output
    files = plugin.services()[0].load_demo()(8, 5)
    assert h.files("chess/landing") == sorted(files)
    lines: Counter[str] = Counter()
    for name, content in files.items():
        for data_type in ("player_profile", "player_stats", "games", "clubs", "tournaments"):
            if name.endswith(f"_{data_type}.jsonl"):
                lines[data_type] += len(content.splitlines())

    result = h.run("--service", "chess", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {f["status"] for f in report["files"]} == {"loaded"}
    assert h.files("chess/landing") == [] and h.files("chess/rejected") == []
    for data_type in ("player_profile", "player_stats", "games", "clubs", "tournaments"):
        assert h.query(f"SELECT count(*) FROM dp_lake_dev.lake_chess__{data_type}") == [(lines[data_type],)]
    assert h.query("SELECT count(*) FROM dp_lake_dev.lake_chess__player_profile") == [(4,)]  # 2 players x 2 days
    view = h.query(
        "SELECT username, count(DISTINCT data_type) FROM dp_lake_dev.lake_chess__stg_chess_raw "
        "GROUP BY ALL ORDER BY ALL"
    )
    assert view == [("knightowl", 5), ("pawn_storm_42", 5)]
