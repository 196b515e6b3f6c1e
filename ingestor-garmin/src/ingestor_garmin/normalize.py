"""Record normalizers: pure functions, run once per record, that reshape what a warehouse cannot take.

- maps whose keys are data (device ids, dates, metric names) become lists of `{key, value}` records;
- positional value arrays (`[[timestamp, value], ...]`) become lists of records with the field
  names the seed system's fetchers gave them (`ROW_FIELDS`; other two-value rows
  `{timestamp, value}`, longer ones `{val_0, val_1, ...}`), so the seed's SQL reads them;
- legacy fetcher envelopes (`{"date", "summary_data": {...}}`) are lifted to the top level, and a
  missing natural-key date is taken from the payload's own calendar date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ingestor import Normalizer, SourceFile

Record = dict[str, Any]

# Map fields whose keys are values (device ids, dates, metric ids), wherever they appear.
DYNAMIC_MAP_FIELDS = frozenset(
    {"metricsMap", "reportData", "groupMap", "latestTrainingStatusData", "metricsTrainingLoadBalanceDTOMap"}
)
# Any other map whose keys all look like ids or dates is treated the same way.
_DYNAMIC_KEY = re.compile(r"-?\d+|\d{4}-\d{2}-\d{2}")
LEGACY_DETAILS_KEY = "com.garmin.activity.details.json.ActivityDetails"


# The seed's field names for the rows of these arrays of arrays (values beyond the names: val_<i>).
ROW_FIELDS = {
    "stressValuesArray": ("timestamp", "type", "value", "score"),
    "respirationAveragesValuesArray": ("timestamp", "average", "high", "low"),
    "floorValuesArray": ("start_time", "end_time", "ascended", "descended"),
    "spO2SingleValues": ("timestamp", "value", "type"),
}
BODY_BATTERY = "bodyBatteryValuesArray"  # rows of two: timestamp, value; of four: timestamp, type, value, score
# Fields always stored as FLOAT64: the API mixes 13 and 13.5 in one array (a nested INT64 cannot widen).
FLOAT_FIELDS = {
    "respirationValuesArray": frozenset({"value"}),
    "respirationAveragesValuesArray": frozenset({"average", "high", "low"}),
    BODY_BATTERY: frozenset({"score"}),
}
# Arrays of arrays the API is known to send (a file holding one is never vouched unchanged).
MATRICES = frozenset({*ROW_FIELDS, *FLOAT_FIELDS, "heartRateValues", "spO2HourlyAverages", "imValuesArray"})
DETAIL_ROWS = "activityDetailMetrics"  # named by the payload's metricDescriptors instead


@dataclass(frozen=True)
class Spec:
    """How the records of one data type are normalized."""

    wrapper: str | None = None  # legacy envelope field to lift to the top level
    fill: tuple[tuple[str, tuple[str, ...]], ...] = ()  # key column <- first non-empty dotted path
    activity_details: bool = False
    blank_to_null: tuple[str, ...] = ()  # fields where the fetcher writes "" for "unknown"


def is_dynamic_map(mapping: dict[str, Any]) -> bool:
    """Whether every key of a (non-empty) map looks like an id or a date."""
    return bool(mapping) and all(_DYNAMIC_KEY.fullmatch(key) for key in mapping)


def to_entries(mapping: dict[str, Any]) -> list[Record]:
    """A dynamic-key map as a list of `{key, value}` records, in the payload's order."""
    return [{"key": key, "value": value} for key, value in mapping.items()]


def fold_dynamic_maps(value: Any) -> Any:
    """Recursively replace maps keyed by data (see DYNAMIC_MAP_FIELDS) with `{key, value}` lists,
    and arrays of arrays (positional time series) with lists of records (`rows_to_records`)."""
    kind = type(value)
    if kind is dict:
        out: Record = {}
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is dict:
                item = fold_dynamic_maps(item)
                if item and (key in DYNAMIC_MAP_FIELDS or is_dynamic_map(item)):
                    item = to_entries(item)
            elif item_kind is list and item and type(item[0]) is dict:
                item = fold_dynamic_maps(item)
            elif item_kind is list and item and key != DETAIL_ROWS and all(type(row) is list for row in item):
                item = rows_to_records(key, item)
            out[key] = item
        return out
    if kind is list:
        return [fold_dynamic_maps(item) if type(item) is dict else item for item in value]
    return value


