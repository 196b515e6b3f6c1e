"""`plan`: each file against the ledger, with the fewest reads. A name the ledger does not know is staged
unread (staging takes its checksum); this very version loaded is archived without staging; a version that
begins with the one loaded loads only what follows; another version loads whole. The real local landing zone,
its reads counted."""

from __future__ import annotations

import hashlib
from collections import Counter
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestor.catalog import Catalog, DataType, Match
from ingestor.landing import LandingFile, Stream
from ingestor.landing.local import LocalLanding
from ingestor.run.ledger import LedgerEntry
from ingestor.run.plan import appended_to, plan

EVENTS = DataType(service="acme", name="events", dataset="dp_acme", table="events")
FIRST = b'{"id": 1}\n{"id": 2}\n'


class CountedLanding(LocalLanding):
    """The real local landing zone, counting the reads of each file."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: Counter[str] = Counter()

    def open(self, file: LandingFile) -> AbstractContextManager[Stream]:
        self.reads[file.name] += 1
        return super().open(file)


@pytest.fixture
def landing(tmp_path: Path) -> CountedLanding:
    (tmp_path / "acme" / "landing").mkdir(parents=True)
    return CountedLanding(tmp_path)


def land(landing: CountedLanding, name: str, data: bytes) -> tuple[LandingFile, Match]:
    (landing.root / "acme" / "landing" / name).write_bytes(data)
    [file] = [f for f in landing.list("acme/landing/") if f.name.endswith(name)]
    match = Catalog([EVENTS]).match("acme", name)
    assert match is not None
    return file, match


def loaded(name: str, data: bytes) -> LedgerEntry:
    return LedgerEntry(
        source_name=f"acme/landing/{name}",
        checksum=f"sha256:{hashlib.sha256(data).hexdigest()}",
        size=len(data),
        service="acme",
        data_type="events",
        table_name="dp_acme.events",
        rows=data.count(b"\n"),
        run_id="run-1",
        loaded_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_a_file_the_ledger_does_not_know_is_staged_unread(landing: CountedLanding, tmp_path: Path) -> None:
    new = land(landing, "a_acme_events.jsonl", FIRST)
    [planned] = plan(landing, [new], {}, lambda: tmp_path / "staged.jsonl")
    assert planned.task is not None and planned.task.skip == 0 and planned.task.checksum is None
    assert planned.earlier is None
    assert landing.reads == {}  # staging reads it, once


def test_the_very_version_loaded_is_not_staged_again(landing: CountedLanding, tmp_path: Path) -> None:
    same = land(landing, "a_acme_events.jsonl", FIRST)
    ledger = {same[0].name: [loaded("a_acme_events.jsonl", FIRST)]}
    [planned] = plan(landing, [same], ledger, lambda: tmp_path / "staged.jsonl")
    assert planned.task is None
    assert landing.reads == {same[0].name: 1}


def test_a_version_with_lines_appended_loads_only_what_follows(landing: CountedLanding, tmp_path: Path) -> None:
    content = FIRST + b'{"id": 3}\n'
    grown = land(landing, "a_acme_events.jsonl", content)
    ledger = {grown[0].name: [loaded("a_acme_events.jsonl", FIRST)]}
    [planned] = plan(landing, [grown], ledger, lambda: tmp_path / "staged.jsonl")
    assert planned.task is not None and planned.task.skip == len(FIRST)
    assert planned.earlier is not None and "only the records appended after it" in planned.earlier
    assert planned.task.checksum == f"sha256:{hashlib.sha256(content).hexdigest()}"  # staging must read the same
    assert landing.reads == {grown[0].name: 1}  # the checksum and the beginning in one read
    assert appended_to(landing, grown[0], loaded("a_acme_events.jsonl", FIRST))


def test_another_version_loads_whole(landing: CountedLanding, tmp_path: Path) -> None:
    other = land(landing, "a_acme_events.jsonl", b'{"id": 9}\n{"id": 2}\n{"id": 3}\n')
    ledger = {other[0].name: [loaded("a_acme_events.jsonl", FIRST)]}
    [planned] = plan(landing, [other], ledger, lambda: tmp_path / "staged.jsonl")
    assert planned.task is not None and planned.task.skip == 0
    assert planned.earlier is not None and "does not begin with it: loaded whole" in planned.earlier
    assert not appended_to(landing, other[0], loaded("a_acme_events.jsonl", FIRST))


def test_a_prefix_that_ends_inside_a_line_is_no_beginning(landing: CountedLanding, tmp_path: Path) -> None:
    cut = FIRST[:-3]  # the earlier version ended mid-line: what follows is not whole lines
    grown = land(landing, "a_acme_events.jsonl", FIRST)
    assert not appended_to(landing, grown[0], loaded("a_acme_events.jsonl", cut))
