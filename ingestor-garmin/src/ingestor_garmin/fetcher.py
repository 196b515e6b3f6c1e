"""Fetch Garmin Connect (through the `garminconnect` library) into the landing zone.

Settings (`GarminSettings`, from the environment): `GARMIN_TOKENS` (the library's token store: a
folder holding `garmin_tokens.json`, or that file), else `GARMIN_USERNAME` + `GARMIN_PASSWORD` (a
fresh login; the tokens are then saved to `GARMIN_TOKENS` when set, so later runs need no password
and no MFA); `INGESTOR_GARMIN_API_URL` (default https://connectapi.garmin.com), `INGESTOR_GARMIN_DAYS`
(days fetched by a first run without `--days`/`--since`, default 7).

Files: `{ts}_garmin_{type}.jsonl`, one record per line as the old fetchers wrote them: the API
object plus `data_type`, and `date` (YYYY-MM-DD) on daily metrics; lists (steps, training
readiness, all-day events, weigh-ins) give one line per element; activity_* records carry
`activityId`, `activityName`, `activityType`, `startTimeLocal` next to their payload
(`detailed_data`, `splits`/`typed_splits`/`split_summaries`, `weather_data`, `hr_zones_data`,
`exercise_sets_data`).

Bookmarks (daily types, activities and activity_*, endurance and hill scores): the last
*closed* day fetched (`through`, a day before the run's UTC date) and a digest of today's
records. The next run fetches from the day after `through` to today, so today is fetched
again until it is over; an unchanged today is not written twice. device_info and
race_predictions are snapshots (a digest of what was written).

HTTP: the library uses `requests`; a urllib3 `Retry` (429 with Retry-After, 5xx, connection
errors, with backoff, as `request.http` says) is mounted on its sessions, and its API host is pointed at
`INGESTOR_GARMIN_API_URL`. Both go through two private attributes of `garminconnect.Client`
(`_connectapi`, `_fresh_api_session`), checked at start: the dependency is pinned below 0.4.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, timedelta
from functools import partial
from typing import Any

from ingestor import (
    AuthError,
    ConfigError,
    FetchError,
    FetchRequest,
    FetchResult,
    HttpSettings,
    TypeFetch,
    digest,
    run_fetch,
)
from ingestor_garmin.endpoints import COPIED, DAILY, PER_ACTIVITY, RANGES
from ingestor_garmin.settings import GarminSettings

SERVICE = "garmin"
log = logging.getLogger("ingestor.fetch.garmin")
Record = dict[str, Any]


def _records(value: Any) -> list[Record]:
    """An API answer as records: an object (not empty) is one, a list gives its objects."""
    if isinstance(value, dict):
        return [value] if value else []
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _status(error: Exception) -> int | None:
    found = re.search(r"\b(?:API Error|status=?)\s*(\d{3})\b", str(error))
    return int(found.group(1)) if found else None


class GarminFetcher:
    """The 29 data types over a window of days, through one logged-in `garminconnect.Garmin`."""

    def __init__(self, settings: GarminSettings, http: HttpSettings) -> None:
        self.settings = settings
        self.http = http
        self.base_url = settings.api_url.rstrip("/")
        self._api: Any = None
        self._activities: dict[tuple[date, date], list[Record]] = {}

    # --- the library ---

    @property
    def api(self) -> Any:
        """The logged-in client (logging in on first use)."""
        if self._api is None:
            self._api = self._login()
        return self._api

    def _login(self) -> Any:
        try:
            import garminconnect
        except ImportError as error:
            raise ConfigError("Garmin fetching needs the garminconnect package: pip install ingestor-garmin") from error
        tokens, username, password = self.settings.login
        if not tokens and not (username and password):
            raise ConfigError("Garmin credentials missing: set GARMIN_TOKENS, or GARMIN_USERNAME and GARMIN_PASSWORD")
        api = garminconnect.Garmin(username, password)
        self._configure(api.client)
        try:
            api.login(tokens)
        except garminconnect.GarminConnectAuthenticationError as error:
            raise AuthError(f"Garmin refused the login: {_first_line(error)} (check GARMIN_TOKENS, "
                            "or GARMIN_USERNAME/GARMIN_PASSWORD)") from error  # fmt: skip
        except Exception as error:  # the library wraps network and HTTP errors in several types
            raise FetchError(f"Garmin login failed: {type(error).__name__}: {_first_line(error)}") from error
        return api

    def _configure(self, client: Any) -> None:
        """Point the library at the API URL and mount retries on its HTTP sessions."""
        import requests
        from urllib3.util.retry import Retry

        if not hasattr(client, "_connectapi") or not hasattr(client, "_fresh_api_session"):
            raise FetchError("unsupported garminconnect version: expected Client._connectapi/_fresh_api_session")
        client._connectapi = self.base_url
        retry = Retry(
            total=max(self.http.attempts - 1, 0),
            status_forcelist=(429, 500, 502, 503, 504),
            backoff_factor=self.http.backoff,
            backoff_max=self.http.max_wait,
            respect_retry_after_header=True,
            allowed_methods=("GET",),
            raise_on_status=False,
        )

        def session() -> requests.Session:
            fresh = requests.Session()
            adapter = requests.adapters.HTTPAdapter(max_retries=retry)
            fresh.mount("https://", adapter)
            fresh.mount("http://", adapter)
            return fresh

        client._fresh_api_session = session

    def call(self, method: str, *args: Any) -> Any:
        """One library call; HTTP failures become FetchError/AuthError with the status."""
        try:
            return getattr(self.api, method)(*args)
        except (AuthError, FetchError, ConfigError):
            raise
        except Exception as error:
            status = _status(error)
            if status == 401 or type(error).__name__ == "GarminConnectAuthenticationError":
                raise AuthError(f"Garmin refused the session ({method}): log in again (GARMIN_TOKENS)") from error
            raise FetchError(f"{method}({', '.join(map(str, args))}): {_first_line(error)}") from error

    # --- data types ---

    def _days(self, request: FetchRequest, bookmark: Any) -> list[date]:
        """The days to fetch: the backfill window, else the day after the bookmark (or a first run's
        `INGESTOR_GARMIN_DAYS`) up to today (UTC)."""
        today = request.now.astimezone(UTC).date()
        start = request.start
        if start is None and isinstance(bookmark, dict) and bookmark.get("through"):
            start = date.fromisoformat(bookmark["through"]) + timedelta(days=1)
        if start is None:
            start = today - timedelta(days=max(self.settings.days, 1) - 1)
        return [start + timedelta(days=n) for n in range((today - start).days + 1)]

    def fetchers(self) -> dict[str, Callable[[TypeFetch], None]]:
        """Data type -> fetch function."""
        table: dict[str, Callable[[TypeFetch], None]] = {"activities": self.activities}
        for name, parts in PER_ACTIVITY.items():
            table[name] = partial(self.per_activity, parts=parts)
        for name, method in DAILY.items():
            table[name] = partial(self.daily, method=method)
        table["device_info"] = lambda task: self.snapshot(task, _records(self.call("get_devices")))
        table["race_predictions"] = lambda task: self.snapshot(task, _records(self.call("get_race_predictions")))
        for name, method in RANGES.items():
            table[name] = partial(self.range, method=method)
        return table

    def _by_day(self, task: TypeFetch, fetch_day: Callable[[date], list[Record]]) -> None:
        """Fetch day by day; write closed days, and today when it changed; move the bookmark."""
        bookmark = task.bookmark if isinstance(task.bookmark, dict) else {}
        today = task.request.now.astimezone(UTC).date()
        through = bookmark.get("through")
        today_digest = bookmark.get("today") or {}
        written: list[Record] = []
        for day in self._days(task.request, bookmark):
            records = fetch_day(day)
            if day >= today:
                fingerprint = digest(records)
                if today_digest.get(day.isoformat()) == fingerprint and task.request.start is None:
                    continue
                today_digest = {day.isoformat(): fingerprint}
            remaining = None if task.remaining is None else task.remaining - len(written)
            if remaining is not None and len(records) > remaining:
                written.extend(records[:remaining])
                task.note(f"--limit reached on {day}")
                today_digest = {}
                break
            written.extend(records)
            if day < today and (through is None or day.isoformat() > through):
                through = day.isoformat()
        task.write(written)
        state = {"through": through, "today": {k: v for k, v in today_digest.items() if through is None or k > through}}
        if state != {"through": None, "today": {}}:
            task.bookmark = state

    def daily(self, task: TypeFetch, method: str) -> None:
        """A daily metric: the day's object (or each element of the day's list) + date + data_type."""

        def one(day: date) -> list[Record]:
            answer = self.call(method, day.isoformat())
            if task.data_type == "weight":
                entries = answer.get("dateWeightList") if isinstance(answer, dict) else answer
                return [{**e, "summaryDate": day.isoformat(), "data_type": "weight"} for e in _records(entries)]
            return [{**r, "date": day.isoformat(), "data_type": task.data_type} for r in _records(answer)]

        self._by_day(task, one)

    def _activity_list(self, start: date, end: date) -> list[Record]:
        if (start, end) not in self._activities:
            found = _records(self.call("get_activities_by_date", start.isoformat(), end.isoformat()))
            self._activities[(start, end)] = found
        return self._activities[(start, end)]

    def _activities_of(self, task: TypeFetch, day: date) -> list[Record]:
        days = self._days(task.request, task.bookmark)
        everything = self._activity_list(days[0], days[-1]) if days else []
        return [a for a in everything if str(a.get("startTimeLocal") or a.get("startTimeGMT") or "")[:10] == str(day)]

    def activities(self, task: TypeFetch) -> None:
        """The activities started on each day of the window."""
        self._by_day(task, lambda day: [{**a, "data_type": "activities"} for a in self._activities_of(task, day)])

    def per_activity(self, task: TypeFetch, parts: dict[str, str]) -> None:
        """One record per activity of the window with its payload(s) (exercise sets: strength only)."""

        def one(day: date) -> list[Record]:
            out = []
            for activity in self._activities_of(task, day):
                activity_id = activity.get("activityId")
                kind = (activity.get("activityType") or {}).get("typeKey")
                if activity_id is None or (task.data_type == "activity_exercise_sets" and kind != "strength_training"):
                    continue
                payload = {key: self.call(method, activity_id) for key, method in parts.items()}
                if not any(payload.values()):
                    continue  # no data for this activity (e.g. no weather station)
                if task.data_type == "activity_details":
                    out.append({**activity, **payload, "data_type": task.data_type})
                else:
                    copied = {k: activity.get(k) for k in COPIED}
                    out.append({**copied, **payload, "data_type": task.data_type})
            return out

        self._by_day(task, one)

    def range(self, task: TypeFetch, method: str) -> None:
        """Endurance or hill score over the window: one record (the range answer)."""
        days = self._days(task.request, task.bookmark)

        def one(day: date) -> list[Record]:
            if day != days[-1]:
                return []
            answer = self.call(method, days[0].isoformat(), day.isoformat())
            return [{**r, "data_type": task.data_type} for r in _records(answer)]

        self._by_day(task, one)

    def snapshot(self, task: TypeFetch, records: list[Record]) -> None:
        """device_info, race_predictions: written when they changed."""
        task.bookmark = task.write_snapshot([{**r, "data_type": task.data_type} for r in records], task.bookmark)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def fetch_garmin(request: FetchRequest) -> FetchResult:
    """Fetch the Garmin Connect data types of the account behind GARMIN_TOKENS (or username/password)."""
    settings = request.settings_as(GarminSettings)
    if not (settings.tokens or (settings.username and settings.password)):
        raise ConfigError("Garmin credentials missing: set GARMIN_TOKENS, or GARMIN_USERNAME and GARMIN_PASSWORD")
    fetcher = GarminFetcher(settings, request.http)
    return run_fetch(SERVICE, request, fetcher.fetchers())