def descriptor_names(descriptors: Any, default: Sequence[str]) -> list[str]:
    """Column names by position from Garmin value descriptors (`[{index, key}]` in any spelling)."""
    names = list(default)
    if type(descriptors) is not list:
        return names
    found: dict[int, str] = {}
    for item in descriptors:
        if type(item) is not dict:
            continue
        index = next((v for k, v in item.items() if "index" in k.lower() and type(v) is int), None)
        name = next((v for k, v in item.items() if "key" in k.lower() and type(v) is str and v), None)
        if index is not None and index >= 0 and name is not None:
            found[index] = name
    if not found:
        return names
    size = max(max(found) + 1, len(names))
    return [found.get(i) or (names[i] if i < len(names) else f"value_{i}") for i in range(size)]


def row_names(field: str, width: int) -> list[str]:
    """The seed's field names for a row of `width` values of the array `field`."""
    names: tuple[str, ...] = ROW_FIELDS.get(field, ())
    if field == BODY_BATTERY and width in (2, 4):
        names = ("timestamp", "value") if width == 2 else ("timestamp", "type", "value", "score")
    elif not names and width == 2:
        names = ("timestamp", "value")
    return [*names[:width], *(f"val_{i}" for i in range(len(names), width))]


def rows_to_records(field: str, rows: list[Any]) -> list[Any]:
    """`[[a, b], ...]` as `[{name: a, name: b}, ...]`, each row zipped with its names (`row_names`)."""
    floats = FLOAT_FIELDS.get(field, frozenset())
    out = []
    for row in rows:
        record = dict(zip(row_names(field, len(row)), row, strict=True))
        for name in floats & record.keys():
            if type(record[name]) is int:
                record[name] = float(record[name])
        out.append(record)
    return out


def detail_metrics_to_records(details: Record) -> Record:
    """Activity details: `activityDetailMetrics[].metrics[i]` as records named by `metricDescriptors`."""
    rows = details.get("activityDetailMetrics")
    if type(rows) is not list or not rows:
        return details
    names = descriptor_names(details.get("metricDescriptors"), ())
    if not names:
        return details
    converted = []
    for row in rows:
        if type(row) is dict and "metrics" not in row:  # already a record (the seed's fetchers wrote it)
            converted.append({name: float(v) if type(v) is int else v for name, v in row.items()})
            continue
        values = row.get("metrics") if type(row) is dict else row
        if type(values) is not list:
            return details
        if len(values) > len(names):  # more values than descriptors: keep them all
            names = names + [f"value_{i}" for i in range(len(names), len(values))]
        converted.append(
            {
                name: float(value) if type(value) is int else value
                for name, value in zip(names, values, strict=False)
                if value is not None
            }
        )
    return {**details, "activityDetailMetrics": converted}


def _path(record: Record, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if type(value) is not dict:
            return None
        value = value.get(part)
    return value


@dataclass(frozen=True)
class SpecNormalizer:
    """The normalizer of one data type: a picklable callable, so the core can stage in worker processes."""

    spec: Spec

    def __call__(self, record: Record, source: SourceFile) -> Record:
        """The record reshaped for the warehouse; `record` itself is left untouched."""
        spec = self.spec
        out = dict(record)
        if spec.wrapper and type(out.get(spec.wrapper)) is dict:
            payload = out.pop(spec.wrapper)
            out = {**payload, **out}
        if spec.activity_details and type(out.get(LEGACY_DETAILS_KEY)) is dict:
            legacy = out.pop(LEGACY_DETAILS_KEY)
            out = {**legacy, **out}
        for name in spec.blank_to_null:
            if out.get(name) == "":
                del out[name]
        out = fold_dynamic_maps(out)
        if spec.activity_details:
            out = detail_metrics_to_records(out)
            if type(out.get("detailed_data")) is dict:
                out["detailed_data"] = detail_metrics_to_records(out["detailed_data"])
        for target, paths in spec.fill:
            if out.get(target) in (None, ""):
                for path in paths:
                    value = _path(out, path)
                    if type(value) is str and value:
                        out[target] = value[:10]
                        break
        return out

    def leaves_unchanged(self, keys: frozenset[tuple[str, ...]], source: SourceFile) -> bool:
        """Whether records whose key paths are all among `keys` come out as they went in (the core
        then stages their file column-wise): no key this spec reshapes, and no map keyed by data."""
        spec = self.spec
        top = {path[0] for path in keys}
        reshaped = {*spec.blank_to_null}
        if spec.wrapper:
            reshaped.add(spec.wrapper)
        if spec.activity_details:
            reshaped |= {LEGACY_DETAILS_KEY, "activityDetailMetrics", "detailed_data"}
        if top & reshaped:
            return False
        if any(tuple(path.split(".")) in keys for _, paths in spec.fill for path in paths):
            return False
        return not any(
            key in DYNAMIC_MAP_FIELDS or key in MATRICES or _DYNAMIC_KEY.fullmatch(key) for path in keys for key in path
        )


def normalizer(spec: Spec) -> Normalizer:
    """The normalizer for one data type's spec."""
    return SpecNormalizer(spec)
