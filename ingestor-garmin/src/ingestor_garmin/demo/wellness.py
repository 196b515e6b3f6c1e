"""The daily wellness time series: steps, heart rate, body battery, stress, intensity, floors, events."""

from __future__ import annotations

from collections.abc import Iterator

from ingestor_garmin.demo.day import LAST_DAY, LOCAL_OFFSET, USER_ID, Day, Record, epoch_ms, iso_time
from ingestor_garmin.demo.state import UserState


class Wellness(UserState):
    """One day's wellness records, sampled over the whole day."""

    def steps(self, day: Day) -> Iterator[Record]:
        rng = self.rng
        for quarter in range(96):
            awake = 28 <= quarter <= 90
            steps = rng.randint(0, 1600) if awake and rng.random() < 0.6 else 0
            level = "sleeping" if not awake else ("active" if steps > 900 else "sedentary")
            yield {
                "startGMT": iso_time(day.gmt(quarter * 15)),
                "endGMT": iso_time(day.gmt(quarter * 15 + 15)),
                "steps": steps,
                "pushes": 0,
                "primaryActivityLevel": level,
                "activityLevelConstant": steps == 0,
                "date": day.iso,
                "data_type": "steps",
            }

    def heart_rate(self, day: Day) -> Record:
        rng = self.rng
        self.rhr = max(42, min(58, self.rhr + rng.randint(-1, 1)))
        values: list[list[int | None]] = [
            [epoch_ms(day.gmt(m)), rng.randint(self.rhr, self.rhr + 60)] for m in range(0, 24 * 60, 4)
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

    def rhr_daily(self, day: Day) -> Record:
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

    def _battery_levels(self, day: Day, step: int) -> list[tuple[int, int]]:
        rng = self.rng
        level, out = rng.randint(15, 35), []
        for m in range(0, 24 * 60, step):
            level = max(5, min(100, level + (rng.randint(1, 4) if m < 7 * 60 else -rng.randint(0, 2))))
            out.append((epoch_ms(day.gmt(m)), level))
        return out

    def body_battery(self, day: Day) -> Record:
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
                "eventTimestampGmt": iso_time(day.gmt(18 * 60)),
                "bodyBatteryLevel": "MODERATE",
                "feedbackShortType": "DAY_RECOVERING_AND_INACTIVE",
                "feedbackLongType": "DAY_RECOVERING_AND_INACTIVE",
            },
            "bodyBatteryActivityEvent": [
                {
                    "eventType": "SLEEP",
                    "eventStartTimeGmt": iso_time(start),
                    "timezoneOffset": int(LOCAL_OFFSET.total_seconds() * 1000),
                    "durationInMilliseconds": int((end - start).total_seconds() * 1000),
                    "bodyBatteryImpact": self.rng.randint(20, 70),
                    "feedbackType": "GOOD_SLEEP_HISTORY",
                    "shortFeedback": "RESTFUL_PERIOD",
                }
            ],
            "data_type": "body_battery",
        }

    def stress(self, day: Day) -> Record:
        rng = self.rng
        stress = [
            [epoch_ms(day.gmt(m)), rng.choice([-1, -2]) if rng.random() < 0.08 else rng.randint(0, 99)]
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

    def intensity_minutes(self, day: Day) -> Record:
        rng = self.rng
        values = [[epoch_ms(day.gmt(q * 15)), rng.randint(0, 15)] for q in range(32, 88) if rng.random() < 0.2]
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

    def floors(self, day: Day) -> Record:
        rng = self.rng
        rows = [
            [iso_time(day.gmt(q * 15)), iso_time(day.gmt(q * 15 + 15)), rng.randint(0, 4), rng.randint(0, 4)]
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

    def all_day_events(self, day: Day) -> Iterator[Record]:
        rng = self.rng
        for _ in range(rng.randint(1 if day.day == LAST_DAY else 0, 2)):
            start = day.gmt(rng.randint(8 * 60, 20 * 60))
            yield {
                "userProfilePK": USER_ID,
                "calendarDate": day.iso,
                "startTimestampGMT": iso_time(start),
                "startTimestampLocal": iso_time(start + LOCAL_OFFSET),
                "timezoneOffset": int(LOCAL_OFFSET.total_seconds() * 1000),
                "activityType": rng.choice(["walking", "running", "cycling"]),
                "duration": rng.randint(10, 45) * 60000,
                "autoActivityType": "AUTO_DETECTED",
                "date": day.iso,
                "data_type": "all_day_events",
            }
