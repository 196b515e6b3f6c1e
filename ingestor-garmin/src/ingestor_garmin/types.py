"""The 29 Garmin data types: table, natural key, declared columns and normalizer of each.

The tables are the seed system's (`dp_normalized_{env}.normalized_garmin__{type}`), typed as it
typed them: dates and times stay STRING (its SQL parses them), so no table is partitioned; every
row carries `data_type`; `_source_file` holds the file's base name; the columns its downstream SQL
reads (`ingestor_garmin.columns`) and the natural key's are declared, so they exist from the first load.
"""

from __future__ import annotations

from ingestor import DataType, Declared, Kind
from ingestor_garmin.columns import DECLARED
from ingestor_garmin.normalize import Spec, normalizer

SERVICE = "garmin"
DATASET = "dp_normalized_{env}"
_ACTIVITY_COPIES = ("activityName", "activityType", "startTimeLocal")
_FROM_DATE = (("calendarDate", ("date",)),)
# Types every watch reports every day: past 36 hours without a file, `ingestor status` calls them stale. Each with
# the column of the day a record is about (the natural key's date, which the normalizer fills in), so `status`
# names the days missing (a watch not synced).
_DAILY = {
    "sleep": "date", "steps": "date", "heart_rate": "calendarDate", "body_battery": "date",
    "stress": "calendarDate", "user_summary": "date", "stats_and_body": "calendarDate", "rhr_daily": "date",
    "respiration": "calendarDate", "intensity_minutes": "calendarDate", "floors": "date",
}  # fmt: skip


# The natural keys' columns, declared so that every table has them (its latest view by key needs them): ids are
# INT64, the dates and times of the other keys STRING, as the payloads give them.
_KEY_KINDS = {"activityId": Kind.INT64, "deviceId": Kind.INT64}


def _columns(name: str, key: tuple[str, ...]) -> tuple[Declared, ...]:
    declared = DECLARED.get(name, ())
    keys = tuple(Declared(k, _KEY_KINDS.get(k, Kind.STRING)) for k in key if k not in {c.name for c in declared})
    return keys + declared


def _type(
    name: str,
    key: tuple[str, ...],
    description: str,
    spec: Spec | None = None,
) -> DataType:
    return DataType(
        service=SERVICE,
        name=name,
        dataset=DATASET,
        table=f"normalized_garmin__{name}",
        primary_key=key,
        columns=_columns(name, key),
        column_defaults={"data_type": name},
        source_file_value="name",
        description=description,
        expected_every="daily" if name in _DAILY else None,
        date_column=_DAILY.get(name),
        normalize=normalizer(spec or Spec()),
    )


def _activity_type(name: str, description: str) -> DataType:
    return _type(name, ("activityId",), description, spec=Spec(blank_to_null=_ACTIVITY_COPIES))


