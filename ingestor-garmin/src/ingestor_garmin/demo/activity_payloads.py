"""The per-activity payloads: details, splits, weather, heart-rate zones and exercise sets."""

from __future__ import annotations

from datetime import datetime, timedelta

from ingestor_garmin.demo.day import Record, iso_time
from ingestor_garmin.demo.state import UserState


class ActivityPayloads(UserState):
    """The activity_* data types: one record per activity, drawn when its type is asked for."""

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
                    "startTimeGMT": iso_time(start),
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
