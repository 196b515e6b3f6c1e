"""Every data type loads from the real API shapes; the old loader's bugs stay fixed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from ingestor.testing import Harness
from ingestor_spotify.types import DATA_TYPES

TYPES = {t.name: t for t in DATA_TYPES}
EXPECTED_ROWS = {
    "recently_played": 8,
    "saved_tracks": 5,
    "saved_albums": 3,
    "artist_enrichment": 3,
    "album_enrichment": 3,
    "top_artists": 5,
    "top_tracks": 6,
    "followed_artists": 5,
    "playlists": 5,
    "user_profile": 1,
}
# A column each type must type strictly (name, DuckDB type).
TYPED = {
    "recently_played": ("playedAt", "TIMESTAMP WITH TIME ZONE"),
    "saved_tracks": ("explicit", "BOOLEAN"),
    "saved_albums": ("releaseDate", "DATE"),
    "artist_enrichment": ("enrichedAt", "TIMESTAMP WITH TIME ZONE"),
    "album_enrichment": ("totalTrackCount", "BIGINT"),
    "top_artists": ("snapshotDate", "DATE"),
    "top_tracks": ("trackDurationMs", "BIGINT"),
    "followed_artists": ("artistFollowers", "BIGINT"),
    "playlists": ("playlistPublic", "BOOLEAN"),
    "user_profile": ("explicitContentFilterEnabled", "BOOLEAN"),
}


def table(name: str) -> str:
    return f"dp_lake_dev.lake_spotify__normalized_{name}"


def column_types(h: Harness, name: str) -> dict[str, str]:
    return {row[0]: row[1] for row in h.query(f"DESCRIBE {table(name)}")}


@pytest.mark.parametrize("data_type", list(EXPECTED_ROWS))
def test_every_type_loads_from_real_samples(
    data_type: str, samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable[..., str]
) -> None:
    lines = samples[data_type]
    h = load({name_for(data_type): lines})

    assert h.files() == [name_for(data_type).replace("/landing/", "/archive/")]
    assert h.query(f"SELECT count(*) FROM {table(data_type)}") == [(EXPECTED_ROWS[data_type],)]
    keys = TYPES[data_type].primary_key
    null_keys = " OR ".join(f'"{k}" IS NULL' for k in keys)
    assert h.query(f"SELECT count(*) FROM {table(data_type)} WHERE {null_keys}") == [(0,)]
    distinct = ", ".join(f'"{k}"' for k in keys)
    assert h.query(f"SELECT count(DISTINCT ({distinct})) FROM {table(data_type)}") == [(EXPECTED_ROWS[data_type],)]

    types = column_types(h, data_type)
    column, expected = TYPED[data_type]
    assert types[column] == expected
    assert types["raw_data"] == "JSON"
    assert types["dp_inserted_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["source_file"] == "VARCHAR"
    assert not any(name.endswith("__v_json") for name in types)
    # raw_data is the whole line, and source_file names it.
    raw = h.query(f"SELECT raw_data::VARCHAR, source_file FROM {table(data_type)}")
    assert {r[1] for r in raw} == {name_for(data_type).rsplit("/", 1)[1]}  # the base name, as the seed
    assert sorted(_canonical(json.loads(r[0])) for r in raw) == sorted(_canonical(line) for line in lines)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def test_recently_played_columns(samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable) -> None:
    first = samples["recently_played"][0]
    h = load({name_for("recently_played"): samples["recently_played"][:1]})
    row = h.query(
        "SELECT playedAt::VARCHAR, trackId, trackName, trackDurationMs, albumId, albumName, albumReleaseDate, "
        f"albumImageUrl, contextType, artists[1].artistId, artists[1].artistName FROM {table('recently_played')}"
    )[0]
    track = first["track"]
    assert row == (
        "2026-02-25 20:15:20.497+00",
        track["id"],
        track["name"],
        track["duration_ms"],
        track["album"]["id"],
        track["album"]["name"],
        dt.date.fromisoformat(track["album"]["release_date"]),
        track["album"]["images"][0]["url"],
        "album",
        track["artists"][0]["id"],
        track["artists"][0]["name"],
    )


def test_images0_url_present_for_every_kind_of_object(
    samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable
) -> None:
    h = load({name_for(t): samples[t] for t in ("top_tracks", "followed_artists", "playlists", "user_profile")})
    expected = {
        "top_tracks": [i["album"]["images"][0]["url"] for i in samples["top_tracks"]],
        "followed_artists": [a["images"][0]["url"] for a in samples["followed_artists"]],
        # A playlist without a cover has `images: null` in the real sample: imageUrl is NULL there.
        "playlists": [p["images"][0]["url"] if p["images"] else None for p in samples["playlists"]],
        "user_profile": [samples["user_profile"][0]["images"][0]["url"]],
    }
    for data_type, urls in expected.items():
        got = [r[0] for r in h.query(f"SELECT imageUrl FROM {table(data_type)}")]
        assert sorted(got, key=str) == sorted(urls, key=str)
        assert sum(url is not None and url.startswith("https://i.scdn.co/image/") for url in got) >= 1


def test_offset_timestamps_are_converted_to_utc(
    samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable
) -> None:
    artists = samples["artist_enrichment"]
    artists[0]["enriched_at"] = "2026-03-28T23:30:00.250000+01:00"  # winter time, Europe/Paris
    artists[1]["enriched_at"] = "2026-03-29T23:30:00+02:00"  # summer time
    artists[2]["enriched_at"] = "2026-03-29T21:30:00Z"
    h = load({name_for("artist_enrichment"): artists})
    rows = h.query(f"SELECT artistId, enrichedAt::VARCHAR FROM {table('artist_enrichment')}")
    assert dict(rows) == {
        artists[0]["id"]: "2026-03-28 22:30:00.25+00",
        artists[1]["id"]: "2026-03-29 21:30:00+00",
        artists[2]["id"]: "2026-03-29 21:30:00+00",
    }


def test_release_date_precision_year_month_day(
    samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable
) -> None:
    albums = samples["saved_albums"]
    albums[0]["album"].update(release_date="1999-06", release_date_precision="month")
    albums[1]["album"].update(release_date="0000", release_date_precision="year")  # Spotify's "unknown"
    h = load({name_for("saved_albums"): albums, name_for("top_tracks"): samples["top_tracks"]})
    # The seed's columns: releaseDate (first day of a year or month) and the API's own precision.
    rows = h.query(f"SELECT albumId, releaseDate, releaseDatePrecision FROM {table('saved_albums')}")
    assert sorted(rows, key=lambda r: str(r[1])) == sorted(
        [
            (albums[0]["album"]["id"], dt.date(1999, 6, 1), "month"),
            (albums[1]["album"]["id"], None, "year"),
            (albums[2]["album"]["id"], dt.date.fromisoformat(albums[2]["album"]["release_date"]), "day"),
        ],
        key=lambda r: str(r[1]),
    )
    # The real top-tracks sample has albums released with precision "year" ("1979", "2011").
    years = h.query(
        f"SELECT albumReleaseDate, albumReleaseDatePrecision FROM {table('top_tracks')} "
        "WHERE albumReleaseDatePrecision = 'year' ORDER BY 1"
    )
    assert years == [(dt.date(1979, 1, 1), "year"), (dt.date(2011, 1, 1), "year")]


def test_booleans_are_not_cast_by_truthiness(
    samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable
) -> None:
    items = samples["saved_tracks"]
    assert items[0]["track"]["explicit"] is True and items[1]["track"]["explicit"] is False  # the real sample
    items[2]["track"]["explicit"] = "false"
    items[2]["track"]["is_local"] = "False"
    items[3]["track"]["explicit"] = "true"
    items[4]["track"]["explicit"] = "no idea"
    h = load({name_for("saved_tracks"): items})
    rows = dict((r[0], r[1:]) for r in h.query(f"SELECT trackId, explicit, isLocal FROM {table('saved_tracks')}"))
    ids = [i["track"]["id"] for i in items]
    assert rows == {
        ids[0]: (True, False),
        ids[1]: (False, False),
        ids[2]: (False, False),
        ids[3]: (True, False),
        ids[4]: (None, False),
    }
    assert column_types(h, "saved_tracks")["explicit"] == "BOOLEAN"


def test_enrichment_files_have_no_spotify_prefix(samples: dict[str, Any], load: Callable[..., Harness]) -> None:
    files = {
        "spotify/landing/2026_02_25_23_30_artist_enrichment.jsonl": samples["artist_enrichment"][:2],
        "spotify/landing/2026_02_26_23_30_spotify_artist_enrichment.jsonl": samples["artist_enrichment"][2:],
        "spotify/landing/2026_02_25_23_30_album_enrichment.jsonl": samples["album_enrichment"],
    }
    h = load(files)
    assert h.query(f"SELECT count(*) FROM {table('artist_enrichment')}") == [(3,)]
    assert h.query(f"SELECT count(*) FROM {table('album_enrichment')}") == [(3,)]
    assert h.files("spotify/landing") == [] and h.files("spotify/rejected") == []


def test_unknown_spotify_file_is_rejected(samples: dict[str, Any], load: Callable[..., Harness]) -> None:
    h = load({"spotify/landing/2026_02_25_21_15_spotify_podcasts.jsonl": samples["user_profile"]}, expect_exit=1)
    assert h.files("spotify/rejected") == [
        "spotify/rejected/2026_02_25_21_15_spotify_podcasts.jsonl",
        "spotify/rejected/2026_02_25_21_15_spotify_podcasts.jsonl.reason.json",
    ]


def test_a_paging_object_as_one_line_is_rejected(
    samples: dict[str, Any], load: Callable[..., Harness], name_for: Callable
) -> None:
    page = {"href": "https://api.spotify.com/v1/me/tracks?offset=0&limit=48", "items": samples["saved_tracks"]}
    h = load({name_for("saved_tracks"): [page]}, expect_exit=1)
    reason = json.loads(
        (h.landing / name_for("saved_tracks").replace("/landing/", "/rejected/"))
        .with_suffix(".jsonl.reason.json")
        .read_text()
    )
    assert "no track object" in reason["reason"]
    assert h.query("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'lake_spotify%'") == [(0,)]


def test_top_list_needs_a_dated_file_name(samples: dict[str, Any], load: Callable[..., Harness]) -> None:
    h = load({"spotify/landing/manual_spotify_top_artists.jsonl": samples["top_artists"]}, expect_exit=1)
    reason = (h.landing / "spotify/rejected/manual_spotify_top_artists.jsonl.reason.json").read_text()
    assert "YYYY_MM_DD" in reason
    # The snapshot date comes from the file name.
    h2 = load({"spotify/landing/2026_02_25_21_15_spotify_top_artists.jsonl": samples["top_artists"]}, expect_exit=0)
    assert h2.query(f"SELECT DISTINCT snapshotDate FROM {table('top_artists')}") == [(dt.date(2026, 2, 25),)]
