"""The normalizer building blocks, on the descriptor spellings and edge cases the payloads show."""

from __future__ import annotations

import pickle

from ingestor.catalog import SourceFile
from ingestor_garmin.normalize import (
    descriptor_names,
    detail_metrics_to_records,
    fold_dynamic_maps,
    is_dynamic_map,
    rows_to_records,
)
from ingestor_garmin.types import DATA_TYPES

SOURCE = SourceFile(name="garmin/landing/2025_07_08_06_15_garmin_x.jsonl")


def test_descriptor_names_read_every_spelling_garmin_uses() -> None:
    assert descriptor_names([{"key": "timestamp", "index": 0}, {"key": "heartrate", "index": 1}], ()) == [
        "timestamp",
        "heartrate",
    ]
    battery = [
        {"bodyBatteryValueDescriptorIndex": 1, "bodyBatteryValueDescriptorKey": "bodyBatteryLevel"},
        {"bodyBatteryValueDescriptorIndex": 0, "bodyBatteryValueDescriptorKey": "timestamp"},
    ]
    assert descriptor_names(battery, ()) == ["timestamp", "bodyBatteryLevel"]
    averages = [{"respirationAveragesValueDescriptorIndex": 2, "respirationAveragesValueDescriptionKey": "high"}]
    assert descriptor_names(averages, ("timestamp", "avg")) == ["timestamp", "avg", "high"]
    assert descriptor_names(None, ("timestamp", "value")) == ["timestamp", "value"]
    assert descriptor_names([{"key": "x", "index": 3}], ()) == ["value_0", "value_1", "value_2", "x"]


def test_rows_get_the_seeds_field_names_and_keep_every_value() -> None:
    assert rows_to_records("stressValuesArray", [[1, 25], [2, -1]]) == [
        {"timestamp": 1, "type": 25},
        {"timestamp": 2, "type": -1},
    ]
    assert rows_to_records("bodyBatteryValuesArray", [[1, "MEASURED", 40, 2], [2, 41]]) == [
        {"timestamp": 1, "type": "MEASURED", "value": 40, "score": 2.0},
        {"timestamp": 2, "value": 41},
    ]
    assert rows_to_records("bodyBatteryValuesArray", [[1, "MEASURED", 40]]) == [
        {"val_0": 1, "val_1": "MEASURED", "val_2": 40}
    ]
    assert rows_to_records("floorValuesArray", [["a", "b", 1, 0]]) == [
        {"start_time": "a", "end_time": "b", "ascended": 1, "descended": 0}
    ]
    assert rows_to_records("respirationValuesArray", [[1, 13], [2, 13.5]]) == [
        {"timestamp": 1, "value": 13.0},
        {"timestamp": 2, "value": 13.5},
    ]
    # Other arrays: two values {timestamp, value}, more {val_0, ...}; values beyond the names are kept.
    assert rows_to_records("anything", [[1, 2], [1, 2, 3]]) == [
        {"timestamp": 1, "value": 2},
        {"val_0": 1, "val_1": 2, "val_2": 3},
    ]
    assert rows_to_records("spO2SingleValues", [[1, 95, True, "x"]]) == [
        {"timestamp": 1, "value": 95, "type": True, "val_3": "x"}
    ]


def test_arrays_of_arrays_are_converted_wherever_they_are() -> None:
    record = {"a": {"hrvValues": [[1, 50]]}, "mixed": [[1, 2], 3], "activityDetailMetrics": [[1, 2]]}
    assert fold_dynamic_maps(record) == {
        "a": {"hrvValues": [{"timestamp": 1, "value": 50}]},
        "mixed": [[1, 2], 3],  # not an array of arrays: stored as JSON
        "activityDetailMetrics": [[1, 2]],  # named by its metric descriptors instead
    }


def test_dynamic_maps_are_found_by_name_or_by_keys_at_any_depth() -> None:
    assert is_dynamic_map({"3469703076": {}, "-1": 0}) and is_dynamic_map({"2025-07-07": 1})
    assert not is_dynamic_map({}) and not is_dynamic_map({"calendarDate": "2025-07-07", "1": 2})
    record = {
        "a": {"metricsMap": {"WELLNESS_RESTING_HEART_RATE": [{"value": 56.0}]}},
        "rows": [{"byDevice": {"12": {"x": 1}}}],
        "plain": {"typeId": 2},
        "empty": {},
    }
    assert fold_dynamic_maps(record) == {
        "a": {"metricsMap": [{"key": "WELLNESS_RESTING_HEART_RATE", "value": [{"value": 56.0}]}]},
        "rows": [{"byDevice": [{"key": "12", "value": {"x": 1}}]}],
        "plain": {"typeId": 2},
        "empty": {},
    }


def test_activity_detail_rows_keep_values_beyond_their_descriptors() -> None:
    details = {
        "metricDescriptors": [{"metricsIndex": 1, "key": "directSpeed"}, {"metricsIndex": 0, "key": "directHeartRate"}],
        "activityDetailMetrics": [{"metrics": [120, 2.5]}, {"metrics": [None, 2.7, 9.0]}],
    }
    assert detail_metrics_to_records(details)["activityDetailMetrics"] == [
        {"directHeartRate": 120.0, "directSpeed": 2.5},
        {"directSpeed": 2.7, "value_2": 9.0},
    ]
    assert detail_metrics_to_records({"activityDetailMetrics": [{"metrics": [1.0]}]}) == {
        "activityDetailMetrics": [{"metrics": [1.0]}]
    }


def test_data_types_pickle_so_the_core_can_stage_in_worker_processes() -> None:
    for dt in DATA_TYPES:
        back = pickle.loads(pickle.dumps(dt))
        assert back.normalize == dt.normalize, dt.name
        record = {"date": "2025-07-07", "data_type": dt.name, "x": {"2025-07-07": 1}}
        assert back.normalize is not None and dt.normalize is not None
        assert back.normalize(record, SOURCE) == dt.normalize(record, SOURCE)
