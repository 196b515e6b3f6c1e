"""The daily summary types: user_summary and stats_and_body (the summary with the day's weigh-in)."""

from __future__ import annotations

from datetime import timedelta

from ingestor_garmin.demo.day import USER_ID, Day, Record, epoch_ms, iso_time
from ingestor_garmin.demo.state import UserState


class Summaries(UserState):
    """The day's summary, drawn afresh for each type that carries it."""

    def _summary(self, day: Day) -> Record:
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
            "wellnessStartTimeGmt": iso_time(day.gmt_start),
            "wellnessStartTimeLocal": iso_time(day.local_start),
            "wellnessEndTimeGmt": iso_time(day.gmt_end),
            "wellnessEndTimeLocal": iso_time(day.local_start + timedelta(days=1)),
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
            "latestSpo2ReadingTimeGmt": iso_time(day.gmt(6 * 60)),
            "avgWakingRespirationValue": float(rng.randint(13, 17)),
        }

    def user_summary(self, day: Day) -> Record:
        return {**self._summary(day), "date": day.iso, "data_type": "user_summary"}

    def stats_and_body(self, day: Day) -> Record:
        weighed = self.weigh_ins.get(day.iso, [])
        last = weighed[-1] if weighed else {}
        return {
            **self._summary(day),
            "from": epoch_ms(day.gmt_start),
            "until": epoch_ms(day.gmt_end) - 1,
            **{k: last.get(k) for k in ("weight", "bmi", "bodyFat", "bodyWater", "boneMass", "muscleMass")},
            "date": day.iso,
            "data_type": "stats_and_body",
        }
