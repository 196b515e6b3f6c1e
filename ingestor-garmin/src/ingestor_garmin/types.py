"""The 29 Garmin data types: table, natural key, partitioning, schema hints and normalizer of each."""

from __future__ import annotations

from dataclasses import replace

from ingestor.catalog import DataType
from ingestor.schema import Kind
from ingestor_garmin.normalize import Matrix, Spec, normalizer

SERVICE = "garmin"
DATASET = "dp_normalized_{env}"
D, TS = Kind.DATE, Kind.TIMESTAMP

# Fields the activity_* fetchers copy from the activity list, written as "" when unknown.
_ACTIVITY_COPIES = ("activityName", "activityType", "startTimeLocal")
_GMT_BOUNDS = {"startTimestampGMT": TS, "endTimestampGMT": TS}
_SLEEP_BOUNDS = {"sleepStartTimestampGMT": TS, "sleepEndTimestampGMT": TS}
_CALENDAR = {"calendarDate": D, "date": D}
_FROM_DATE = (("calendarDate", ("date",)),)
# Types every watch reports every day: past 36 hours without a file, `ingestor status` calls them stale.
_DAILY = frozenset(
    {"sleep", "steps", "heart_rate", "body_battery", "stress", "user_summary", "stats_and_body", "rhr_daily",
     "respiration", "intensity_minutes", "floors"}
)  # fmt: skip

_MATRICES = {
    "heart_rate": (Matrix("heartRateValues", ("heartRateValueDescriptors",), ("timestamp", "heartrate")),),
    "stress": (
        Matrix("stressValuesArray", ("stressValueDescriptorsDTOList",), ("timestamp", "stressLevel")),
        Matrix(
            "bodyBatteryValuesArray",
            ("bodyBatteryValueDescriptorsDTOList", "bodyBatteryValueDescriptorDTOList"),
            ("timestamp", "bodyBatteryStatus", "bodyBatteryLevel", "bodyBatteryVersion"),
            frozenset({"bodyBatteryVersion"}),
        ),
    ),
    "body_battery": (
        Matrix(
            "bodyBatteryValuesArray",
            ("bodyBatteryValueDescriptorDTOList", "bodyBatteryValueDescriptorsDTOList"),
            ("timestamp", "bodyBatteryLevel"),
        ),
    ),
    "respiration": (
        Matrix(
            "respirationValuesArray",
            ("respirationValueDescriptorsDTOList",),
            ("timestamp", "respiration"),
            frozenset({"respiration"}),
        ),
        Matrix(
            "respirationAveragesValuesArray",
            ("respirationAveragesValueDescriptorDTOList",),
            ("timestamp", "averageRespirationValue", "highRespirationValue", "lowRespirationValue"),
            frozenset({"averageRespirationValue", "highRespirationValue", "lowRespirationValue"}),
        ),
    ),
    "spo2": (
        Matrix("spO2HourlyAverages", ("spO2ValueDescriptorsDTOList",), ("timestamp", "spo2Reading")),
        Matrix(
            "spO2SingleValues", ("spO2ValueDescriptorsDTOList",), ("timestamp", "spo2Reading", "singleReadingPlottable")
        ),
    ),
    "intensity_minutes": (Matrix("imValuesArray", ("imValueDescriptorsDTOList",), ("timestamp", "value")),),
    "floors": (
        Matrix(
            "floorValuesArray",
            ("floorsValueDescriptorDTOList", "floorValueDescriptorDTOList"),
            ("startTimeGMT", "endTimeGMT", "floorsAscended", "floorsDescended"),
        ),
    ),
}


def _type(
    name: str,
    key: tuple[str, ...],
    description: str,
    partition: str | None = None,
    hints: dict[str, Kind] | None = None,
    spec: Spec | None = None,
) -> DataType:
    spec = replace(spec or Spec(), matrices=_MATRICES.get(name, ()))
    return DataType(
        service=SERVICE,
        name=name,
        dataset=DATASET,
        table=f"normalized_garmin__{name}",
        primary_key=key,
        partition_by=partition,
        schema_hints=hints or {},
        description=description,
        expected_every="daily" if name in _DAILY else None,
        normalize=normalizer(spec),
    )


