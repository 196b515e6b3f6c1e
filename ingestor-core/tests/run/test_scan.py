"""`scan`: a service's landing folder listed once, each file given its data type in name order, or the
reason it has none; what cannot be read as a file fails unopened; hidden entries, types not asked for and
another task's files are left alone. The real local landing zone, real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingestor.catalog import Catalog, DataType
from ingestor.errors import ReasonCode
from ingestor.landing.local import LocalLanding
from ingestor.run.scan import NO_MATCH, owns, scan

TYPES = [
    DataType(service="acme", name="events", dataset="dp_acme", table="events"),
    DataType(service="acme", name="profile", dataset="dp_acme", table="profile"),
    DataType(service="acme", name="player_profile", dataset="dp_acme", table="player_profile"),
]


@pytest.fixture
def landing(tmp_path: Path) -> LocalLanding:
    (tmp_path / "acme" / "landing").mkdir(parents=True)
    return LocalLanding(tmp_path)


def land(landing: LocalLanding, *names: str) -> None:
    for name in names:
        path = landing.root / "acme" / "landing" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"id": 1}\n')


def names(found: list) -> list[str]:  # type: ignore[type-arg]
    return [entry[0].name.removeprefix("acme/landing/") for entry in found]


def test_each_file_gets_its_data_type_in_name_order(landing: LocalLanding) -> None:
    land(landing, "b_acme_events.jsonl", "a_acme_events.jsonl.gz", "sub/c_acme_events.jsonl", "x_acme_profile.jsonl")
    found = scan("acme", landing, Catalog(TYPES))
    assert names(found.batches["events"]) == [
        "a_acme_events.jsonl.gz",
        "b_acme_events.jsonl",
        "sub/c_acme_events.jsonl",
    ]
    assert names(found.batches["profile"]) == ["x_acme_profile.jsonl"]
    assert found.rejected == [] and found.failed == [] and found.refused is None


def test_the_longest_type_name_wins_and_a_match_is_an_anchored_suffix(landing: LocalLanding) -> None:
    land(landing, "1_acme_player_profile.jsonl", "2_acme_profile_extra.jsonl")
    found = scan("acme", landing, Catalog(TYPES))
    assert names(found.batches["player_profile"]) == ["1_acme_player_profile.jsonl"]
    assert "profile" not in found.batches
    assert [(f.name, why, code) for f, why, code in found.rejected] == [
        ("acme/landing/2_acme_profile_extra.jsonl", NO_MATCH, ReasonCode.NO_DATA_TYPE)
    ]


def test_hidden_entries_are_left_alone(landing: LocalLanding) -> None:
    land(landing, ".a_acme_events.jsonl.tmp", ".incoming/b_acme_events.jsonl", "c_acme_events.jsonl")
    found = scan("acme", landing, Catalog(TYPES))
    assert names(found.batches["events"]) == ["c_acme_events.jsonl"]
    assert found.rejected == [] and found.failed == []


def test_data_types_not_asked_for_are_left_alone(landing: LocalLanding) -> None:
    land(landing, "a_acme_events.jsonl", "b_acme_profile.jsonl", "stray.jsonl")
    found = scan("acme", landing, Catalog(TYPES), data_types={"profile"})
    assert list(found.batches) == ["profile"]
    assert names(found.rejected) == ["stray.jsonl"]  # a file no type takes is still rejected


def test_an_entry_that_is_not_a_file_fails_unopened(landing: LocalLanding) -> None:
    land(landing, "a_acme_events.jsonl")
    os.mkfifo(landing.root / "acme" / "landing" / "b_acme_events.jsonl")  # opening it would block
    found = scan("acme", landing, Catalog(TYPES))
    assert names(found.batches["events"]) == ["a_acme_events.jsonl"]
    assert [(f.name, bool(why)) for f, why in found.failed] == [("acme/landing/b_acme_events.jsonl", True)]


def test_a_landing_folder_linked_out_of_the_root_refuses_the_service(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a_acme_events.jsonl").write_text('{"id": 1}\n')
    root = tmp_path / "root"
    (root / "acme").mkdir(parents=True)
    (root / "acme" / "landing").symlink_to(outside)
    found = scan("acme", LocalLanding(root), Catalog(TYPES))
    assert found.refused is not None and "nothing of it was read or moved" in found.refused
    assert found.batches == {}


def test_the_tasks_of_a_sharded_job_share_the_files_without_overlap(landing: LocalLanding) -> None:
    land(landing, *(f"{n:02d}_acme_{t}.jsonl" for n in range(6) for t in ("events", "profile", "player_profile")))
    land(landing, "stray.jsonl")
    catalog = Catalog(TYPES)
    shards = [scan("acme", landing, catalog, task_index=i, task_count=3) for i in range(3)]
    taken = [f.name for s in shards for pairs in s.batches.values() for f, _ in pairs]
    assert sorted(taken) == sorted(
        f.name for pairs in scan("acme", landing, catalog).batches.values() for f, _ in pairs
    )
    assert len(taken) == len(set(taken)) == 18  # each file taken by exactly one task
    assert sum(len(s.rejected) for s in shards) == 1  # one task rejects the unknown file
    for s in shards:  # a data type is whole in one task
        for pairs in s.batches.values():
            assert len(pairs) == 6 and owns(pairs[0][1].data_type.key, shards.index(s), 3)
