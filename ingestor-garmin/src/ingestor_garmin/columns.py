"""Columns the seed system's downstream SQL reads from the Garmin tables that real payloads may
not carry yet, declared so that they exist from the first load (facts from pyLancelle/ELA_DP's
dbt models: the staging models' column lists, and the fields its later models read, e.g.
`UNNEST(sleepLevels)` with `startGMT`, `endGMT`, `activityLevel`).

Types follow the seed's typing rules (dates and times STRING, epoch milliseconds INT64) and the
API's payloads; measured values are FLOAT64, which also takes whole numbers. A structure whose
fields the seed's SQL does not show is JSON: it holds any value without loss.
"""

from __future__ import annotations

from ingestor import Declared, Kind

STR, INT, FLOAT, JSON = Kind.STRING, Kind.INT64, Kind.FLOAT64, Kind.JSON


def _plain(kind: Kind, *names: str) -> tuple[Declared, ...]:
    return tuple(Declared(name, kind) for name in names)


def _records(name: str, *fields: Declared) -> Declared:
    return Declared(name, Kind.STRUCT, repeated=True, fields=fields)


_SAMPLES = (Declared("value", FLOAT), Declared("startGMT", INT))  # {value, startGMT (epoch ms)}
_POINTS = (Declared("timestamp", INT), Declared("value", FLOAT))  # positional rows (see normalize.py)
_SPO2 = (
    *_plain(FLOAT, "averageSpo2", "latestSpo2", "lowestSpo2"),
    *_plain(STR, "latestSpo2ReadingTimeGmt", "latestSpo2ReadingTimeLocal"),
)
_SUMMARY = (
    *_SPO2,
    *_plain(INT, "abnormalHeartRateAlertsCount"),
    *_plain(FLOAT, "remainingKilocalories", "restingCaloriesFromActivity"),
)
_BODY = _plain(FLOAT, "bmi", "bodyFat", "bodyWater", "boneMass", "muscleMass", "weight")
_ACTIVITY = (
    *_plain(INT, "activeSets", "courseId", "totalReps", "totalSets"),
    *_plain(STR, "calendarEventUuid", "description"),
    *_plain(
        FLOAT,
        "avgRespirationRate",
        "maxRespirationRate",
        "minRespirationRate",
        "avgVerticalSpeed",
        "caloriesConsumed",
        "waterConsumed",
        "fastestSplit_1000",
        "fastestSplit_1609",
        "fastestSplit_5000",
        "fastestSplit_10000",
        "fastestSplit_21098",
        "fastestSplit_42195",
    ),
    Declared("summarizedDiveInfo", Kind.STRUCT, fields=(Declared("summarizedDiveGases", STR, repeated=True),)),
    _records(
        "summarizedExerciseSets",
        *_plain(STR, "category", "subCategory"),
        *_plain(INT, "reps", "sets"),
        *_plain(FLOAT, "volume", "duration"),
    ),
)
_SLEEP_BOUNDS = tuple(
    f"{when}Sleep{edge}Timestamp{zone}"
    for when in ("", "tomorrow")
    for edge in ("Start", "End")
    for zone in ("GMT", "Local")
)

DECLARED: dict[str, tuple[Declared, ...]] = {
    "activities": _ACTIVITY,
    "activity_details": _ACTIVITY,
    # Envelopes of older fetchers: kept whole.
    "activity_exercise_sets": (Declared("activity_exercise_sets_data", JSON),),
    "activity_hr_zones": (Declared("activity_hr_zones_data", JSON),),
    "activity_weather": (Declared("activity_weather_data", JSON),),
    "activity_splits": _plain(JSON, "split_summaries", "typed_splits"),
    "all_day_events": (*_plain(INT, "deviceId"), *_plain(STR, "endTimestampGMT", "endTimestampLocal")),
    "body_battery": (
        *_plain(INT, "charged", "drained"),
        *_plain(JSON, "bodyBatteryActivityEvent", "bodyBatteryDynamicFeedbackEvent"),
        Declared("endOfDayBodyBatteryDynamicFeedbackEvent", JSON),
    ),
    "body_composition": (
        *_BODY,
        *_plain(INT, "samplePk", "timestampGMT"),
        *_plain(STR, "calendarDate", "sourceType"),
    ),
    "heart_rate": (Declared("abnormalHrThresholdValue", INT), _records("abnormalHRValuesArray", *_POINTS)),
    "intensity_minutes": (
        *_plain(INT, "userProfilePK", "weekGoal", "weeklyModerate", "weeklyVigorous", "weeklyTotal"),
        *_plain(INT, "startDayMinutes", "endDayMinutes", "moderateMinutes", "vigorousMinutes"),
        *_plain(STR, "dayOfGoalMet", "startTimestampGMT", "endTimestampGMT"),
        *_plain(STR, "startTimestampLocal", "endTimestampLocal"),
        _records("imValueDescriptorsDTOList", Declared("index", INT), Declared("key", STR)),
        _records("imValuesArray", *_POINTS),
    ),
    "sleep": (
        *_plain(FLOAT, "avgOvernightHrv"),
        *_plain(STR, "hrvStatus"),
        *_plain(INT, "respirationVersion", "restlessMomentsCount"),
        *(
            _records(name, *_plain(STR, "startGMT", "endGMT"), Declared("activityLevel", FLOAT))
            for name in ("sleepLevels", "sleepMovement")
        ),
        *(
            _records(name, *_SAMPLES)
            for name in ("sleepHeartRate", "sleepStress", "sleepBodyBattery", "hrvData", "sleepRestlessMoments")
        ),
        *_plain(JSON, "breathingDisruptionData", "wellnessEpochRespirationAveragesList"),
        *_plain(JSON, "wellnessEpochRespirationDataDTOList", "wellnessEpochSPO2DataDTOList"),
    ),
    "spo2": (
        *_plain(FLOAT, "avgTomorrowSleepSpO2"),
        *_plain(STR, "latestSpO2TimestampLocal", *_SLEEP_BOUNDS),
    ),
    "stats_and_body": (
        *_SUMMARY,
        *_BODY,
        *_plain(INT, "bodyBatteryAtWakeTime", "bodyBatteryDuringSleep"),
        Declared("bodyBatteryActivityEventList", JSON),
    ),
    "user_summary": (*_SUMMARY, Declared("lastSyncTimestampGMT", STR)),
}
