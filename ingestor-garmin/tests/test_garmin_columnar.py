"""Garmin's normalizer vouches (`leaves_unchanged`) for the files it would not reshape, which the core
then stages column-wise. Whatever it vouches for must be stored exactly as the row path stores it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ingestor.catalog import SourceFile
from ingestor.result import IngestResult
from ingestor.testing import Harness
from ingestor_garmin import plugin
from ingestor_garmin.normalize import LEGACY_DETAILS_KEY, Spec, SpecNormalizer
from ingestor_garmin.types import DATA_TYPES

Record = dict[str, Any]
SOURCE = SourceFile(name="garmin/landing/2025_07_08_06_15_garmin_x.jsonl")
# The types whose real-shaped files the normalizer leaves as they are (no envelope, matrix, date to
# fill, blank copies or maps keyed by data): their second file goes column-wise.
VOUCHED = {"activities", "device_info", "race_predictions"}


def keys(*paths: str | tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """Key paths, dotted or (for a key with dots in it) as tuples."""
    return frozenset(p if isinstance(p, tuple) else tuple(p.split(".")) for p in paths)


@pytest.mark.parametrize(
    ("spec", "paths", "unchanged"),
    [
        (Spec(), ("activityId", "activityType", "activityType.typeKey", "splitSummaries.distance"), True),
        (Spec(), ("activityId", "metricsMap"), False),  # a map named as keyed by data
        (Spec(), ("activityId", "groups", "groups.2025-01-01"), False),  # a key that is a date
        (Spec(), ("laps", "laps.123"), False),  # a key that is an id, inside an array
        (Spec(wrapper="summary_data"), ("summary_data", "summary_data.steps"), False),
        (Spec(wrapper="summary_data"), ("steps", "date"), True),
        (Spec(blank_to_null=("activityName",)), ("activityId", "activityName"), False),
        (
            Spec(fill=(("date", ("dailySleepDTO.calendarDate",)),)),
            ("dailySleepDTO", "dailySleepDTO.calendarDate"),
            False,
        ),
        (Spec(fill=(("date", ("dailySleepDTO.calendarDate",)),)), ("date", "dailySleepDTO", "dailySleepDTO.id"), True),
        (Spec(), ("stressValuesArray",), False),  # an array of arrays the API sends
        (Spec(), ("allDayStress", "allDayStress.bodyBatteryValuesArray"), False),
        (Spec(activity_details=True), ((LEGACY_DETAILS_KEY,),), False),
        (Spec(activity_details=True), ("activityId", "detailed_data"), False),
    ],
)
def test_the_normalizer_vouches_only_for_records_it_leaves_as_they_are(
    spec: Spec, paths: tuple[str | tuple[str, ...], ...], unchanged: bool
) -> None:
    assert SpecNormalizer(spec).leaves_unchanged(keys(*paths), SOURCE) is unchanged


def test_a_vouched_record_comes_out_as_it_went_in(sample_records: Callable[[str], list[Record]]) -> None:
    normalize = next(dt for dt in DATA_TYPES if dt.name == "activities").normalize
    assert normalize is not None
    for record in sample_records("activities"):
        assert normalize(record, SOURCE) == record


class Twin:
    """The same Garmin landing files ingested row by row and with columnar staging."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.row = Harness(tmp_path / "row", plugin)
        self.col = Harness(tmp_path / "col", plugin)
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("INGESTOR_COLUMNAR_MIN_BYTES", "0")  # the sample files are small

    def run(self, files: dict[str, list[Record]], table: str) -> int:
        """Ingest both ways, assert that a user sees the same; the number of files staged column-wise."""
        seen = []
        for harness, columnar in ((self.row, "0"), (self.col, "1")):
            for name, records in files.items():
                harness.land(name, records)
            self.monkeypatch.setenv("INGESTOR_COLUMNAR", columnar)
            run = harness.run("--service", "garmin", "--json")
            assert run.exit_code == 0, run.output
            result = IngestResult.model_validate_json(run.stdout)
            rows = harness.query(f"SELECT * EXCLUDE (_dp_inserted_at) FROM dp_normalized_dev.{table}")
            columns = harness.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'dp_normalized_dev' AND table_name = ? ORDER BY ordinal_position",
                [table],
            )
            outcomes = sorted((f.path, f.status, f.rows, f.reason) for f in result.files)
            seen.append((outcomes, columns, sorted(repr(r) for r in rows), [t.notes for t in result.tables]))
            taken = sum(t.columnar_files for t in result.tables)
        assert seen[0] == seen[1]
        return taken


@pytest.mark.parametrize("data_type", [dt for dt in DATA_TYPES], ids=lambda dt: dt.name)
def test_real_shaped_files_are_stored_the_same_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_type: Any, sample_records: Callable[[str], list[Record]]
) -> None:
    records = sample_records(data_type.name)
    # A second file: the same payloads under other natural keys, as a later fetch writes them.
    later = [{**r, **{k: r[k] + 1 for k in data_type.primary_key if type(r.get(k)) is int}} for r in records]
    files = {
        f"garmin/landing/2025_07_08_06_15_garmin_{data_type.name}.jsonl": records,
        f"garmin/landing/2025_07_09_06_15_garmin_{data_type.name}.jsonl": later,
    }
    taken = Twin(tmp_path, monkeypatch).run(files, data_type.table_for("dev"))
    assert taken == (1 if data_type.name in VOUCHED else 0)
