"""Fixtures: real chess.com payloads (tests/fixtures/) turned into landing lines, and a Harness."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ingestor_chess.plugin
from ingestor.testing import Harness

FIXTURES = Path(__file__).parent / "fixtures"
STAMP = "2025_01_02_03_04"


def _sample(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def sample() -> Callable[[str], Any]:
    """Load one fixture file (an API response body)."""
    return _sample


def build_sample_lines() -> dict[str, list[dict[str, Any]]]:
    """What a fetcher writes, per data type: one API object per line, from the real payloads."""
    tournaments = _sample("player_tournaments.json")
    return {
        "player_profile": [_sample("player_profile.json")],
        "player_stats": [_sample("player_stats.json")],
        "games": _sample("games_archive_month.json")["games"],
        "clubs": _sample("player_clubs.json")["clubs"],
        "tournaments": [
            {**entry, "category": category} for category, entries in tournaments.items() for entry in entries
        ],
    }


@pytest.fixture
def sample_lines() -> dict[str, list[dict[str, Any]]]:
    """`build_sample_lines()` as a fixture."""
    return build_sample_lines()


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    """A Harness with exactly the chess plugin registered (never autoloaded)."""
    return Harness(tmp_path, ingestor_chess.plugin)


def landing_name(username: str, data_type: str, stamp: str = STAMP) -> str:
    """A landing object name as the fetchers write it."""
    return f"chess/landing/{stamp}_chess_{username}_{data_type}.jsonl"


@pytest.fixture
def name() -> Callable[..., str]:
    """`name(username, data_type, stamp=...)` -> landing object name."""
    return landing_name
