"""Fixtures: a harness holding only this plugin (never autoloaded) and the real API samples."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingestor.testing import Harness
from ingestor_spotify import plugin

FIXTURES = Path(__file__).parent / "fixtures"
Lines = list[dict[str, Any]]


def _load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sample_lines() -> dict[str, Lines]:
    """For each data type, the NDJSON lines a fetcher writes from the recorded responses."""
    artists = _load("artists_several.json")["artists"]
    albums = _load("albums_several.json")["albums"]
    return {
        "recently_played": _load("recently_played.json")["items"] + _load("recently_played__2017.json")["items"],
        "saved_tracks": _load("saved_tracks.json")["items"],
        "saved_albums": _load("saved_albums.json")["items"],
        "artist_enrichment": [{**a, "enriched_at": "2026-02-25T21:15:20.123456+01:00"} for a in artists],
        "album_enrichment": [{**a, "enriched_at": "2026-06-02T08:00:00+02:00"} for a in albums],
        "top_artists": _load("top_artists.json")["items"],
        "top_tracks": _load("top_tracks.json")["items"],
        "followed_artists": _load("followed_artists.json")["artists"]["items"],
        "playlists": _load("playlists.json")["items"],
        "user_profile": [_load("user_profile.json")],
    }


@pytest.fixture
def samples() -> dict[str, Lines]:
    """Fresh copies of the sample lines (tests may change them)."""
    return copy.deepcopy(sample_lines())


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    """A landing folder and DuckDB file with exactly the Spotify plugin registered."""
    return Harness(tmp_path, plugin)


def file_name(data_type: str, stamp: str = "2026_02_25_21_15") -> str:
    """The landing object name the fetchers use for a data type."""
    if data_type.endswith("_enrichment"):
        return f"spotify/landing/{stamp}_{data_type}.jsonl"
    return f"spotify/landing/{stamp}_spotify_{data_type}.jsonl"


@pytest.fixture
def name_for() -> Callable[..., str]:
    """`file_name` as a fixture (test modules cannot import conftest)."""
    return file_name


@pytest.fixture
def load(harness: Harness) -> Callable[..., Harness]:
    """Land files ({name: lines}) and run the Spotify ingest, asserting a clean run."""

    def run(files: dict[str, Lines], expect_exit: int = 0) -> Harness:
        for name, lines in files.items():
            harness.land(name, lines)
        result = harness.run("--service", "spotify")
        assert result.exit_code == expect_exit, result.output
        return harness

    return run


@pytest.fixture(scope="module")
def seed_loaded(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """Every type loaded from the real samples, each file ending with a `null` line as the seed's
    fetchers write them (Spotify pages hold `null` items)."""
    h = Harness(tmp_path_factory.mktemp("seed"), plugin)
    for data_type, lines in sample_lines().items():
        h.land(file_name(data_type), b"".join(json.dumps(line).encode() + b"\n" for line in lines) + b"null\n")
    run = h.run("--service", "spotify", "--json")
    assert run.exit_code == 0, run.stderr
    outcomes = json.loads(run.stdout)["files"]
    assert {(f["status"], f["null_lines"]) for f in outcomes} == {("loaded", 1)}
    return h