DATA_TYPES: tuple[DataType, ...] = (
    _type(
        "activities",
        ("activityId",),
        "Activity summaries from the activity list (one line per activity).",
    ),
    _type(
        "activity_details",
        ("activityId",),
        "Per-activity detail samples: activityDetailMetrics rows become records named by metricDescriptors.",
        spec=Spec(activity_details=True, blank_to_null=_ACTIVITY_COPIES),
    ),
    _activity_type("activity_splits", "Laps and split summaries of an activity."),
    _activity_type("activity_weather", "Weather observed during an activity."),
    _activity_type("activity_hr_zones", "Time in heart-rate zones of an activity."),
    _activity_type("activity_exercise_sets", "Strength-training sets of an activity."),
    _type(
        "sleep",
        ("date",),
        "Daily sleep (dailySleepDTO, scores, sleep levels...).",
        spec=Spec(fill=(("date", ("dailySleepDTO.calendarDate",)),)),
    ),
    _type(
        "steps",
        ("startGMT",),
        "15-minute step buckets (one line per bucket).",
        spec=Spec(fill=(("date", ("startGMT",)),)),
    ),
    _type(
        "heart_rate",
        ("calendarDate",),
        "Daily heart rate; heartRateValues become [{timestamp (epoch ms), heartrate}].",
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "body_battery",
        ("date",),
        "Daily body battery report; bodyBatteryValuesArray becomes [{timestamp, bodyBatteryLevel}].",
        spec=Spec(fill=(("date", ("calendarDate", "startTimestampLocal")),)),
    ),
    _type(
        "stress",
        ("calendarDate",),
        "Daily stress; stress and body-battery value arrays become records.",
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "user_summary",
        ("date",),
        "Daily user summary (steps, calories, heart rate, stress, body battery...).",
        spec=Spec(wrapper="summary_data", fill=(("date", ("calendarDate",)),)),
    ),
    _type(
        "stats_and_body",
        ("calendarDate",),
        "Daily user summary merged with body composition.",
        spec=Spec(wrapper="stats_and_body_data", fill=_FROM_DATE),
    ),
    _type(
        "training_readiness",
        ("calendarDate", "timestamp"),
        "Training readiness readings (one line per reading).",
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "rhr_daily",
        ("date",),
        "Daily resting heart rate; allMetrics.metricsMap becomes [{key: metric, value: [...]}].",
        spec=Spec(wrapper="rhr_data", fill=(("date", ("statisticsStartDate",)),)),
    ),
    _type(
        "spo2",
        ("calendarDate",),
        "Daily pulse-ox; spO2 value arrays become records.",
        spec=Spec(wrapper="spo2_data", fill=_FROM_DATE),
    ),
    _type(
        "respiration",
        ("calendarDate",),
        "Daily respiration; value and average arrays become records.",
        spec=Spec(wrapper="respiration_data", fill=_FROM_DATE),
    ),
    _type(
        "intensity_minutes",
        ("calendarDate",),
        "Daily intensity minutes; imValuesArray becomes [{timestamp, value}].",
        spec=Spec(wrapper="intensity_minutes_data", fill=_FROM_DATE),
    ),
    _type(
        "max_metrics",
        ("date",),
        "VO2 max and fitness age (generic, cycling, heat/altitude acclimation).",
        spec=Spec(fill=(("date", ("generic.calendarDate", "cycling.calendarDate")),)),
    ),
    _type(
        "all_day_events",
        ("calendarDate", "startTimestampLocal"),
        "Auto-detected wellness events of the day (one line per event).",
        spec=Spec(fill=_FROM_DATE),
    ),
    _type("device_info", ("deviceId",), "Registered devices (one line per device)."),
    _type(
        "training_status",
        ("date",),
        "Training status, load balance and VO2 max; device-id-keyed maps become [{key, value}].",
        spec=Spec(fill=(("date", ("mostRecentVO2Max.generic.calendarDate",)),)),
    ),
    _type(
        "hrv",
        ("date",),
        "Nightly heart-rate variability (summary and 5-minute readings).",
        spec=Spec(fill=(("date", ("hrvSummary.calendarDate",)),)),
    ),
    _type(
        "race_predictions",
        ("calendarDate",),
        "Predicted 5K, 10K, half-marathon and marathon times (seconds).",
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "floors",
        ("date",),
        "Floors climbed; floorValuesArray becomes [{startTimeGMT, endTimeGMT, floorsAscended, floorsDescended}].",
        spec=Spec(fill=(("date", ("startTimestampLocal",)),)),
    ),
    _type(
        "weight",
        ("calendarDate",),
        "Weigh-ins (one line per measurement; `date` and `timestampGMT` are epoch milliseconds).",
        spec=Spec(fill=(("calendarDate", ("summaryDate",)),)),
    ),
    _type(
        "body_composition",
        ("date",),
        "Body composition for a day or range (dateWeightList, totalAverage).",
        spec=Spec(fill=(("date", ("startDate",)),)),
    ),
    _type(
        "endurance_score",
        ("startDate",),
        "Endurance score for a range; groupMap (keyed by date) becomes [{key, value}].",
        spec=Spec(fill=(("startDate", ("calendarDate", "enduranceScoreDTO.calendarDate")),)),
    ),
    _type(
        "hill_score",
        ("startDate",),
        "Hill score for a range (hillScoreDTOList, period averages).",
        spec=Spec(fill=(("startDate", ("calendarDate",)),)),
    ),
)
