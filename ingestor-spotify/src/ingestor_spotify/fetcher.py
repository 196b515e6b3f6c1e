"""Fetch the Spotify Web API (OAuth refresh-token flow) into the landing zone.

Settings (`SpotifySettings`, from the environment): `SPOTIFY_CLIENT_ID`, `SPOTIFY_CLIENT_SECRET`,
`SPOTIFY_REFRESH_TOKEN` (required);
`INGESTOR_SPOTIFY_ACCOUNTS_URL` (default https://accounts.spotify.com, token at `/api/token`),
`INGESTOR_SPOTIFY_API_URL` (default https://api.spotify.com/v1), `INGESTOR_SPOTIFY_ENRICHMENT`
(`auto` default, `batch` or `single`: see below).

Files: `{ts}_spotify_{type}.jsonl`, and `{ts}_artist_enrichment.jsonl` / `{ts}_album_enrichment.jsonl`
(the existing naming of the enrichment files), one API object per line: a play-history item,
a saved item `{added_at, track|album}`, a top track/artist (with `time_range`: the three ranges
are fetched), a followed artist, a playlist, the `/me` profile, a full artist/album plus
`enriched_at` (UTC, ISO-8601).

Bookmarks:
- recently_played: the `after` cursor (epoch ms of the newest play written); the next run asks
  for plays after it. Without one (or on a backfill) pages go back in time with `before`.
- saved_tracks, saved_albums: the newest `added_at` written (lists are newest first; paging
  stops at the bookmark). `--limit` keeps the newest N: use `--since` to backfill older ones.
- top_tracks, top_artists, followed_artists, playlists, user_profile (snapshots): a digest of
  what was written; an unchanged snapshot is not written again.
- artist_enrichment, album_enrichment: ids already enriched and ids seen but not enriched yet
  (from the plays, saved items and top lists fetched, in this run or an earlier one).

Enrichment: `GET /artists?ids=` and `GET /albums?ids=` (several at once) have been withdrawn for
new and development-mode apps (Spotify Web API changes of late 2024 onwards). `auto` tries the
batch endpoint once and falls back to one `GET /artists/{id}` per id on 403/404/410; `single`
never tries it; `batch` never falls back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

import httpx

from ingestor import (
    BookmarkStore,
    ConfigError,
    FetchError,
    FetchRequest,
    FetchResult,
    TypeFetch,
    get_json,
    http_client,
    run_fetch,
)
from ingestor_spotify.auth import SpotifyAuth, credentials
from ingestor_spotify.settings import SpotifySettings

SERVICE = "spotify"
TIME_RANGES = ("short_term", "medium_term", "long_term")
MAX_PAGES = 500
BATCH_SIZE = {"artists": 50, "albums": 20}
ENRICHMENT = {"artist_enrichment": "artists", "album_enrichment": "albums"}

log = logging.getLogger("ingestor.fetch.spotify")


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _start_iso(request: FetchRequest) -> str | None:
    start = request.start
    return None if start is None else datetime.combine(start, time(), UTC).isoformat().replace("+00:00", "Z")


class SpotifyFetcher:
    """The ten data types; ids of artists and albums seen along the way feed the enrichments."""

    def __init__(self, client: httpx.Client, enrichment: str = "auto") -> None:
        self.client = client
        self.seen: dict[str, set[str]] = {"artists": set(), "albums": set()}
        self.mode = enrichment.strip().lower()
        if self.mode not in ("auto", "batch", "single"):
            raise ConfigError("INGESTOR_SPOTIFY_ENRICHMENT must be auto, batch or single")

    def fetchers(self) -> dict[str, Any]:
        """Data type -> fetch function, in fetch order (enrichment last)."""
        return {
            "recently_played": self.recently_played,
            "saved_tracks": lambda task: self.saved(task, "me/tracks", "track"),
            "saved_albums": lambda task: self.saved(task, "me/albums", "album"),
            "top_artists": lambda task: self.top(task, "artists"),
            "top_tracks": lambda task: self.top(task, "tracks"),
            "followed_artists": self.followed_artists,
            "playlists": self.playlists,
            "user_profile": self.user_profile,
            "artist_enrichment": lambda task: self.enrich(task, "artists"),
            "album_enrichment": lambda task: self.enrich(task, "albums"),
        }

    # --- ids seen ---

    def _see_track(self, track: Any) -> None:
        if isinstance(track, dict):
            self._see_artists(track.get("artists"))
            self._see_album(track.get("album"))

    def _see_album(self, album: Any) -> None:
        if isinstance(album, dict):
            if isinstance(album.get("id"), str):
                self.seen["albums"].add(album["id"])
            self._see_artists(album.get("artists"))

    def _see_artists(self, artists: Any) -> None:
        for artist in artists if isinstance(artists, list) else []:
            if isinstance(artist, dict) and isinstance(artist.get("id"), str):
                self.seen["artists"].add(artist["id"])

    # --- paging ---

    def _offset_pages(self, path: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Pages of an offset-paged list (`limit`/`offset`, until `next` is null)."""
        offset = 0
        for _ in range(MAX_PAGES):
            page = get_json(self.client, path, limit=50, offset=offset, **params)
            items = [item for item in page.get("items") or [] if isinstance(item, dict)]
            yield items
            offset += len(items)
            if not items or not page.get("next"):
                return
        raise FetchError(f"GET {path}: more than {MAX_PAGES} pages")

    # --- data types ---

    def recently_played(self, task: TypeFetch) -> None:
        """Plays after the bookmark (`after` cursor), else back in time with `before`."""
        since = _start_iso(task.request)
        floor = _ms(since) - 1 if since else int(task.bookmark or 0)
        plays: list[dict[str, Any]] = []
        forward = bool(task.bookmark) and since is None
        cursor: dict[str, Any] = {"after": task.bookmark} if forward else {}
        for _ in range(MAX_PAGES):
            page = get_json(self.client, "me/player/recently-played", limit=50, **cursor)
            items = [i for i in page.get("items") or [] if isinstance(i, dict) and i.get("played_at")]
            plays.extend(i for i in items if _ms(i["played_at"]) > floor)
            cursors = page.get("cursors") or {}
            if not items or not page.get("next") or not cursors:
                break
            if forward:
                cursor = {"after": cursors.get("after")}
            elif min(_ms(i["played_at"]) for i in items) <= floor:
                break
            else:
                cursor = {"before": cursors.get("before")}
        unique = {(p["played_at"], (p.get("track") or {}).get("id")): p for p in plays}
        ordered = sorted(unique.values(), key=lambda p: _ms(p["played_at"]))
        if task.remaining is not None and len(ordered) > task.remaining:
            ordered = ordered[-task.remaining :]
            task.note("--limit: kept the newest plays")
        for play in ordered:
            self._see_track(play.get("track"))
        task.write(ordered)
        if ordered:
            newest = _ms(ordered[-1]["played_at"])
            task.bookmark = str(max(newest, int(task.bookmark or 0)))

    def saved(self, task: TypeFetch, path: str, key: str) -> None:
        """Saved tracks or albums added after the bookmark (or since `--since`), newest first."""
        since = _start_iso(task.request)
        floor = since if since else task.bookmark
        new: list[dict[str, Any]] = []
        done = False
        for items in self._offset_pages(path):
            for item in items:
                added = item.get("added_at")
                if floor and isinstance(added, str) and _ms(added) <= _ms(floor) - (1 if since else 0):
                    done = True
                    break
                new.append(item)
                if task.remaining is not None and len(new) >= task.remaining:
                    task.note("--limit reached: older items not fetched (use --since to backfill them)")
                    done = True
                    break
            if done:
                break
        for item in new:
            (self._see_track if key == "track" else self._see_album)(item.get(key))
        task.write(new)
        stamps = [i["added_at"] for i in new if isinstance(i.get("added_at"), str)]
        if stamps:
            newest = max(stamps, key=_ms)
            if not task.bookmark or _ms(newest) > _ms(task.bookmark):
                task.bookmark = newest

    def _snapshot(self, task: TypeFetch, records: list[dict[str, Any]]) -> None:
        task.bookmark = task.write_snapshot(records, task.bookmark)

    def top(self, task: TypeFetch, kind: str) -> None:
        """The user's top artists or tracks over the three time ranges (`time_range` added)."""
        records: list[dict[str, Any]] = []
        for time_range in TIME_RANGES:
            for items in self._offset_pages(f"me/top/{kind}", time_range=time_range):
                records.extend({**item, "time_range": time_range} for item in items)
        for item in records:
            if kind == "tracks":
                self._see_track(item)
            elif isinstance(item.get("id"), str):
                self.seen["artists"].add(item["id"])
        self._snapshot(task, records)

    def followed_artists(self, task: TypeFetch) -> None:
        """Followed artists (cursor-paged by artist id)."""
        records: list[dict[str, Any]] = []
        after = None
        for _ in range(MAX_PAGES):
            page = get_json(self.client, "me/following", type="artist", limit=50, after=after).get("artists") or {}
            items = [item for item in page.get("items") or [] if isinstance(item, dict)]
            records.extend(items)
            after = (page.get("cursors") or {}).get("after")
            if not items or not page.get("next") or not after:
                break
        self._see_artists(records)
        self._snapshot(task, records)

    def playlists(self, task: TypeFetch) -> None:
        """The user's playlists (simplified objects)."""
        self._snapshot(task, [item for items in self._offset_pages("me/playlists") for item in items])

    def user_profile(self, task: TypeFetch) -> None:
        """`/me`."""
        self._snapshot(task, [get_json(self.client, "me")])

    def enrich(self, task: TypeFetch, kind: str) -> None:
        """Full artist/album objects for ids seen and not enriched yet."""
        state = task.bookmark or {}
        done = set(state.get("done", []))
        pending = (set(state.get("pending", [])) | self.seen[kind]) - done
        todo = sorted(pending)
        if task.remaining is not None:
            todo = todo[: task.remaining]
        stamp = datetime.now(UTC).isoformat()
        records: list[dict[str, Any]] = []
        missing: list[str] = []
        for start in range(0, len(todo), BATCH_SIZE[kind]):
            chunk = todo[start : start + BATCH_SIZE[kind]]
            found = self._objects(kind, chunk)
            records.extend({**obj, "enriched_at": stamp} for obj in found.values())
            missing.extend(i for i in chunk if i not in found)
        if missing:
            task.note(f"{len(missing)} {kind} not found (skipped): {', '.join(missing[:5])}")
        task.write(records, suffix=f"{kind[:-1]}_enrichment")
        if todo or pending or state:
            task.bookmark = {"done": sorted(done | set(todo)), "pending": sorted(pending - set(todo))}

    def _objects(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """id -> full object, by batch or one by one (see the module doc)."""
        if self.mode != "single":
            try:
                body = get_json(self.client, kind, ids=",".join(ids))
                return {o["id"]: o for o in body.get(kind) or [] if isinstance(o, dict) and o.get("id")}
            except httpx.HTTPStatusError as error:
                if self.mode == "batch" or error.response.status_code not in (403, 404, 410):
                    raise
                log.info("GET /%s?ids= answered %s: fetching %s one by one", kind, error.response.status_code, kind)
                self.mode = "single"
        found: dict[str, dict[str, Any]] = {}
        for item_id in ids:
            response = self.client.get(f"{kind}/{item_id}")
            if response.status_code in (400, 404):
                continue
            response.raise_for_status()
            found[item_id] = response.json()
        return found

    def remember_seen(self, request: FetchRequest) -> None:
        """Ids seen while the enrichments were not requested: keep them pending for a later run."""
        if request.dry_run or not any(self.seen.values()):
            return
        skipped = [t for t in ENRICHMENT if not request.wants(t)]
        if not skipped:
            return
        store = BookmarkStore(request.landing, SERVICE)
        for data_type in skipped:
            state = store.get(data_type) or {}
            done = set(state.get("done", []))
            pending = sorted((set(state.get("pending", [])) | self.seen[ENRICHMENT[data_type]]) - done)
            store.set(data_type, {"done": sorted(done), "pending": pending})
        store.save(request.now)


def fetch_spotify(request: FetchRequest) -> FetchResult:
    """Fetch the Spotify data types of the account behind `SPOTIFY_REFRESH_TOKEN`."""
    settings = request.settings_as(SpotifySettings)
    client_id, client_secret, refresh_token = credentials(settings)
    with (
        http_client(SERVICE, settings.accounts_url, settings=request.http) as accounts,
        http_client(SERVICE, settings.api_url, settings=request.http) as client,
    ):
        client.auth = SpotifyAuth(accounts, client_id, client_secret, refresh_token)
        fetcher = SpotifyFetcher(client, settings.enrichment)
        result = run_fetch(SERVICE, request, fetcher.fetchers())
        fetcher.remember_seen(request)
        return result