def _activity_type(name: str, description: str) -> DataType:
    return _type(name, ("activityId",), description, spec=Spec(blank_to_null=_ACTIVITY_COPIES))


DATA_TYPES: tuple[DataType, ...] = (
    _type(
        "activities",
        ("activityId",),
        "Activity summaries from the activity list (one line per activity).",
        partition="startTimeGMT",
        hints={"startTimeGMT": TS},
    ),
    _type(
        "activity_details",
        ("activityId",),
        "Per-activity detail samples: activityDetailMetrics rows become records named by metricDescriptors.",
        hints={"startTimeGMT": TS},
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
        partition="date",
        hints={"date": D},
        spec=Spec(fill=(("date", ("dailySleepDTO.calendarDate",)),)),
    ),
    _type(
        "steps",
        ("startGMT",),
        "15-minute step buckets (one line per bucket).",
        partition="date",
        hints={"date": D, "startGMT": TS, "endGMT": TS},
        spec=Spec(fill=(("date", ("startGMT",)),)),
    ),
    _type(
        "heart_rate",
        ("calendarDate",),
        "Daily heart rate; heartRateValues become [{timestamp (epoch ms), heartrate}].",
        partition="calendarDate",
        hints={**_CALENDAR, **_GMT_BOUNDS},
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "body_battery",
        ("date",),
        "Daily body battery report; bodyBatteryValuesArray becomes [{timestamp, bodyBatteryLevel}].",
        partition="date",
        hints={"date": D, **_GMT_BOUNDS},
        spec=Spec(fill=(("date", ("calendarDate", "startTimestampLocal")),)),
    ),
    _type(
        "stress",
        ("calendarDate",),
        "Daily stress; stress and body-battery value arrays become records.",
        partition="calendarDate",
        hints={**_CALENDAR, **_GMT_BOUNDS},
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "user_summary",
        ("date",),
        "Daily user summary (steps, calories, heart rate, stress, body battery...).",
        partition="date",
        hints={**_CALENDAR, "wellnessStartTimeGmt": TS, "wellnessEndTimeGmt": TS},
        spec=Spec(wrapper="summary_data", fill=(("date", ("calendarDate",)),)),
    ),
    _type(
        "stats_and_body",
        ("calendarDate",),
        "Daily user summary merged with body composition.",
        partition="calendarDate",
        hints={**_CALENDAR, "wellnessStartTimeGmt": TS, "wellnessEndTimeGmt": TS},
        spec=Spec(wrapper="stats_and_body_data", fill=_FROM_DATE),
    ),
    _type(
        "training_readiness",
        ("calendarDate", "timestamp"),
        "Training readiness readings (one line per reading).",
        partition="calendarDate",
        hints={**_CALENDAR, "timestamp": TS},
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "rhr_daily",
        ("date",),
        "Daily resting heart rate; allMetrics.metricsMap becomes [{key: metric, value: [...]}].",
        partition="date",
        hints={"date": D, "statisticsStartDate": D, "statisticsEndDate": D},
        spec=Spec(wrapper="rhr_data", fill=(("date", ("statisticsStartDate",)),)),
    ),
    _type(
        "spo2",
        ("calendarDate",),
        "Daily pulse-ox; spO2 value arrays become records.",
        partition="calendarDate",
        hints={**_CALENDAR, **_GMT_BOUNDS},
        spec=Spec(wrapper="spo2_data", fill=_FROM_DATE),
    ),
    _type(
        "respiration",
        ("calendarDate",),
        "Daily respiration; value and average arrays become records.",
        partition="calendarDate",
        hints={
            **_CALENDAR,
            **_GMT_BOUNDS,
            **_SLEEP_BOUNDS,
            "tomorrowSleepStartTimestampGMT": TS,
            "tomorrowSleepEndTimestampGMT": TS,
        },
        spec=Spec(wrapper="respiration_data", fill=_FROM_DATE),
    ),
    _type(
        "intensity_minutes",
        ("calendarDate",),
        "Daily intensity minutes; imValuesArray becomes [{timestamp, value}].",
        partition="calendarDate",
        hints={**_CALENDAR, **_GMT_BOUNDS},
        spec=Spec(wrapper="intensity_minutes_data", fill=_FROM_DATE),
    ),
    _type(
        "max_metrics",
        ("date",),
        "VO2 max and fitness age (generic, cycling, heat/altitude acclimation).",
        partition="date",
        hints={"date": D},
        spec=Spec(fill=(("date", ("generic.calendarDate", "cycling.calendarDate")),)),
    ),
    _type(
        "all_day_events",
        ("calendarDate", "startTimestampLocal"),
        "Auto-detected wellness events of the day (one line per event).",
        partition="calendarDate",
        hints={**_CALENDAR, "startTimestampGMT": TS},
        spec=Spec(fill=_FROM_DATE),
    ),
    _type("device_info", ("deviceId",), "Registered devices (one line per device)."),
    _type(
        "training_status",
        ("date",),
        "Training status, load balance and VO2 max; device-id-keyed maps become [{key, value}].",
        partition="date",
        hints={"date": D},
        spec=Spec(fill=(("date", ("mostRecentVO2Max.generic.calendarDate",)),)),
    ),
    _type(
        "hrv",
        ("date",),
        "Nightly heart-rate variability (summary and 5-minute readings).",
        partition="date",
        hints={"date": D, **_GMT_BOUNDS, **_SLEEP_BOUNDS},
        spec=Spec(fill=(("date", ("hrvSummary.calendarDate",)),)),
    ),
    _type(
        "race_predictions",
        ("calendarDate",),
        "Predicted 5K, 10K, half-marathon and marathon times (seconds).",
        partition="calendarDate",
        hints={**_CALENDAR, "fromCalendarDate": D, "toCalendarDate": D},
        spec=Spec(fill=_FROM_DATE),
    ),
    _type(
        "floors",
        ("date",),
        "Floors climbed; floorValuesArray becomes [{startTimeGMT, endTimeGMT, floorsAscended, floorsDescended}].",
        partition="date",
        hints={"date": D, **_GMT_BOUNDS},
        spec=Spec(fill=(("date", ("startTimestampLocal",)),)),
    ),
    _type(
        "weight",
        ("calendarDate",),
        "Weigh-ins (one line per measurement; `date` and `timestampGMT` are epoch milliseconds).",
        partition="calendarDate",
        hints={"calendarDate": D, "summaryDate": D},
        spec=Spec(fill=(("calendarDate", ("summaryDate",)),)),
    ),
    _type(
        "body_composition",
        ("date",),
        "Body composition for a day or range (dateWeightList, totalAverage).",
        partition="date",
        hints={"date": D, "startDate": D, "endDate": D},
        spec=Spec(fill=(("date", ("startDate",)),)),
    ),
    _type(
        "endurance_score",
        ("startDate",),
        "Endurance score for a range; groupMap (keyed by date) becomes [{key, value}].",
        partition="startDate",
        hints={"startDate": D, "endDate": D, "calendarDate": D},
        spec=Spec(fill=(("startDate", ("calendarDate", "enduranceScoreDTO.calendarDate")),)),
    ),
    _type(
        "hill_score",
        ("startDate",),
        "Hill score for a range (hillScoreDTOList, period averages).",
        partition="startDate",
        hints={"startDate": D, "endDate": D, "calendarDate": D},
        spec=Spec(fill=(("startDate", ("calendarDate",)),)),
    ),
)
