"""The scale's weigh-ins (about half of the days) and the weight and body composition types built on them."""

from __future__ import annotations

from collections.abc import Iterator

from ingestor_garmin.demo.day import LOCAL_OFFSET, Day, Record, epoch_ms
from ingestor_garmin.demo.state import UserState


class Body(UserState):
    """The weigh-ins, drawn once when the user is created, and the records made from them."""

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
                    "samplePk": epoch_ms(moment) + 27000,
                    "date": epoch_ms(moment + LOCAL_OFFSET),
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
                    "timestampGMT": epoch_ms(moment),
                    "weightDelta": round(self.mass - previous, 1),
                }
            ]
        return weights

    def weight(self, day: Day) -> Iterator[Record]:
        for entry in self.weigh_ins.get(day.iso, []):
            yield {**entry, "summaryDate": day.iso, "data_type": "weight"}

    def body_composition(self, day: Day) -> Record:
        entries = self.weigh_ins.get(day.iso, [])
        keys = ("weight", "bmi", "bodyFat", "bodyWater", "boneMass", "muscleMass")
        return {
            "startDate": day.iso,
            "endDate": day.iso,
            "dateWeightList": entries,
            "totalAverage": {
                "from": epoch_ms(day.gmt_start),
                "until": epoch_ms(day.gmt_end) - 1,
                **{k: (entries[-1][k] if entries else None) for k in keys},
                "physiqueRating": None,
                "visceralFat": None,
                "metabolicAge": None,
            },
            "date": day.iso,
            "data_type": "body_composition",
        }
