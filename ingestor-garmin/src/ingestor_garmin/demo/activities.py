"""The demo user's activities: about two days in three, a strength session on the last day."""

from __future__ import annotations

from ingestor_garmin.demo.day import LOCAL_OFFSET, USER_ID, WATCH_ID, Day, Record, epoch_ms
from ingestor_garmin.demo.state import UserState

_ACTIVITY_TYPES = [
    ("running", 1, 1),
    ("trail_running", 6, 1),
    ("cycling", 2, 17),
    ("hiking", 3, 17),
    ("walking", 9, 17),
    ("strength_training", 13, 29),
]


class Activities(UserState):
    """The activity list of one day, drawn once per day when the user is created."""

    def _activities(self, index: int, day: Day, last: bool) -> list[Record]:
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
            "beginTimestamp": epoch_ms(start),
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
