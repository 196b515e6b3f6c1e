"""File names -> data type and username; declarations of the tables and the legacy view."""

from __future__ import annotations

import pytest

from ingestor.catalog import Catalog
from ingestor.schema import Kind
from ingestor_chess import plugin, types


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(list(plugin.services()[0].data_types))


@pytest.mark.parametrize(
    ("filename", "data_type", "username"),
    [
        ("2025_01_02_03_04_chess_bob_player_stats.jsonl", "player_stats", "bob"),
        ("2025_01_02_03_04_chess_bob_player_profile.jsonl", "player_profile", "bob"),
        ("2025_01_02_03_04_chess_some_user_games.jsonl", "games", "some_user"),
        ("2025_01_02_03_04_chess_some_user_games.jsonl.gz", "games", "some_user"),
        ("2025_01_02_03_04_chess_a_b_c_clubs.jsonl", "clubs", "a_b_c"),
        ("2025_01_02_03_04_chess_x-y_tournaments.jsonl", "tournaments", "x-y"),
        # usernames that end like a type name: the type is the anchored suffix, the rest is the username
        ("2025_01_02_03_04_chess_the_player_player_stats.jsonl", "player_stats", "the_player"),
        ("2025_01_02_03_04_chess_player_stats_fan_player_profile.jsonl", "player_profile", "player_stats_fan"),
        ("2025_01_02_03_04_chess_games_games.jsonl", "games", "games"),
        ("2025_01_02_chess_bob_games.jsonl", "games", "bob"),
        ("2025_01_02_03_04_05_chess_bob_games.jsonl", "games", "bob"),
        ("2025_01_02_03_04_05_123456_chess_bob_1_games.jsonl", "games", "bob_1"),
    ],
)
def test_file_names_match_one_type_and_carry_the_username(
    catalog: Catalog, filename: str, data_type: str, username: str
) -> None:
    match = catalog.match("chess", filename)
    assert match is not None
    assert match.data_type.name == data_type
    assert match.attributes["username"] == username
    assert match.attributes["fetched"].startswith("2025_01_02")


@pytest.mark.parametrize(
    "filename",
    [
        "2025_01_02_03_04_chess_bob_player.jsonl",  # the old system's "player" type does not exist
        "2025_01_02_03_04_chess_player_stats.jsonl",  # no username
        "2025_01_02_03_04_chess_bob_stats.jsonl",
        "2025_01_02_03_04_chess_bob_games.json",
        "chess_bob_games.jsonl",  # no fetch timestamp
        "2025_01_02_03_04_chess_bob_games_backup.jsonl",
        "2025_01_02_03_04_chess_bob smith_games.jsonl",
    ],
)
def test_other_file_names_match_nothing(catalog: Catalog, filename: str) -> None:
    assert catalog.match("chess", filename) is None


def test_every_type_has_its_own_table_and_metadata_columns() -> None:
    declared = {dt.name: dt for dt in list(plugin.services()[0].data_types)}
    assert set(declared) == {"player_profile", "player_stats", "games", "clubs", "tournaments"}
    for name, dt in declared.items():
        assert dt.service == "chess"
        assert dt.dataset_for("prd") == "dp_lake_prd"
        assert dt.table_for("prd") == f"lake_chess__{name}"
        assert (dt.inserted_at_column, dt.source_file_column) == ("dp_inserted_at", "source_file")
        assert dt.schema_hints["raw_data"] is Kind.JSON
        assert dt.schema_hints["fetched_date"] is Kind.DATE
    assert declared["games"].primary_key == ("uuid",)
    assert declared["games"].schema_hints["end_time"] is Kind.TIMESTAMP
    assert declared["games"].schema_hints["rated"] is Kind.BOOL
    assert declared["player_profile"].primary_key == ("username", "fetched_date")
    assert declared["player_stats"].primary_key == ("username", "fetched_date")


def test_the_legacy_view_reads_every_typed_table() -> None:
    (view,) = plugin.services()[0].views
    assert (view.dataset, view.name) == ("dp_lake_{env}", "lake_chess__stg_chess_raw")
    assert view.columns == ("raw_data", "data_type", "username", "dp_inserted_at", "source_file")
    typed = {s.table: s.constants.get("data_type") for s in view.sources if s.table != types.LEGACY_TABLE}
    assert typed == {f"lake_chess__{dt.name}": dt.name for dt in list(plugin.services()[0].data_types)}
