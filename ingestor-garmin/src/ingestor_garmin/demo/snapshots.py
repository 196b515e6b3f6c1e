"""The snapshot types: the devices (written once) and the race predictions from the current VO2 max."""

from __future__ import annotations

from collections.abc import Iterator

from ingestor_garmin.demo.day import SCALE_ID, USER_ID, WATCH, WATCH_ID, Day, Record, epoch_ms
from ingestor_garmin.demo.state import UserState


class Snapshots(UserState):
    """Values the user has now rather than measurements of the day."""

    def device_info(self, day: Day) -> Iterator[Record]:
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
                "lastSyncTime": epoch_ms(day.gmt(23 * 60)),
                "released": True,
                "data_type": "device_info",
            }

    def race_predictions(self, day: Day) -> Record:
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
