"""Real payload shapes through the real engine (Harness: landing folder + DuckDB)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pytest

from ingestor.testing import Harness

KEYS = {
    "player_profile": ("username", "fetched_date"),
    "player_stats": ("username", "fetched_date"),
    "games": ("uuid",),
    "clubs": ("username", "url", "fetched_date"),
    "tournaments": ("username", "url", "fetched_date"),
}
EXPECTED_ROWS = {"player_profile": 1, "player_stats": 1, "games": 5, "clubs": 10, "tournaments": 8}


def column_types(h: Harness, table: str) -> dict[str, str]:
    rows = h.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'dp_lake_dev' "
        "AND table_name = ?",
        [table],
    )
    return dict(rows)  # type: ignore[arg-type]


@pytest.mark.parametrize("data_type", list(KEYS))
def test_each_type_loads_into_its_own_table(
    harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str], data_type: str
) -> None:
    lines = sample_lines[data_type]
    assert len(lines) == EXPECTED_ROWS[data_type]
    harness.land(name("fabiano_caruana", data_type), lines)
    result = harness.run("--service", "chess")
    assert result.exit_code == 0, result.output
    table = f"dp_lake_dev.lake_chess__{data_type}"
    keys = KEYS[data_type]
    nulls = " OR ".join(f"{k} IS NULL" for k in keys)
    assert harness.query(f"SELECT count(*), count(DISTINCT ({', '.join(keys)})) FROM {table}") == [
        (len(lines), len(lines))
    ]
    assert harness.query(f"SELECT count(*) FROM {table} WHERE {nulls}") == [(0,)]
    assert harness.query(f"SELECT DISTINCT username, fetched_date, source_file FROM {table}") == [
        ("fabiano_caruana", date(2025, 1, 2), name("fabiano_caruana", data_type))
    ]
    types = column_types(harness, f"lake_chess__{data_type}")
    assert types["raw_data"] == "JSON"
    assert types["dp_inserted_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["fetched_date"] == "DATE"
    # raw_data is the whole line
    raw = [json.loads(r) for (r,) in harness.query(f"SELECT raw_data FROM {table} ORDER BY source_file")]
    assert sorted(map(json.dumps, raw)) == sorted(map(json.dumps, lines))
    assert harness.files("chess/landing") == []
    assert harness.files("chess/archive") == [name("fabiano_caruana", data_type).replace("landing", "archive")]
    # no other chess table was created
    tables = {
        t
        for (t,) in harness.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'dp_lake_dev' AND table_type = 'BASE TABLE'"
        )
    }
    assert {t for t in tables if t.startswith("lake_chess__")} == {f"lake_chess__{data_type}"}


def test_games_are_typed(harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str]) -> None:
    harness.land(name("fabianocaruana", "games"), sample_lines["games"])
    assert harness.run("--service", "chess").exit_code == 0
    types = column_types(harness, "lake_chess__games")
    assert types["end_time"] == "TIMESTAMP WITH TIME ZONE"
    assert types["rated"] == "BOOLEAN"
    side = "STRUCT(username VARCHAR, rating BIGINT, result VARCHAR, uuid VARCHAR, id VARCHAR)"
    assert (types["white"], types["black"]) == (side, side)
    assert types["accuracies"] == "STRUCT(white DOUBLE, black DOUBLE)"
    rows = harness.query(
        "SELECT uuid, end_time, rated, white.username, white.rating, black.result, time_class, eco_code, "
        "accuracies.white FROM dp_lake_dev.lake_chess__games ORDER BY end_time"
    )
    first = rows[0]
    assert first[0] == "516abd2f-8ed1-11ea-8133-eb3d40010001"
    assert first[1] == datetime(2020, 5, 5, 14, 30, 59, tzinfo=UTC)  # epoch 1588689059, PGN EndTime 14:30:59
    assert first[1].utcoffset().total_seconds() == 0
    assert first[2:8] == (False, "FabianoCaruana", 2773, "checkmated", "rapid", "C65")
    assert abs(first[8] - 98.035) < 0.001
    assert [r[2] for r in rows] == [g["rated"] for g in sorted(sample_lines["games"], key=lambda g: g["end_time"])]
    assert [r[2] for r in rows].count(True) == 1
    assert harness.query(
        "SELECT count(*) FROM dp_lake_dev.lake_chess__games WHERE epoch(end_time) = 1589567984 "
        "AND rated AND time_class = 'blitz'"
    ) == [(1,)]


def test_profile_and_stats_are_typed(
    harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str]
) -> None:
    harness.land(name("farzy_plays_chess", "player_profile"), sample_lines["player_profile"])
    harness.land(name("farzy_plays_chess", "player_stats"), sample_lines["player_stats"])
    assert harness.run("--service", "chess").exit_code == 0
    assert harness.query(
        "SELECT username, last_online, joined, player_id, league FROM dp_lake_dev.lake_chess__player_profile"
    ) == [
        (
            "farzy_plays_chess",
            datetime(2024, 10, 25, 2, 8, 49, tzinfo=UTC),
            datetime(2012, 5, 8, 19, 11, 31, tzinfo=UTC),
            7523002,
            "Legend",
        )
    ]
    assert harness.query(
        "SELECT username, chess_daily.last.rating, chess_daily.last.date, fide "
        "FROM dp_lake_dev.lake_chess__player_stats"
    ) == [("farzy_plays_chess", 1403, datetime(2024, 10, 27, 16, 36, 45, tzinfo=UTC), 1707)]


def test_stats_and_profile_files_are_not_confused(
    harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str]
) -> None:
    harness.land(name("bob", "player_stats"), sample_lines["player_stats"])
    harness.land(name("bob_player", "player_profile"), sample_lines["player_profile"])
    harness.land(name("bob", "player"), sample_lines["player_profile"])  # the old mistyped name
    result = harness.run("--service", "chess", "--json")
    assert result.exit_code == 1
    outcomes = {f["path"]: (f["status"], f["data_type"]) for f in json.loads(result.stdout)["files"]}
    assert outcomes == {
        name("bob", "player_stats"): ("loaded", "player_stats"),
        name("bob_player", "player_profile"): ("loaded", "player_profile"),
        name("bob", "player"): ("rejected", None),
    }
    assert harness.query("SELECT username FROM dp_lake_dev.lake_chess__player_stats") == [("bob",)]
    assert harness.query("SELECT username FROM dp_lake_dev.lake_chess__player_profile") == [("bob_player",)]


def test_legacy_view_returns_every_loaded_type(
    harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str]
) -> None:
    for data_type, lines in sample_lines.items():
        harness.land(name("some_user", data_type), lines)
    harness.land(name("erik", "player_stats", "2025_01_03_00_00"), sample_lines["player_stats"])
    assert harness.run("--service", "chess").exit_code == 0
    rows = harness.query(
        "SELECT data_type, username, count(*), count(raw_data), count(dp_inserted_at), "
        "count(source_file) FROM dp_lake_dev.lake_chess__stg_chess_raw GROUP BY ALL ORDER BY ALL"
    )
    expected = sorted(
        [(t, "some_user", n, n, n, n) for t, n in EXPECTED_ROWS.items()] + [("player_stats", "erik", 1, 1, 1, 1)]
    )
    assert rows == expected
    assert harness.query(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = 'dp_lake_dev' "
        "AND table_name = 'lake_chess__stg_chess_raw'"
    ) == [("VIEW",)]
    # raw_data in the view is the line itself, queryable as JSON
    assert harness.query(
        "SELECT raw_data->>'uuid' FROM dp_lake_dev.lake_chess__stg_chess_raw "
        "WHERE data_type = 'games' AND (raw_data->>'end_time') = '1588689059'"
    ) == [("516abd2f-8ed1-11ea-8133-eb3d40010001",)]


def test_legacy_view_keeps_serving_the_renamed_old_table(
    harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str]
) -> None:
    with duckdb.connect(str(harness.database)) as con:
        con.execute("CREATE SCHEMA dp_lake_dev")
        con.execute(
            "CREATE TABLE dp_lake_dev.lake_chess__stg_chess_raw_legacy (raw_data JSON, data_type VARCHAR, "
            "username VARCHAR, dp_inserted_at TIMESTAMPTZ, source_file VARCHAR)"
        )
        con.execute(
            "INSERT INTO dp_lake_dev.lake_chess__stg_chess_raw_legacy VALUES "
            "('{\"a\": 1}', 'player', 'old_user', '2024-01-01 00:00:00+00', 'old.jsonl')"
        )
    harness.land(name("new_user", "games"), sample_lines["games"])
    assert harness.run("--service", "chess").exit_code == 0
    rows = harness.query(
        "SELECT data_type, username, count(*) FROM dp_lake_dev.lake_chess__stg_chess_raw GROUP BY ALL ORDER BY ALL"
    )
    assert rows == [("games", "new_user", 5), ("player", "old_user", 1)]


def test_a_whole_archive_on_one_line_is_rejected_with_a_reason(
    harness: Harness, sample: Callable[[str], Any], name: Callable[..., str]
) -> None:
    harness.land(name("bob", "games"), [sample("games_archive_month.json")])
    result = harness.run("--service", "chess")
    assert result.exit_code == 1
    rejected = harness.files("chess/rejected")
    assert rejected == [
        name("bob", "games").replace("landing", "rejected"),
        name("bob", "games").replace("landing", "rejected") + ".reason.json",
    ]
    reason = json.loads((harness.landing / rejected[1]).read_text())["reason"]
    assert "one game per line" in reason


def test_reloading_the_same_games_keeps_the_key_unique_per_file(
    harness: Harness, sample_lines: dict[str, list[Any]], name: Callable[..., str]
) -> None:
    harness.land(name("bob", "games"), sample_lines["games"])
    assert harness.run("--service", "chess").exit_code == 0
    harness.land(name("bob", "games"), sample_lines["games"])  # same file again: the ledger knows it
    assert harness.run("--service", "chess").exit_code == 0
    assert harness.query("SELECT count(*) FROM dp_lake_dev.lake_chess__games") == [(5,)]
