"""The demo landing zone: deterministic, every data type, and it ingests cleanly."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from ingestor.catalog import Catalog
from ingestor.testing import Harness
from ingestor_spotify import plugin
from ingestor_spotify.types import DATA_TYPES


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = plugin.services()[0].load_demo()(21, 7)
    assert first == plugin.services()[0].load_demo()(21, 7)
    assert first != plugin.services()[0].load_demo()(21, 8)
    assert sum(len(content) for content in first.values()) < 3_000_000


def test_every_type_in_the_fetchers_naming() -> None:
    files = plugin.services()[0].load_demo()(21, 7)
    catalog = Catalog(DATA_TYPES)
    per_type: Counter[str] = Counter()
    for name in files:
        folder, filename = name.rsplit("/", 1)
        assert folder == "spotify/landing"
        assert re.fullmatch(
            r"\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_(spotify_\w+|artist_enrichment|album_enrichment)\.jsonl", filename
        )
        match = catalog.match("spotify", filename)
        assert match is not None, filename
        per_type[match.data_type.name] += 1
    assert set(per_type) == {t.name for t in DATA_TYPES}
    assert per_type["recently_played"] == 42  # two fetches a day
    # One day is enough for every type.
    one_day = [catalog.match("spotify", n.rsplit("/", 1)[1]) for n in plugin.services()[0].load_demo()(1, 3)]
    assert {m.data_type.name for m in one_day if m} == {t.name for t in DATA_TYPES}


def test_demo_carries_the_traps() -> None:
    files = plugin.services()[0].load_demo()(21, 7)
    lines = [
        json.loads(line) for name, content in files.items() if "enrichment" in name for line in content.splitlines()
    ]
    offsets = {line["enriched_at"][-6:] for line in lines}
    assert offsets == {"+01:00", "+02:00"}  # the 21 days span the switch to summer time
    plays = [json.loads(line) for name, c in files.items() if "recently_played" in name for line in c.splitlines()]
    precisions = Counter(p["track"]["album"]["release_date_precision"] for p in plays)
    assert {"year", "month", "day"} <= set(precisions)
    assert {p["track"]["explicit"] for p in plays} == {True, False}


def test_demo_landing_zone_ingests_cleanly(tmp_path: Path) -> None:
    h = Harness(tmp_path, plugin)
    written = h.cli("demo", "--service", "spotify", "--data-dir", str(tmp_path))
    assert written.exit_code == 0, written.output
    landed = h.files("spotify/landing")
    assert len(landed) == len(plugin.services()[0].load_demo()(21, 7))

    result = h.run("--service", "spotify", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert {f["status"] for f in outcome["files"]} == {"loaded"}
    assert h.files("spotify/rejected") == [] and h.files("spotify/landing") == []
    assert len(h.files("spotify/archive")) == len(landed)

    files = plugin.services()[0].load_demo()(21, 7)
    plays = sum(c.count(b"\n") for n, c in files.items() if n.endswith("_spotify_recently_played.jsonl"))
    table = "dp_lake_dev.lake_spotify__normalized_{}"
    assert h.query(f"SELECT count(*), count(DISTINCT (playedAt, trackId)) FROM {table.format('recently_played')}") == [
        (plays, plays)
    ]
    image = {"recently_played": "albumImageUrl", "saved_tracks": "albumImages[1].url", "saved_albums": "images[1].url"}
    image |= {"artist_enrichment": "images->>'$[0].url'", "album_enrichment": "images->>'$[0].url'"}
    for data_type in DATA_TYPES:
        column = image.get(data_type.name, "imageUrl")
        rows = h.query(f"SELECT count(*), count({column}) FROM {table.format(data_type.name)}")[0]
        assert rows[0] > 0 and rows[0] == rows[1], data_type.name
    # enriched_at in Paris time lands in UTC: 23:30 local is 22:30 (winter) or 21:30 (summer) UTC.
    hours = h.query(f"SELECT DISTINCT strftime(enrichedAt, '%H:%M') FROM {table.format('artist_enrichment')}")
    assert {h for (h,) in hours} <= {"22:30", "21:30"}
    # A second run finds nothing to do.
    again = h.run("--service", "spotify")
    assert again.exit_code == 0, again.output
