"""Declarations and conversions, without a warehouse."""

from __future__ import annotations

from typing import Any

import pytest

from ingestor.catalog import Catalog, SourceFile
from ingestor.schema import Kind
from ingestor_spotify import plugin
from ingestor_spotify.normalize import NotAnApiObject, release_date, to_bool, to_int
from ingestor_spotify.types import DATA_TYPES

CATALOG = Catalog(list(plugin.services()[0].data_types))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("false", False),
        ("False", False),
        (" TRUE ", True),
        ("0", False),
        (1, True),
        (0, False),
        ("no", None),
        ("", None),
        (2, None),
        (None, None),
        ([], None),
        ({"x": 1}, None),
    ],
)
def test_to_bool_never_uses_truthiness(value: Any, expected: bool | None) -> None:
    assert to_bool(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-12-18", ("2020-12-18", "day")),
        ("1981-12", ("1981-12-01", "month")),
        ("1979", ("1979-01-01", "year")),
        ("0000", (None, None)),
        ("2021-02-30", (None, None)),
        ("soon", (None, None)),
        (None, (None, None)),
        (1979, (None, None)),
    ],
)
def test_release_date(value: Any, expected: tuple[str | None, str | None]) -> None:
    assert release_date(value) == expected


def test_to_int() -> None:
    assert [to_int(v) for v in (3, 3.0, "42", 3.5, True, None, "x")] == [3, 3, 42, None, None, None, None]


@pytest.mark.parametrize(
    ("filename", "data_type", "day"),
    [
        ("2026_02_25_21_15_spotify_recently_played.jsonl", "recently_played", "2026_02_25"),
        ("2026_02_25_21_15_spotify_saved_tracks.jsonl.gz", "saved_tracks", "2026_02_25"),
        ("2026_02_25_21_15_spotify_top_tracks.jsonl", "top_tracks", "2026_02_25"),
        ("2026_02_25_21_15_artist_enrichment.jsonl", "artist_enrichment", "2026_02_25"),
        ("2026_02_25_21_15_album_enrichment.jsonl", "album_enrichment", "2026_02_25"),
        ("2026_02_25_21_15_spotify_album_enrichment.jsonl", "album_enrichment", "2026_02_25"),
        ("2026_02_25_spotify_user_profile.jsonl", "user_profile", "2026_02_25"),
        ("backfill_spotify_followed_artists.jsonl", "followed_artists", None),
        ("2026_02_25_21_15_spotify_playlists.jsonl", "playlists", "2026_02_25"),
        ("2026_02_25_21_15_spotify_saved_albums.jsonl", "saved_albums", "2026_02_25"),
        ("2026_02_25_21_15_spotify_top_artists.jsonl", "top_artists", "2026_02_25"),
    ],
)
def test_file_names(filename: str, data_type: str, day: str | None) -> None:
    match = CATALOG.match("spotify", filename)
    assert match is not None and match.data_type.name == data_type
    assert match.attributes.get("day") == day


@pytest.mark.parametrize(
    "filename",
    [
        "2026_02_25_21_15_spotify_recently_played_old.jsonl",
        "2026_02_25_21_15_spotify_playlist_items.jsonl",
        "2026_02_25_21_15_track_enrichment.jsonl",
        "spotify_recently_played.jsonl",
        "2026_02_25_21_15_spotify_recently_played.json",
    ],
)
def test_other_file_names_match_nothing(filename: str) -> None:
    assert CATALOG.match("spotify", filename) is None


def test_declarations() -> None:
    assert [t.name for t in DATA_TYPES] == [
        "recently_played",
        "saved_tracks",
        "saved_albums",
        "artist_enrichment",
        "album_enrichment",
        "top_artists",
        "top_tracks",
        "followed_artists",
        "playlists",
        "user_profile",
    ]
    for t in DATA_TYPES:
        assert t.dataset_for("prd") == "dp_lake_prd"
        assert t.table_for("prd") == f"lake_spotify__normalized_{t.name}"
        assert (t.inserted_at_column, t.source_file_column) == ("dp_inserted_at", "source_file")
        assert t.schema_hints["raw_data"] is Kind.JSON
        assert set(t.primary_key) <= set(t.schema_hints) | {c.name for c in t.columns}
    keys = {t.name: t.primary_key for t in DATA_TYPES}
    assert keys["recently_played"] == ("playedAt", "trackId")
    assert keys["saved_tracks"] == ("trackId",)
    assert keys["saved_albums"] == ("albumId",)
    assert keys["artist_enrichment"] == ("artistId",)
    assert keys["album_enrichment"] == ("albumId",)


def test_every_typed_column_is_declared(samples: dict[str, list[dict[str, Any]]]) -> None:
    """What the normalizers write and what the hints or declarations name are the same columns."""
    for t in DATA_TYPES:
        typed = set(t.schema_hints) | {c.name for c in t.columns}
        assert t.normalize is not None
        source = SourceFile(name=f"spotify/landing/x_{t.name}.jsonl", attributes={"day": "2026_02_25"})
        written: set[str] = set()
        for line in samples[t.name]:
            record = t.normalize(line, source)
            assert record["raw_data"] is line
            written |= {k for k, v in record.items() if not isinstance(v, list) or t.columns}
        assert written == typed, t.name


def test_a_line_without_the_object_raises() -> None:
    source = SourceFile(name="spotify/landing/2026_02_25_21_15_spotify_saved_albums.jsonl", attributes={})
    saved_albums = CATALOG.get("spotify", "saved_albums")
    assert saved_albums is not None and saved_albums.normalize is not None
    with pytest.raises(NotAnApiObject, match="no album object"):
        saved_albums.normalize({"href": "...", "items": []}, source)
    with pytest.raises(NotAnApiObject, match="has no id"):
        saved_albums.normalize({"added_at": "2026-01-01T00:00:00Z", "album": {"name": "x"}}, source)


def test_a_local_track_may_have_no_id() -> None:
    recently_played = CATALOG.get("spotify", "recently_played")
    assert recently_played is not None and recently_played.normalize is not None
    local = {"id": None, "is_local": True, "name": "My demo.mp3", "uri": "spotify:local:::My+demo:200"}
    record = recently_played.normalize(
        {"track": local, "played_at": "2026-02-25T20:15:20.497Z", "context": None}, SourceFile(name="x")
    )
    assert record["trackId"] is None and record["trackIsLocal"] is True
    assert record["playedAt"] == "2026-02-25T20:15:20.497000+00:00"
