"""Last night's data types: sleep, HRV, SpO2 and respiration, around the day's sleep window."""

from __future__ import annotations

from datetime import timedelta

from ingestor_garmin.demo.day import LOCAL_OFFSET, USER_ID, WATCH_ID, Day, Record, epoch_ms, iso_time
from ingestor_garmin.demo.state import UserState


class Nights(UserState):
    """The data types measured around the night before each day."""

    def sleep(self, day: Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        start += timedelta(minutes=rng.randint(-40, 40))
        end += timedelta(minutes=rng.randint(-30, 50))
        seconds = int((end - start).total_seconds())
        deep, rem, awake = rng.randint(3600, 6000), rng.randint(3600, 7000), rng.randint(120, 1800)
        levels, cursor = [], start
        while cursor < end:
            step = min(end, cursor + timedelta(minutes=rng.randint(10, 60)))
            levels.append(
                {"startGMT": iso_time(cursor), "endGMT": iso_time(step), "activityLevel": float(rng.randint(0, 3))}
            )
            cursor = step
        minutes = int((end - start).total_seconds() // 60)
        return {
            "dailySleepDTO": {
                "id": epoch_ms(start),
                "userProfilePK": USER_ID,
                "calendarDate": day.iso,
                "sleepTimeSeconds": seconds - awake,
                "napTimeSeconds": 0,
                "sleepWindowConfirmed": True,
                "sleepWindowConfirmationType": "enhanced_confirmed_final",
                "sleepStartTimestampGMT": epoch_ms(start),
                "sleepEndTimestampGMT": epoch_ms(end),
                "sleepStartTimestampLocal": epoch_ms(start + LOCAL_OFFSET),
                "sleepEndTimestampLocal": epoch_ms(end + LOCAL_OFFSET),
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
                    "startGMT": iso_time(start + timedelta(minutes=m)),
                    "endGMT": iso_time(start + timedelta(minutes=m + 10)),
                    "activityLevel": round(rng.uniform(0, 1.5), 3),
                }
                for m in range(0, minutes, 10)
            ],
            "remSleepData": True,
            "sleepLevels": levels,
            "sleepHeartRate": [
                {"value": rng.randint(42, 60), "startGMT": epoch_ms(start + timedelta(minutes=m))}
                for m in range(0, minutes, 10)
            ],
            "wellnessSpO2SleepSummaryDTO": {
                "userProfilePk": USER_ID,
                "deviceId": WATCH_ID,
                "sleepMeasurementStartGMT": iso_time(start),
                "sleepMeasurementEndGMT": iso_time(end),
                "averageSPO2": float(rng.randint(91, 97)),
                "lowestSPO2": rng.randint(84, 90),
            },
            "restingHeartRate": self.rhr,
            "bodyBatteryChange": rng.randint(20, 70),
            "date": day.iso,
            "data_type": "sleep",
        }

    def hrv(self, day: Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        readings: list[Record] = [
            {
                "hrvValue": rng.randint(28, 75),
                "readingTimeGMT": iso_time(start + timedelta(minutes=m)),
                "readingTimeLocal": iso_time(start + LOCAL_OFFSET + timedelta(minutes=m)),
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
                "createTimeStamp": iso_time(end + timedelta(minutes=3)),
            },
            "hrvReadings": readings,
            "startTimestampGMT": iso_time(start),
            "endTimestampGMT": iso_time(end),
            "startTimestampLocal": iso_time(start + LOCAL_OFFSET),
            "endTimestampLocal": iso_time(end + LOCAL_OFFSET),
            "sleepStartTimestampGMT": iso_time(start),
            "sleepEndTimestampGMT": iso_time(end),
            "date": day.iso,
            "data_type": "hrv",
        }

    def spo2(self, day: Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        hourly = [[epoch_ms(start + timedelta(hours=h)), rng.randint(90, 98)] for h in range(8)]
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "sleepStartTimestampGMT": iso_time(start),
            "sleepEndTimestampGMT": iso_time(end),
            "averageSpO2": float(rng.randint(92, 97)),
            "lowestSpO2": rng.randint(84, 91),
            "lastSevenDaysAvgSpO2": round(rng.uniform(92, 96), 1),
            "latestSpO2": rng.randint(92, 99),
            "latestSpO2TimestampGMT": iso_time(end),
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

    def respiration(self, day: Day) -> Record:
        rng = self.rng
        start, end = day.sleep_window()
        values = [[epoch_ms(day.gmt(m)), round(rng.uniform(8, 20), 2)] for m in range(0, 24 * 60, 10)]
        values[0][1] = float(rng.randint(12, 15))
        averages = [
            [epoch_ms(day.gmt(h * 60)), *sorted(round(rng.uniform(8, 20), 2) for _ in range(3))] for h in range(24)
        ]
        return {
            "userProfilePK": USER_ID,
            "calendarDate": day.iso,
            **day.bounds(),
            "sleepStartTimestampGMT": iso_time(start),
            "sleepEndTimestampGMT": iso_time(end),
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
