"""`parts.cut`: a service's files cut into parts by bytes and by files, in the order given, a file larger than a
part alone in its own; each part's files grouped by data type."""

from __future__ import annotations

from ingestor.catalog import DataType, Match
from ingestor.landing import LandingFile
from ingestor.run.fate import Happened
from ingestor.run.parts import Part, cut

EVENTS = DataType(service="fz", name="events", dataset="fz_{env}", table="events")
METRICS = DataType(service="fz", name="metrics", dataset="fz_{env}", table="metrics")


def _files(dt: DataType, *sizes: int) -> list[Happened]:
    return [
        Happened(LandingFile(f"fz/landing/{i}_fz_{dt.name}.jsonl", size, "v"), "fz", dt.name, match=Match(dt, {}))
        for i, size in enumerate(sizes)
    ]


def _shape(parts: list[Part]) -> list[list[tuple[str, list[int]]]]:
    """Each part as (data type, sizes of its files) per batch."""
    return [[(dt.name, [record.file.size for record in files]) for dt, files in part.batches] for part in parts]


def test_parts_are_cut_by_files() -> None:
    parts = cut(_files(EVENTS, 1, 2, 3, 4, 5), max_bytes=1000, max_files=2)
    assert _shape(parts) == [[("events", [1, 2])], [("events", [3, 4])], [("events", [5])]]
    assert [(part.number, part.of, part.files, part.bytes) for part in parts] == [
        (1, 3, 2, 3),
        (2, 3, 2, 7),
        (3, 3, 1, 5),
    ]
    assert str(parts[1]) == "part 2 of 3 (2 files, 7 bytes)"


def test_parts_are_cut_by_bytes() -> None:
    parts = cut(_files(EVENTS, 40, 50, 20, 30, 50, 100), max_bytes=100, max_files=10)
    assert _shape(parts) == [[("events", [40, 50])], [("events", [20, 30, 50])], [("events", [100])]]


def test_a_file_larger_than_a_part_is_a_part_of_its_own() -> None:
    parts = cut(_files(EVENTS, 10, 500, 10, 10), max_bytes=100, max_files=10)
    assert _shape(parts) == [[("events", [10])], [("events", [500])], [("events", [10, 10])]]


def test_a_part_holds_its_files_by_data_type_in_the_order_given() -> None:
    files = _files(EVENTS, 1, 2, 3) + _files(METRICS, 4, 5)
    assert _shape(cut(files, max_bytes=1000, max_files=10)) == [[("events", [1, 2, 3]), ("metrics", [4, 5])]]
    assert _shape(cut(files, max_bytes=1000, max_files=2)) == [
        [("events", [1, 2])],
        [("events", [3]), ("metrics", [4])],
        [("metrics", [5])],
    ]
    whole = [found for part in cut(files, max_bytes=6, max_files=10) for _, batch in part.batches for found in batch]
    assert whole == files  # every file once, in the order given


def test_no_files_no_parts() -> None:
    assert cut([], max_bytes=1, max_files=1) == []
