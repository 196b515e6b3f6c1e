"""The normalizers on their own: epochs, booleans, keys, raw_data, refusals."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ingestor.catalog import SourceFile
from ingestor_chess import normalize

SOURCE = SourceFile(
    name="chess/landing/2025_01_02_03_04_chess_Some_User_games.jsonl",
    attributes={"fetched": "2025_01_02_03_04", "username": "Some_User"},
)


def test_game_epochs_become_utc_iso_and_raw_data_is_the_untouched_line(sample_lines: dict[str, list[Any]]) -> None:
    game = sample_lines["games"][0]
    before = copy.deepcopy(game)
    row = normalize.normalize_game(game, SOURCE)
    assert row["end_time"] == "2020-05-05T14:30:59+00:00"  # 1588689059, the PGN's EndDate/EndTime
    assert row["username"] == "some_user"
    assert row["fetched_date"] == "2025-01-02"
    assert row["eco_code"] == "C65"
    assert row["raw_data"] == before
    assert game == before  # the input is not mutated


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("False", False), (1, True), (0, False), (None, None)],
)
def test_rated_is_a_real_boolean(value: Any, expected: bool | None) -> None:
    row = normalize.normalize_game({"url": "https://www.chess.com/game/live/1", "rated": value}, SOURCE)
    assert row["rated"] is expected


def test_rated_refuses_what_is_not_a_boolean() -> None:
    with pytest.raises(ValueError, match="not a boolean"):
        normalize.normalize_game({"uuid": "u", "rated": "maybe"}, SOURCE)


def test_game_key_falls_back_to_the_url_and_is_required() -> None:
    url = "https://www.chess.com/game/daily/692238445"
    assert normalize.normalize_game({"url": url}, SOURCE)["uuid"] == url
    with pytest.raises(ValueError, match="uuid or a url"):
        normalize.normalize_game({"pgn": "1. e4 *"}, SOURCE)


def test_daily_game_sides_given_as_urls_become_objects(sample: Any) -> None:
    game = sample("player_current_games.json")["games"][0]
    row = normalize.normalize_game(game, SOURCE)
    assert row["white"] == {"@id": "https://api.chess.com/pub/player/afgano29", "username": "afgano29"}
    assert row["start_time"] == "2024-08-18T22:13:51+00:00"  # the PGN's UTCDate/UTCTime
    assert row["rated"] is False


def test_a_whole_archive_on_one_line_is_refused(sample: Any) -> None:
    with pytest.raises(ValueError, match="one game per line"):
        normalize.normalize_game(sample("games_archive_month.json"), SOURCE)
    with pytest.raises(ValueError, match="one tournament per line"):
        normalize.normalize_tournament(sample("player_tournaments.json"), SOURCE)
    with pytest.raises(ValueError, match="one club per line"):
        normalize.normalize_club(sample("player_clubs.json"), SOURCE)


def test_stats_nested_dates_are_converted_without_touching_the_input(sample_lines: dict[str, list[Any]]) -> None:
    stats = sample_lines["player_stats"][0]
    row = normalize.normalize_stats(stats, SOURCE)
    assert row["chess_daily"]["last"]["date"] == "2024-10-27T16:36:45+00:00"
    assert row["tactics"]["lowest"]["date"].startswith("2008-01-24")
    assert row["chess_daily"]["record"]["win"] == 2978
    assert stats["chess_daily"]["last"]["date"] == 1730047005
    assert row["raw_data"]["chess_daily"]["last"]["date"] == 1730047005


def test_profile_epochs(sample_lines: dict[str, list[Any]]) -> None:
    row = normalize.normalize_profile(sample_lines["player_profile"][0], SOURCE)
    assert row["last_online"] == "2024-10-25T02:08:49+00:00"
    assert row["joined"] == "2012-05-08T19:11:31+00:00"


@pytest.mark.parametrize(
    ("stamp", "day"),
    [("2025_01_02_03_04", "2025-01-02"), ("2024_12_31", "2024-12-31"), ("2024_02_29_23_59_59", "2024-02-29")],
)
def test_fetched_date(stamp: str, day: str) -> None:
    assert normalize.fetched_date(stamp) == day
