"""A deterministic demo landing zone: every Garmin data type over N days, shaped like the real payloads.

The same seed always gives the same bytes: the calendar is anchored on a fixed last day, values come
from `random.Random(seed)`, gzip headers carry no timestamp. The first third of the days arrives as a
backfill (`..._HISTORICAL_garmin_<type>.jsonl`), the rest as one fetch file per day and type.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from ingestor_garmin.types import DATA_TYPES

Record = dict[str, Any]
LAST_DAY = date(2025, 12, 31)
LOCAL_OFFSET = timedelta(hours=1)  # Europe/Paris in winter
USER_ID = 90000001
WATCH_ID = 3400000001
SCALE_ID = 3400000002
WATCH = "fenix 7X Pro Sapphire Solar"
GZIPPED = {"heart_rate"}  # written as .jsonl.gz, as the fetchers may


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0")


def _ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


class _Day:
    """One calendar day of the demo user: GMT/local bounds and helpers."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.iso = day.isoformat()
        self.local_start = datetime(day.year, day.month, day.day)
        self.gmt_start = self.local_start - LOCAL_OFFSET
        self.gmt_end = self.gmt_start + timedelta(days=1)

    def gmt(self, minutes: float) -> datetime:
        return self.gmt_start + timedelta(minutes=minutes)

    def bounds(self) -> Record:
        return {
            "startTimestampGMT": _iso(self.gmt_start),
            "endTimestampGMT": _iso(self.gmt_end),
            "startTimestampLocal": _iso(self.local_start),
            "endTimestampLocal": _iso(self.local_start + timedelta(days=1)),
        }

    def sleep_window(self) -> tuple[datetime, datetime]:
        """Last night's sleep (GMT): from about 23:00 local the day before to about 07:00."""
        return self.gmt(-60), self.gmt(7 * 60)


_ACTIVITY_TYPES = [
    ("running", 1, 1),
    ("trail_running", 6, 1),
    ("cycling", 2, 17),
    ("hiking", 3, 17),
    ("walking", 9, 17),
    ("strength_training", 13, 29),
]


