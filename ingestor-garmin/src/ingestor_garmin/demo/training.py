"""The training metrics: VO2 max, training status and readiness, endurance and hill scores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from ingestor_garmin.demo.day import LOCAL_OFFSET, USER_ID, WATCH, WATCH_ID, Day, Record, epoch_ms, iso_time
from ingestor_garmin.demo.state import UserState


class Training(UserState):
    """The training data types; endurance and hill scores cover a window of days."""

    def _acclimation(self, day: Day) -> Record:
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
            "altitudeAcclimationLocalTimestamp": iso_time(day.local_start + timedelta(minutes=16)),
        }

    def max_metrics(self, day: Day) -> Record:
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

    def training_status(self, day: Day) -> Record:
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
                        "timestamp": epoch_ms(day.gmt(22 * 60)),
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

    def training_readiness(self, day: Day) -> Iterator[Record]:
        rng = self.rng
        for hour in sorted(rng.sample(range(6, 22), rng.randint(1, 3))):
            moment = day.gmt(hour * 60 + rng.randint(0, 59))
            yield {
                "userProfilePK": USER_ID,
                "calendarDate": day.iso,
                "timestamp": iso_time(moment),
                "timestampLocal": iso_time(moment + LOCAL_OFFSET),
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

    def endurance_score(self, days: list[Day]) -> Record:
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

    def hill_score(self, days: list[Day]) -> Record:
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
