"""Which `garminconnect` method fetches each data type: the daily metrics, the per-activity details,
the score ranges; `TYPES` lists them all in fetch order."""

from __future__ import annotations

COPIED = ("activityId", "activityName", "activityType", "startTimeLocal")

# Daily metrics: data type -> garminconnect method (called with the day as YYYY-MM-DD).
DAILY: dict[str, str] = {
    "sleep": "get_sleep_data",
    "steps": "get_steps_data",
    "heart_rate": "get_heart_rates",
    "body_battery": "get_body_battery",
    "stress": "get_stress_data",
    "user_summary": "get_user_summary",
    "stats_and_body": "get_stats_and_body",
    "training_readiness": "get_training_readiness",
    "rhr_daily": "get_rhr_day",
    "spo2": "get_spo2_data",
    "respiration": "get_respiration_data",
    "intensity_minutes": "get_intensity_minutes_data",
    "max_metrics": "get_max_metrics",
    "all_day_events": "get_all_day_events",
    "training_status": "get_training_status",
    "hrv": "get_hrv_data",
    "floors": "get_floors",
    "weight": "get_daily_weigh_ins",
    "body_composition": "get_body_composition",
}
# Per activity: data type -> {record key: garminconnect method (called with the activity id)}.
PER_ACTIVITY: dict[str, dict[str, str]] = {
    "activity_details": {"detailed_data": "get_activity_details"},
    "activity_splits": {
        "splits": "get_activity_splits",
        "typed_splits": "get_activity_typed_splits",
        "split_summaries": "get_activity_split_summaries",
    },
    "activity_weather": {"weather_data": "get_activity_weather"},
    "activity_hr_zones": {"hr_zones_data": "get_activity_hr_in_timezones"},
    "activity_exercise_sets": {"exercise_sets_data": "get_activity_exercise_sets"},
}
RANGES = {"endurance_score": "get_endurance_score", "hill_score": "get_hill_score"}
TYPES = (
    "activities", *PER_ACTIVITY, *DAILY, "device_info", "race_predictions", *RANGES,
)  # fmt: skip