class DemoUser:
    """Generates one user's records, type by type, from one random stream."""

    def __init__(self, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.days = [_Day(LAST_DAY - timedelta(days=days - 1 - i)) for i in range(days)]
        self.rhr = 48
        self.vo2 = 47.0
        self.mass = 72000.0
        self.activities: dict[str, list[Record]] = {}
        for index, day in enumerate(self.days):
            self.activities[day.iso] = self._activities(index, day, last=index == len(self.days) - 1)
        self.weigh_ins = self._weigh_ins()

    # -- activities -------------------------------------------------------------
    def _activities(self, index: int, day: _Day, last: bool) -> list[Record]:
        rng = self.rng
        if not last and rng.random() > 0.65:
            return []
        key, type_id, parent = _ACTIVITY_TYPES[-1] if last else rng.choice(_ACTIVITY_TYPES)
        start = day.gmt(rng.randint(7 * 60, 18 * 60))
        duration = round(rng.uniform(1800, 5400), 3)
        moving = key not in {"strength_training"}
        distance = round(duration * rng.uniform(1.2, 3.1), 2) if moving else 0.0
        hr = rng.randint(118, 152)
        activity: Record = {
            "activityId": 21000000000 + index * 7 + rng.randint(0, 6),
            "activityName": f"Paris - {key.replace('_', ' ').title()}",
            "startTimeLocal": (start + LOCAL_OFFSET).strftime("%Y-%m-%d %H:%M:%S"),
            "startTimeGMT": start.strftime("%Y-%m-%d %H:%M:%S"),
            "activityType": {
                "typeId": type_id,
                "typeKey": key,
                "parentTypeId": parent,
                "isHidden": False,
                "restricted": False,
                "trimmable": True,
            },
            "eventType": {"typeId": 9, "typeKey": "uncategorized", "sortOrder": 10},
            "distance": distance,
            "duration": duration,
            "elapsedDuration": round(duration + rng.uniform(0, 120), 3),
            "movingDuration": round(duration * 0.97, 1),
            "elevationGain": float(rng.randint(0, 400)) if moving else None,
            "elevationLoss": float(rng.randint(0, 400)) if moving else None,
            "averageSpeed": round(distance / duration, 4) if moving else 0.0,
            "maxSpeed": round(distance / duration * 1.6, 4) if moving else 0.0,
            "startLatitude": 48.85 if moving else None,
            "startLongitude": 2.35 if moving else None,
            "hasPolyline": moving,
            "hasImages": False,
            "ownerId": USER_ID,
            "ownerDisplayName": "demo_runner",
            "ownerFullName": "Demo Runner",
            "calories": float(rng.randint(200, 900)),
            "bmrCalories": float(rng.randint(40, 90)),
            "averageHR": float(hr),
            "maxHR": float(hr + rng.randint(10, 30)),
            "steps": rng.randint(2000, 12000) if moving else None,
            "userRoles": ["SCOPE_GOLF_API_READ", "SCOPE_ATP_READ", "SCOPE_CONNECT_READ"],
            "privacy": {"typeId": 2, "typeKey": "private"},
            "userPro": False,
            "hasVideo": False,
            "timeZoneId": 124,
            "beginTimestamp": _ms(start),
            "sportTypeId": parent,
            "aerobicTrainingEffect": round(rng.uniform(1.5, 4.2), 1),
            "anaerobicTrainingEffect": round(rng.uniform(0, 2.5), 1),
            "vO2MaxValue": float(round(self.vo2)) if moving else None,
            "deviceId": WATCH_ID,
            "minTemperature": float(rng.randint(2, 12)),
            "maxTemperature": float(rng.randint(13, 24)),
            "summarizedDiveInfo": {"summarizedDiveGases": []},
            "manufacturer": "GARMIN",
            "locationName": "Paris",
            "lapCount": rng.randint(1, 8),
        }
        return [{k: v for k, v in activity.items() if v is not None}]

    def _copied(self, activity: Record) -> Record:
        """The activity fields the activity_* fetchers copy next to each payload."""
        return {k: activity[k] for k in ("activityId", "activityName", "activityType", "startTimeLocal")}

    def activity_details(self, activity: Record) -> Record:
        rng = self.rng
        keys = ["directHeartRate", "directSpeed", "sumDistance", "directElevation", "directTimestamp"]
        rows, distance = [], 0.0
        start = activity["beginTimestamp"]
        polyline = []
        for i in range(24):
            speed = round(rng.uniform(1.8, 3.6), 3)
            distance = round(distance + speed * 60, 1)
            heart = float(rng.randint(110, 170)) if i else None  # the sensor starts late
            rows.append({"metrics": [heart, speed, distance, round(rng.uniform(30, 90), 1), float(start + i * 60000)]})
            polyline.append(
                {
                    "lat": round(48.85 + i * 0.0004, 5),
                    "lon": round(2.35 + i * 0.0003, 5),
                    "altitude": round(rng.uniform(30, 90), 1),
                    "time": start + i * 60000,
                    "timerStart": i == 0,
                    "timerStop": i == 23,
                    "distanceFromPreviousPoint": None,
                    "distanceInMeters": distance,
                    "speed": speed,
                    "cumulativeAscent": None,
                    "cumulativeDescent": None,
                    "extendedCoordinate": False,
                    "valid": True,
                }
            )
        details = {
            "activityId": activity["activityId"],
            "measurementCount": len(keys),
            "metricsCount": len(rows),
            "totalMetricsCount": len(rows) * 10,
            "metricDescriptors": [
                {"metricsIndex": i, "key": key, "unit": {"id": i + 1, "key": "unit", "factor": 1.0}}
                for i, key in enumerate(keys)
            ],
            "activityDetailMetrics": rows,
            "geoPolylineDTO": {
                "startPoint": polyline[0],
                "endPoint": polyline[-1],
                "minLat": polyline[0]["lat"],
                "maxLat": polyline[-1]["lat"],
                "minLon": polyline[0]["lon"],
                "maxLon": polyline[-1]["lon"],
                "polyline": polyline,
            },
            "heartRateDTOs": None,
            "pendingData": None,
            "detailsAvailable": True,
        }
        return {**activity, "detailed_data": details, "data_type": "activity_details"}

    def activity_splits(self, activity: Record) -> Record:
        rng = self.rng
        laps = []
        start = datetime.fromisoformat(activity["startTimeGMT"])
        for i in range(activity["lapCount"]):
            duration = round(rng.uniform(280, 420), 2)
            laps.append(
                {
                    "startTimeGMT": _iso(start),
                    "distance": round(rng.uniform(900, 1100), 2),
                    "duration": duration,
                    "movingDuration": round(duration - rng.uniform(0, 15), 2),
                    "averageSpeed": round(rng.uniform(2.3, 3.6), 3),
                    "averageHR": float(rng.randint(120, 165)),
                    "maxHR": float(rng.randint(150, 185)),
                    "calories": float(rng.randint(40, 90)),
                    "lapIndex": i + 1,
                    "lengthDTOs": [],
                    "connectIQMeasurement": [],
                    "intensityType": "INTERVAL" if i else "WARMUP",
                    "messageIndex": i,
                }
            )
            start += timedelta(seconds=duration)
        return {
            **self._copied(activity),
            "splits": {
                "activityId": activity["activityId"],
                "lapDTOs": laps,
                "eventDTOs": [
                    {
                        "startTimeGMT": laps[0]["startTimeGMT"],
                        "startTimeGMTDoubleValue": float(activity["beginTimestamp"]),
                        "sectionTypeDTO": {"id": 2, "key": "timerTrigger", "sectionTypeKey": "TIMER_TRIGGER"},
                    }
                ],
            },
            "typed_splits": {
                "activityId": activity["activityId"],
                "splits": [
                    {"type": "RWD_RUN", "duration": activity["duration"], "distance": activity["distance"]},
                ],
            },
            "split_summaries": {
                "activityId": activity["activityId"],
                "splitSummaries": [
                    {
                        "splitType": "INTERVAL_ACTIVE",
                        "noOfSplits": len(laps),
                        "distance": activity["distance"],
                        "duration": activity["duration"],
                    }
                ],
            },
            "data_type": "activity_splits",
        }

    def activity_weather(self, activity: Record) -> Record:
        rng = self.rng
        temp = rng.randint(30, 75)
        return {
            **self._copied(activity),
            "weather_data": {
                "issueDate": activity["startTimeGMT"].replace(" ", "T"),
                "temp": temp,
                "apparentTemp": temp - rng.randint(0, 5),
                "dewPoint": temp - rng.randint(5, 15),
                "relativeHumidity": rng.randint(40, 95),
                "windDirection": rng.randint(0, 359),
                "windDirectionCompassPoint": rng.choice(["n", "ne", "e", "se", "s", "sw", "w", "nw"]),
                "windSpeed": rng.randint(0, 25),
                "windGust": None,
                "latitude": 48.85,
                "longitude": 2.35,
                "weatherStationDTO": {"id": "LFPB", "name": "Le Bourget", "timezone": None},
                "weatherTypeDTO": {"weatherTypePk": None, "desc": "Cloudy", "image": None},
            },
            "data_type": "activity_weather",
        }

    def activity_hr_zones(self, activity: Record) -> Record:
        rng = self.rng
        zones = [
            {"zoneNumber": i, "secsInZone": round(rng.uniform(0, 900), 3), "zoneLowBoundary": low}
            for i, low in zip(range(1, 6), (98, 117, 137, 156, 176), strict=True)
        ]
        return {**self._copied(activity), "hr_zones_data": zones, "data_type": "activity_hr_zones"}

    def activity_exercise_sets(self, activity: Record) -> Record | None:
        if activity["activityType"]["typeKey"] != "strength_training":
            return None
        rng = self.rng
        sets = []
        for i in range(6):
            active = i % 2 == 0
            name = rng.choice([("SQUAT", "BARBELL_BACK_SQUAT"), ("BENCH_PRESS", "BARBELL_BENCH_PRESS")])
            sets.append(
                {
                    "exercises": [{"probability": 97.5, "category": name[0], "name": name[1]}] if active else [],
                    "duration": round(rng.uniform(25, 90), 3),
                    "repetitionCount": rng.randint(6, 12) if active else None,
                    "weight": float(rng.randint(20, 90) * 1000) if active else None,
                    "setType": "ACTIVE" if active else "REST",
                    "startTime": activity["startTimeGMT"].replace(" ", "T") + ".0",
                    "wktStepIndex": None,
                    "messageIndex": i,
                }
            )
        return {
            **self._copied(activity),
            "exercise_sets_data": {"activityId": activity["activityId"], "exerciseSets": sets},
            "data_type": "activity_exercise_sets",
        }

    # -- daily wellness -----------------------------------------------------------
    def sleep(self, day: _Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        start += timedelta(minutes=rng.randint(-40, 40))
        end += timedelta(minutes=rng.randint(-30, 50))
        seconds = int((end - start).total_seconds())
        deep, rem, awake = rng.randint(3600, 6000), rng.randint(3600, 7000), rng.randint(120, 1800)
        levels, cursor = [], start
        while cursor < end:
            step = min(end, cursor + timedelta(minutes=rng.randint(10, 60)))
            levels.append({"startGMT": _iso(cursor), "endGMT": _iso(step), "activityLevel": float(rng.randint(0, 3))})
            cursor = step
        minutes = int((end - start).total_seconds() // 60)
        return {
            "dailySleepDTO": {
                "id": _ms(start),
                "userProfilePK": USER_ID,
                "calendarDate": day.iso,
                "sleepTimeSeconds": seconds - awake,
                "napTimeSeconds": 0,
                "sleepWindowConfirmed": True,
                "sleepWindowConfirmationType": "enhanced_confirmed_final",
                "sleepStartTimestampGMT": _ms(start),
                "sleepEndTimestampGMT": _ms(end),
                "sleepStartTimestampLocal": _ms(start + LOCAL_OFFSET),
                "sleepEndTimestampLocal": _ms(end + LOCAL_OFFSET),
                "deepSleepSeconds": deep,
                "lightSleepSeconds": seconds - deep - rem - awake,
                "remSleepSeconds": rem,
                "awakeSleepSeconds": awake,
                "deviceRemCapable": True,
                "retro": False,
                "sleepFromDevice": True,
                "averageSpO2Value": float(rng.randint(91, 97)),
                "lowestSpO2Value": rng.randint(84, 90),
                "averageRespirationValue": float(rng.randint(12, 16)),
                "awakeCount": rng.randint(0, 3),
                "avgSleepStress": float(rng.randint(8, 25)),
                "ageGroup": "ADULT",
                "sleepScoreFeedback": rng.choice(["POSITIVE_DEEP", "NEGATIVE_SHORT", "POSITIVE_RESTFUL"]),
                "sleepScores": {
                    "totalDuration": {"qualifierKey": "GOOD", "optimalStart": 28800.0, "optimalEnd": 28800.0},
                    "stress": {"qualifierKey": "EXCELLENT", "optimalStart": 0.0, "optimalEnd": 15.0},
                    "overall": {"value": rng.randint(55, 95), "qualifierKey": "GOOD"},
                    "remPercentage": {"value": round(rem * 100 / seconds), "qualifierKey": "GOOD"},
                },
                "sleepVersion": 2,
            },
            "sleepMovement": [
                {
                    "startGMT": _iso(start + timedelta(minutes=m)),
                    "endGMT": _iso(start + timedelta(minutes=m + 10)),
                    "activityLevel": round(rng.uniform(0, 1.5), 3),
                }
                for m in range(0, minutes, 10)
            ],
            "remSleepData": True,
            "sleepLevels": levels,
            "sleepHeartRate": [
                {"value": rng.randint(42, 60), "startGMT": _ms(start + timedelta(minutes=m))}
                for m in range(0, minutes, 10)
            ],
            "wellnessSpO2SleepSummaryDTO": {
                "userProfilePk": USER_ID,
                "deviceId": WATCH_ID,
                "sleepMeasurementStartGMT": _iso(start),
                "sleepMeasurementEndGMT": _iso(end),
                "averageSPO2": float(rng.randint(91, 97)),
                "lowestSPO2": rng.randint(84, 90),
            },
            "restingHeartRate": self.rhr,
            "bodyBatteryChange": rng.randint(20, 70),
            "date": day.iso,
            "data_type": "sleep",
        }

    def steps(self, day: _Day) -> Iterator[Record]:
        rng = self.rng
        for quarter in range(96):
            awake = 28 <= quarter <= 90
            steps = rng.randint(0, 1600) if awake and rng.random() < 0.6 else 0
            level = "sleeping" if not awake else ("active" if steps > 900 else "sedentary")
            yield {
                "startGMT": _iso(day.gmt(quarter * 15)),
                "endGMT": _iso(day.gmt(quarter * 15 + 15)),
                "steps": steps,
                "pushes": 0,
                "primaryActivityLevel": level,
                "activityLevelConstant": steps == 0,
                "date": day.iso,
                "data_type": "steps",
            }

    def heart_rate(self, day: _Day) -> Record:
        rng = self.rng
        self.rhr = max(42, min(58, self.rhr + rng.randint(-1, 1)))
        values: list[list[int | None]] = [
            [_ms(day.gmt(m)), rng.randint(self.rhr, self.rhr + 60)] for m in range(0, 24 * 60, 4)
        ]
        for i in rng.sample(range(len(values)), 6):
            values[i][1] = None  # the watch was off the wrist
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "maxHeartRate": max(v for _, v in values if v is not None),
            "minHeartRate": min(v for _, v in values if v is not None),
            "restingHeartRate": self.rhr,
            "lastSevenDaysAvgRestingHeartRate": self.rhr + 1,
            "heartRateValueDescriptors": [{"key": "timestamp", "index": 0}, {"key": "heartrate", "index": 1}],
            "heartRateValues": values,
            "date": day.iso,
            "data_type": "heart_rate",
        }

    def _battery_levels(self, day: _Day, step: int) -> list[tuple[int, int]]:
        rng = self.rng
        level, out = rng.randint(15, 35), []
        for m in range(0, 24 * 60, step):
            level = max(5, min(100, level + (rng.randint(1, 4) if m < 7 * 60 else -rng.randint(0, 2))))
            out.append((_ms(day.gmt(m)), level))
        return out

    def body_battery(self, day: _Day) -> Record:
        levels = self._battery_levels(day, 15)
        start, end = day.sleep_window()
        return {
            "date": day.iso,
            "charged": self.rng.randint(30, 80),
            "drained": self.rng.randint(30, 80),
            **day.bounds(),
            "bodyBatteryValuesArray": [[ts, level] for ts, level in levels],
            "bodyBatteryValueDescriptorDTOList": [
                {"bodyBatteryValueDescriptorIndex": 0, "bodyBatteryValueDescriptorKey": "timestamp"},
                {"bodyBatteryValueDescriptorIndex": 1, "bodyBatteryValueDescriptorKey": "bodyBatteryLevel"},
            ],
            "bodyBatteryDynamicFeedbackEvent": {
                "eventTimestampGmt": _iso(day.gmt(18 * 60)),
                "bodyBatteryLevel": "MODERATE",
                "feedbackShortType": "DAY_RECOVERING_AND_INACTIVE",
                "feedbackLongType": "DAY_RECOVERING_AND_INACTIVE",
            },
            "bodyBatteryActivityEvent": [
                {
                    "eventType": "SLEEP",
                    "eventStartTimeGmt": _iso(start),
                    "timezoneOffset": int(LOCAL_OFFSET.total_seconds() * 1000),
                    "durationInMilliseconds": int((end - start).total_seconds() * 1000),
                    "bodyBatteryImpact": self.rng.randint(20, 70),
                    "feedbackType": "GOOD_SLEEP_HISTORY",
                    "shortFeedback": "RESTFUL_PERIOD",
                }
            ],
            "data_type": "body_battery",
        }

    def stress(self, day: _Day) -> Record:
        rng = self.rng
        stress = [
            [_ms(day.gmt(m)), rng.choice([-1, -2]) if rng.random() < 0.08 else rng.randint(0, 99)]
            for m in range(0, 24 * 60, 5)
        ]
        battery = [[ts, "MEASURED", level, 2.0] for ts, level in self._battery_levels(day, 5)]
        measured = [v for _, v in stress if v >= 0]
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "maxStressLevel": max(measured),
            "avgStressLevel": sum(measured) // len(measured),
            "stressChartValueOffset": 1,
            "stressChartYAxisOrigin": -1,
            "stressValueDescriptorsDTOList": [{"key": "timestamp", "index": 0}, {"key": "stressLevel", "index": 1}],
            "stressValuesArray": stress,
            "bodyBatteryValueDescriptorsDTOList": [
                {"bodyBatteryValueDescriptorIndex": i, "bodyBatteryValueDescriptorKey": key}
                for i, key in enumerate(["timestamp", "bodyBatteryStatus", "bodyBatteryLevel", "bodyBatteryVersion"])
            ],
            "bodyBatteryValuesArray": battery,
            "date": day.iso,
            "data_type": "stress",
        }

    def _summary(self, day: _Day) -> Record:
        rng = self.rng
        steps = rng.randint(3000, 16000)
        active = float(rng.randint(80, 900))
        return {
            "userProfileId": USER_ID,
            "totalKilocalories": 2100.0 + active,
            "activeKilocalories": active,
            "bmrKilocalories": 2100.0,
            "wellnessKilocalories": 2100.0 + active,
            "burnedKilocalories": None,
            "totalSteps": steps,
            "totalDistanceMeters": int(steps * 0.8),
            "userDailySummaryId": USER_ID,
            "calendarDate": day.iso,
            "rule": {"typeId": 2, "typeKey": "private"},
            "uuid": f"{rng.getrandbits(128):032x}",
            "dailyStepGoal": 10000,
            "wellnessStartTimeGmt": _iso(day.gmt_start),
            "wellnessStartTimeLocal": _iso(day.local_start),
            "wellnessEndTimeGmt": _iso(day.gmt_end),
            "wellnessEndTimeLocal": _iso(day.local_start + timedelta(days=1)),
            "durationInMilliseconds": 86400000,
            "highlyActiveSeconds": rng.randint(0, 3000),
            "activeSeconds": rng.randint(1000, 9000),
            "sedentarySeconds": rng.randint(30000, 50000),
            "sleepingSeconds": rng.randint(21000, 32000),
            "includesWellnessData": True,
            "includesActivityData": bool(self.activities[day.iso]),
            "moderateIntensityMinutes": rng.randint(0, 60),
            "vigorousIntensityMinutes": rng.randint(0, 45),
            "floorsAscendedInMeters": round(rng.uniform(3, 40), 3),
            "floorsAscended": round(rng.uniform(1, 13), 5),
            "minHeartRate": self.rhr - 3,
            "maxHeartRate": rng.randint(120, 180),
            "restingHeartRate": self.rhr,
            "source": "GARMIN",
            "averageStressLevel": rng.randint(15, 45),
            "maxStressLevel": rng.randint(80, 99),
            "stressPercentage": round(rng.uniform(10, 40), 2),
            "bodyBatteryChargedValue": rng.randint(30, 80),
            "bodyBatteryDrainedValue": rng.randint(30, 80),
            "bodyBatteryHighestValue": rng.randint(70, 100),
            "bodyBatteryLowestValue": rng.randint(5, 30),
            "averageSpo2": float(rng.randint(92, 97)),
            "lowestSpo2": rng.randint(84, 91),
            "latestSpo2ReadingTimeGmt": _iso(day.gmt(6 * 60)),
            "avgWakingRespirationValue": float(rng.randint(13, 17)),
        }

    def user_summary(self, day: _Day) -> Record:
        return {**self._summary(day), "date": day.iso, "data_type": "user_summary"}

    def stats_and_body(self, day: _Day) -> Record:
        weighed = self.weigh_ins.get(day.iso, [])
        last = weighed[-1] if weighed else {}
        return {
            **self._summary(day),
            "from": _ms(day.gmt_start),
            "until": _ms(day.gmt_end) - 1,
            **{k: last.get(k) for k in ("weight", "bmi", "bodyFat", "bodyWater", "boneMass", "muscleMass")},
            "date": day.iso,
            "data_type": "stats_and_body",
        }

    def training_readiness(self, day: _Day) -> Iterator[Record]:
        rng = self.rng
        for hour in sorted(rng.sample(range(6, 22), rng.randint(1, 3))):
            moment = day.gmt(hour * 60 + rng.randint(0, 59))
            yield {
                "userProfilePK": USER_ID,
                "calendarDate": day.iso,
                "timestamp": _iso(moment),
                "timestampLocal": _iso(moment + LOCAL_OFFSET),
                "deviceId": WATCH_ID,
                "level": rng.choice(["LOW", "MODERATE", "HIGH"]),
                "feedbackShort": "RECOVERY_IN_PROGRESS",
                "score": rng.randint(20, 95),
                "sleepScore": rng.randint(50, 95),
                "recoveryTime": rng.randint(0, 3000),
                "acuteLoad": rng.randint(200, 700),
                "hrvWeeklyAverage": rng.randint(35, 60),
                "validSleep": True,
                "inputContext": "UPDATE_REALTIME_VARIABLES",
                "primaryActivityTracker": True,
                "recoveryTimeChangePhrase": None,
                "date": day.iso,
                "data_type": "training_readiness",
            }

    def rhr_daily(self, day: _Day) -> Record:
        return {
            "userProfileId": USER_ID,
            "statisticsStartDate": day.iso,
            "statisticsEndDate": day.iso,
            "allMetrics": {
                "metricsMap": {"WELLNESS_RESTING_HEART_RATE": [{"value": float(self.rhr), "calendarDate": day.iso}]}
            },
            "groupedMetrics": None,
            "date": day.iso,
            "data_type": "rhr_daily",
        }

    def spo2(self, day: _Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        hourly = [[_ms(start + timedelta(hours=h)), rng.randint(90, 98)] for h in range(8)]
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "sleepStartTimestampGMT": _iso(start),
            "sleepEndTimestampGMT": _iso(end),
            "averageSpO2": float(rng.randint(92, 97)),
            "lowestSpO2": rng.randint(84, 91),
            "lastSevenDaysAvgSpO2": round(rng.uniform(92, 96), 1),
            "latestSpO2": rng.randint(92, 99),
            "latestSpO2TimestampGMT": _iso(end),
            "avgSleepSpO2": float(rng.randint(91, 97)),
            "spO2ValueDescriptorsDTOList": [
                {"index": 0, "key": "timestamp"},
                {"index": 1, "key": "spo2Reading"},
                {"index": 2, "key": "singleReadingPlottable"},
            ],
            "spO2SingleValues": None,
            "continuousReadingDTOList": None,
            "spO2HourlyAverages": hourly,
            "date": day.iso,
            "data_type": "spo2",
        }

    def respiration(self, day: _Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        values = [[_ms(day.gmt(m)), round(rng.uniform(8, 20), 2)] for m in range(0, 24 * 60, 10)]
        values[0][1] = float(rng.randint(12, 15))
        averages = [[_ms(day.gmt(h * 60)), *sorted(round(rng.uniform(8, 20), 2) for _ in range(3))] for h in range(24)]
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "sleepStartTimestampGMT": _iso(start),
            "sleepEndTimestampGMT": _iso(end),
            "lowestRespirationValue": min(v for _, v in values),
            "highestRespirationValue": max(v for _, v in values),
            "avgWakingRespirationValue": round(rng.uniform(14, 18), 2),
            "avgSleepRespirationValue": round(rng.uniform(9, 14), 2),
            "respirationValueDescriptorsDTOList": [
                {"index": 0, "key": "timestamp"},
                {"index": 1, "key": "respiration"},
            ],
            "respirationValuesArray": values,
            "respirationAveragesValueDescriptorDTOList": [
                {"respirationAveragesValueDescriptorIndex": i, "respirationAveragesValueDescriptionKey": key}
                for i, key in enumerate(
                    ["timestamp", "averageRespirationValue", "highRespirationValue", "lowRespirationValue"]
                )
            ],
            "respirationAveragesValuesArray": averages,
            "respirationVersion": 57,
            "date": day.iso,
            "data_type": "respiration",
        }

    def intensity_minutes(self, day: _Day) -> Record:
        rng = self.rng
        values = [[_ms(day.gmt(q * 15)), rng.randint(0, 15)] for q in range(32, 88) if rng.random() < 0.2]
        moderate, vigorous = rng.randint(0, 60), rng.randint(0, 40)
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "weeklyModerate": moderate * 4,
            "weeklyVigorous": vigorous * 4,
            "weeklyTotal": moderate * 4 + vigorous * 8,
            "weekGoal": 150,
            "moderateMinutes": moderate,
            "vigorousMinutes": vigorous,
            "imValueDescriptorsDTOList": [{"index": 0, "key": "timestamp"}, {"index": 1, "key": "value"}],
            "imValuesArray": values,
            "date": day.iso,
            "data_type": "intensity_minutes",
        }

    def _acclimation(self, day: _Day) -> Record:
        return {
            "calendarDate": day.iso,
            "altitudeAcclimationDate": day.iso,
            "heatAcclimationDate": day.iso,
            "altitudeAcclimation": 0,
            "heatAcclimationPercentage": self.rng.randint(0, 60),
            "heatTrend": "ACCLIMATIZING",
            "altitudeTrend": None,
            "currentAltitude": 35,
            "acclimationPercentage": 0,
            "altitudeAcclimationLocalTimestamp": _iso(day.local_start + timedelta(minutes=16)),
        }

    def max_metrics(self, day: _Day) -> Record:
        self.vo2 = round(max(42.0, min(52.0, self.vo2 + self.rng.choice([-0.3, 0.0, 0.0, 0.2]))), 1)
        return {
            "userId": USER_ID,
            "generic": {
                "calendarDate": day.iso,
                "vo2MaxPreciseValue": self.vo2,
                "vo2MaxValue": float(round(self.vo2)),
                "fitnessAge": None,
                "fitnessAgeDescription": None,
                "maxMetCategory": 0,
            },
            "cycling": None,
            "heatAltitudeAcclimation": self._acclimation(day),
            "date": day.iso,
            "data_type": "max_metrics",
        }

    def all_day_events(self, day: _Day) -> Iterator[Record]:
        rng = self.rng
        for _ in range(rng.randint(1 if day.day == LAST_DAY else 0, 2)):
            start = day.gmt(rng.randint(8 * 60, 20 * 60))
            yield {
                "userProfilePK": USER_ID,
                "calendarDate": day.iso,
                "startTimestampGMT": _iso(start),
                "startTimestampLocal": _iso(start + LOCAL_OFFSET),
                "timezoneOffset": int(LOCAL_OFFSET.total_seconds() * 1000),
                "activityType": rng.choice(["walking", "running", "cycling"]),
                "duration": rng.randint(10, 45) * 60000,
                "autoActivityType": "AUTO_DETECTED",
                "date": day.iso,
                "data_type": "all_day_events",
            }

    def device_info(self, day: _Day) -> Iterator[Record]:
        if day is not self.days[0]:
            return  # a snapshot: the fetchers write it again only when it changes
        for device_id, name, part, kind in (
            (WATCH_ID, WATCH, "006-B4375-00", "WATCH"),
            (SCALE_ID, "Index S2", "006-B3933-00", "SCALE"),
        ):
            yield {
                "deviceId": device_id,
                "unitId": device_id,
                "applicationKey": name.lower().replace(" ", ""),
                "partNumber": part,
                "productDisplayName": name,
                "displayName": name,
                "imageUrl": f"https://static.garmincdn.com/demo/{part}.png",
                "wifi": kind == "SCALE",
                "bluetoothLowEnergyDevice": True,
                "wellness": kind == "WATCH",
                "primary": kind == "WATCH",
                "hasOpticalHeartRate": kind == "WATCH",
                "weightScale": kind == "SCALE",
                "deviceCategories": ["FITNESS"] if kind == "WATCH" else ["SCALE"],
                "currentFirmwareVersion": "19.18",
                "deviceStatus": "ACTIVE",
                "lastSyncTime": _ms(day.gmt(23 * 60)),
                "released": True,
                "data_type": "device_info",
            }

    def training_status(self, day: _Day) -> Record:
        rng = self.rng
        device = str(WATCH_ID)
        acute = rng.randint(150, 700)
        return {
            "userId": USER_ID,
            "mostRecentVO2Max": {
                "userId": USER_ID,
                "generic": {
                    "calendarDate": day.iso,
                    "vo2MaxPreciseValue": self.vo2,
                    "vo2MaxValue": float(round(self.vo2)),
                },
                "cycling": None,
                "heatAltitudeAcclimation": self._acclimation(day),
            },
            "mostRecentTrainingLoadBalance": {
                "userId": USER_ID,
                "metricsTrainingLoadBalanceDTOMap": {
                    device: {
                        "calendarDate": day.iso,
                        "deviceId": WATCH_ID,
                        "monthlyLoadAerobicLow": round(rng.uniform(200, 700), 4),
                        "monthlyLoadAerobicHigh": round(rng.uniform(200, 700), 4),
                        "monthlyLoadAnaerobic": round(rng.uniform(0, 200), 4),
                        "trainingBalanceFeedbackPhrase": rng.choice(["BALANCED", "AEROBIC_HIGH_SHORTAGE"]),
                        "primaryTrainingDevice": True,
                    }
                },
                "recordedDevices": [{"deviceId": WATCH_ID, "imageURL": None, "deviceName": WATCH, "category": 0}],
            },
            "mostRecentTrainingStatus": {
                "userId": USER_ID,
                "latestTrainingStatusData": {
                    device: {
                        "calendarDate": day.iso,
                        "sinceDate": day.iso,
                        "weeklyTrainingLoad": None,
                        "trainingStatus": rng.randint(1, 8),
                        "timestamp": _ms(day.gmt(22 * 60)),
                        "deviceId": WATCH_ID,
                        "sport": "RUNNING",
                        "fitnessTrend": rng.randint(1, 3),
                        "trainingStatusFeedbackPhrase": rng.choice(["PRODUCTIVE_6", "MAINTAINING_2", "RECOVERY_2"]),
                        "trainingPaused": False,
                        "acuteTrainingLoadDTO": {
                            "acwrPercent": rng.randint(10, 90),
                            "acwrStatus": "OPTIMAL",
                            "dailyTrainingLoadAcute": acute,
                            "dailyTrainingLoadChronic": rng.randint(200, 500),
                            "dailyAcuteChronicWorkloadRatio": round(rng.uniform(0.3, 1.6), 1),
                        },
                        "primaryTrainingDevice": True,
                    }
                },
                "recordedDevices": [{"deviceId": WATCH_ID, "imageURL": None, "deviceName": WATCH, "category": 0}],
                "showSelector": False,
                "lastPrimarySyncDate": day.iso,
            },
            "heatAltitudeAcclimationDTO": None,
            "date": day.iso,
            "data_type": "training_status",
        }

    def hrv(self, day: _Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        readings: list[Record] = [
            {
                "hrvValue": rng.randint(28, 75),
                "readingTimeGMT": _iso(start + timedelta(minutes=m)),
                "readingTimeLocal": _iso(start + LOCAL_OFFSET + timedelta(minutes=m)),
            }
            for m in range(5, int((end - start).total_seconds() // 60), 5)
        ]
        night = sum(r["hrvValue"] for r in readings) // len(readings)
        return {
            "userProfilePk": USER_ID,
            "hrvSummary": {
                "calendarDate": day.iso,
                "weeklyAvg": night + rng.randint(-3, 3),
                "lastNightAvg": night,
                "lastNight5MinHigh": max(r["hrvValue"] for r in readings),
                "baseline": {"lowUpper": 36, "balancedLow": 39, "balancedUpper": 52, "markerValue": 0.25},
                "status": "BALANCED",
                "feedbackPhrase": "HRV_BALANCED_7",
                "createTimeStamp": _iso(end + timedelta(minutes=3)),
            },
            "hrvReadings": readings,
            "startTimestampGMT": _iso(start),
            "endTimestampGMT": _iso(end),
            "startTimestampLocal": _iso(start + LOCAL_OFFSET),
            "endTimestampLocal": _iso(end + LOCAL_OFFSET),
            "sleepStartTimestampGMT": _iso(start),
            "sleepEndTimestampGMT": _iso(end),
            "date": day.iso,
            "data_type": "hrv",
        }

    def race_predictions(self, day: _Day) -> Record:
        base = int(1500 * 47 / self.vo2)
        return {
            "userId": USER_ID,
            "fromCalendarDate": None,
            "toCalendarDate": None,
            "calendarDate": day.iso,
            "time5K": base,
            "time10K": int(base * 2.09),
            "timeHalfMarathon": int(base * 4.62),
            "timeMarathon": int(base * 9.8),
            "data_type": "race_predictions",
        }

    def floors(self, day: _Day) -> Record:
        rng = self.rng
        rows = [
            [_iso(day.gmt(q * 15)), _iso(day.gmt(q * 15 + 15)), rng.randint(0, 4), rng.randint(0, 4)]
            for q in range(32, 88)
            if rng.random() < 0.15
        ]
        return {
            **day.bounds(),
            "floorsValueDescriptorDTOList": [
                {"key": key, "index": i}
                for i, key in enumerate(["startTimeGMT", "endTimeGMT", "floorsAscended", "floorsDescended"])
            ],
            "floorValuesArray": rows,
            "date": day.iso,
            "data_type": "floors",
        }

    def _weigh_ins(self) -> dict[str, list[Record]]:
        """Scale measurements on about half of the days (always on the last one)."""
        rng, weights = self.rng, {}
        for i, day in enumerate(self.days):
            if i != len(self.days) - 1 and rng.random() > 0.45:
                continue
            moment = day.gmt(rng.randint(6 * 60, 8 * 60))
            previous = self.mass
            self.mass = round(self.mass + rng.uniform(-400, 400), 1)
            weights[day.iso] = [
                {
                    "samplePk": _ms(moment) + 27000,
                    "date": _ms(moment + LOCAL_OFFSET),
                    "calendarDate": day.iso,
                    "weight": self.mass,
                    "bmi": round(self.mass / 1000 / 1.78**2, 1),
                    "bodyFat": round(rng.uniform(15, 20), 1),
                    "bodyWater": round(rng.uniform(55, 60), 1),
                    "boneMass": rng.randint(3300, 3600),
                    "muscleMass": rng.randint(30000, 33000),
                    "physiqueRating": None,
                    "visceralFat": None,
                    "metabolicAge": None,
                    "sourceType": "INDEX_SCALE",
                    "timestampGMT": _ms(moment),
                    "weightDelta": round(self.mass - previous, 1),
                }
            ]
        return weights

    def weight(self, day: _Day) -> Iterator[Record]:
        for entry in self.weigh_ins.get(day.iso, []):
            yield {**entry, "summaryDate": day.iso, "data_type": "weight"}

    def body_composition(self, day: _Day) -> Record:
        entries = self.weigh_ins.get(day.iso, [])
        keys = ("weight", "bmi", "bodyFat", "bodyWater", "boneMass", "muscleMass")
        return {
            "startDate": day.iso,
            "endDate": day.iso,
            "dateWeightList": entries,
            "totalAverage": {
                "from": _ms(day.gmt_start),
                "until": _ms(day.gmt_end) - 1,
                **{k: (entries[-1][k] if entries else None) for k in keys},
                "physiqueRating": None,
                "visceralFat": None,
                "metabolicAge": None,
            },
            "date": day.iso,
            "data_type": "body_composition",
        }

    def endurance_score(self, days: list[_Day]) -> Record:
        rng = self.rng
        groups, scores = {}, []
        for day in days:
            score = rng.randint(4500, 6500)
            scores.append(score)
            groups[day.iso] = {
                "groupAverage": score,
                "groupMax": score + rng.randint(0, 200),
                "enduranceContributorDTOList": [
                    {"activityTypeId": 1, "group": None, "contribution": round(rng.uniform(20, 60), 2)},
                    {"activityTypeId": None, "group": 0, "contribution": round(rng.uniform(10, 40), 2)},
                ],
            }
        last = days[-1]
        return {
            "userProfilePK": USER_ID,
            "startDate": days[0].iso,
            "endDate": last.iso,
            "avg": sum(scores) // len(scores),
            "max": max(scores),
            "groupMap": groups,
            "enduranceScoreDTO": {
                "userProfilePK": USER_ID,
                "deviceId": WATCH_ID,
                "calendarDate": last.iso,
                "overallScore": scores[-1],
                "classification": 1,
                "feedbackPhrase": 30,
                "primaryTrainingDevice": True,
                "gaugeLowerLimit": 3570,
                "gaugeUpperLimit": 10560,
                "contributors": groups[last.iso]["enduranceContributorDTOList"],
            },
            "data_type": "endurance_score",
        }

    def hill_score(self, days: list[_Day]) -> Record:
        rng = self.rng
        daily: list[Record] = []
        for day in days:
            strength, endurance = rng.randint(1, 30), rng.randint(5, 40)
            daily.append(
                {
                    "userProfilePK": USER_ID,
                    "deviceId": WATCH_ID,
                    "calendarDate": day.iso,
                    "strengthScore": strength,
                    "enduranceScore": endurance,
                    "hillScoreClassificationId": 1,
                    "overallScore": (strength + endurance) // 2 + 5,
                    "hillScoreFeedbackPhraseId": 4,
                    "vo2Max": float(round(self.vo2)),
                    "vo2MaxPreciseValue": self.vo2,
                    "primaryTrainingDevice": True,
                }
            )
        return {
            "userProfilePK": USER_ID,
            "startDate": days[0].iso,
            "endDate": days[-1].iso,
            "periodAvgScore": {d["calendarDate"]: d["overallScore"] for d in daily},
            "maxScore": max(d["overallScore"] for d in daily),
            "hillScoreDTOList": daily,
            "data_type": "hill_score",
        }

    # -- one file's records ---------------------------------------------------------
    def records(self, name: str, days: list[_Day]) -> list[Record]:
        """Every record of data type `name` for a run of consecutive days."""
        if name in {"endurance_score", "hill_score"}:
            return [getattr(self, name)(days)]
        if name == "activities":
            return [{**a, "data_type": "activities"} for d in days for a in self.activities[d.iso]]
        if name.startswith("activity_"):
            method: Callable[[Record], Record | None] = getattr(self, name)
            found = (method(a) for d in days for a in self.activities[d.iso])
            return [r for r in found if r is not None]
        out: list[Record] = []
        for day in days:
            produced = getattr(self, name)(day)
            out.extend([produced] if isinstance(produced, dict) else produced)
        return out


def _ndjson(records: list[Record]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def demo_landing(days: int = 21, seed: int = 7) -> dict[str, bytes]:
    """`{object name: NDJSON bytes}` under `garmin/landing/` for every data type over `days` days."""
    if days < 1:
        return {}
    user = DemoUser(days, seed)
    backfill = user.days[: days // 3] if days >= 3 else []
    files: dict[str, bytes] = {}
    names = [dt.name for dt in DATA_TYPES]
    if backfill:
        span = f"{backfill[0].day:%Y_%m_%d}_to_{backfill[-1].day:%Y_%m_%d}"
        for name in names:
            records = user.records(name, backfill)
            if records:
                files[f"garmin/landing/historical/{span}_HISTORICAL_garmin_{name}.jsonl"] = _ndjson(records)
    for day in user.days[len(backfill) :]:
        fetched = datetime.combine(day.day + timedelta(days=1), datetime.min.time()) + timedelta(hours=6, minutes=15)
        for name in names:
            window = user.days[max(0, user.days.index(day) - 6) : user.days.index(day) + 1]
            records = user.records(name, window if name in {"endurance_score", "hill_score"} else [day])
            if not records:
                continue
            stem = f"garmin/landing/{fetched:%Y_%m_%d_%H_%M}_garmin_{name}"
            if name in GZIPPED:
                files[f"{stem}.jsonl.gz"] = gzip.compress(_ndjson(records), mtime=0)
            else:
                files[f"{stem}.jsonl"] = _ndjson(records)
    return files
