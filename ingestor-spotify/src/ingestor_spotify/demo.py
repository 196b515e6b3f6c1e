"""A deterministic demo landing zone: every Spotify data type, shaped like the real API payloads.

The calendar is fixed (the demo ends on `END`), so the same seed gives the same bytes on any
day. The 21 default days span the switch to summer time in Europe/Paris, so the enrichment
files carry both +01:00 and +02:00 offsets, as the real fetchers write them.
"""

from __future__ import annotations

import json
import random
import string
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

END = datetime(2026, 4, 5, tzinfo=UTC)
LANDING = "spotify/landing/"
MARKETS = ["DE", "FR", "NL"]
API = "https://api.spotify.com/v1"

_ADJECTIVES = [
    "Silver",
    "Midnight",
    "Electric",
    "Hollow",
    "Golden",
    "Quiet",
    "Neon",
    "Wild",
    "Paper",
    "Crimson",
    "Velvet",
    "Northern",
    "Broken",
    "Lucky",
    "Frozen",
    "Distant",
]
_NOUNS = [
    "Harbor",
    "Engines",
    "Lanterns",
    "Wolves",
    "Echo",
    "Orchard",
    "Satellite",
    "Rivers",
    "Static",
    "Parade",
    "Glass",
    "Meridian",
    "Tides",
    "Machines",
    "Gardens",
    "Signal",
]
_GENRES = ["indie rock", "synthwave", "power metal", "dream pop", "french house", "jazz", "folk", "techno"]
_LABELS = ["Harbor Records", "Static Sound", "Meridian Music", "Orchard Tapes"]
_ID_ALPHABET = string.ascii_letters + string.digits

Obj = dict[str, Any]


def _paris(moment: datetime) -> datetime:
    """The moment in Europe/Paris time (CET/CEST, EU rule: last Sundays of March and October, 01:00 UTC)."""

    def last_sunday(month: int) -> datetime:
        day = date(moment.year, month, 31)
        return datetime(moment.year, month, day.day - (day.weekday() + 1) % 7, 1, tzinfo=UTC)

    summer = last_sunday(3) <= moment < last_sunday(10)
    return moment.astimezone(timezone(timedelta(hours=2 if summer else 1)))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y_%m_%d_%H_%M")


def _iso_z(moment: datetime, millis: bool = False) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


class _Demo:
    """A small fake catalogue and a listener who plays, saves and follows, day after day."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.artists = [self._artist() for _ in range(24)]
        self.albums: list[Obj] = []
        self.tracks_by_album: list[list[Obj]] = []
        for _ in range(40):
            self._album()
        self.tracks = [t for tracks in self.tracks_by_album for t in tracks]
        self.discovered = 12  # the listener knows the first albums and discovers more day after day
        self.favourites = self.rng.sample(self.known_tracks(), 20)
        self.followed = self.rng.sample(self.artists, 6)
        self.playlists = [self._playlist(i) for i in range(5)]
        self.enriched: dict[str, None] = {}  # ids of artists and albums already enriched (ordered)

    # -- the catalogue ----------------------------------------------------------
    def new_id(self) -> str:
        return "".join(self.rng.choice(_ID_ALPHABET) for _ in range(22))

    def _name(self) -> str:
        return f"{self.rng.choice(_ADJECTIVES)} {self.rng.choice(_NOUNS)}"

    def _images(self, sizes: tuple[int | None, ...] = (640, 300, 64)) -> list[Obj]:
        return [
            {"height": size, "url": f"https://i.scdn.co/image/{self.rng.getrandbits(160):040x}", "width": size}
            for size in sizes
        ]

    @staticmethod
    def _links(kind: str, ident: str) -> Obj:
        return {
            "external_urls": {"spotify": f"https://open.spotify.com/{kind}/{ident}"},
            "href": f"{API}/{kind}s/{ident}",
            "id": ident,
        }

    def _artist(self) -> Obj:
        ident = self.new_id()
        return {
            **self._links("artist", ident),
            "followers": {"href": None, "total": self.rng.randint(500, 3_000_000)},
            "genres": self.rng.sample(_GENRES, self.rng.randint(0, 2)),
            "images": self._images(),
            "name": f"The {self._name()}",
            "popularity": self.rng.randint(5, 90),
            "type": "artist",
            "uri": f"spotify:artist:{ident}",
        }

    @staticmethod
    def _artist_ref(artist: Obj) -> Obj:
        keys = ("external_urls", "href", "id", "name", "type", "uri")
        return {k: artist[k] for k in keys}

    def _release(self) -> tuple[str, str]:
        year, month, day = self.rng.randint(1975, 2026), self.rng.randint(1, 12), self.rng.randint(1, 28)
        roll = self.rng.random()
        if roll < 0.1:
            return f"{year}", "year"
        if roll < 0.2:
            return f"{year}-{month:02d}", "month"
        return f"{year}-{month:02d}-{day:02d}", "day"

    def _album(self) -> None:
        ident = self.new_id()
        artists = self.rng.sample(self.artists, 2 if self.rng.random() < 0.15 else 1)
        released, precision = self._release()
        count = self.rng.randint(3, 8)
        album = {
            "album_type": "album" if count > 4 else "single",
            "total_tracks": count,
            "available_markets": MARKETS,
            **self._links("album", ident),
            "images": self._images(),
            "name": self._name(),
            "release_date": released,
            "release_date_precision": precision,
            "type": "album",
            "uri": f"spotify:album:{ident}",
            "artists": [self._artist_ref(a) for a in artists],
        }
        items = []
        for number in range(1, count + 1):
            track_id = self.new_id()
            items.append(
                {
                    "artists": album["artists"],
                    "available_markets": MARKETS,
                    "disc_number": 1,
                    "duration_ms": self.rng.randint(95_000, 420_000),
                    "explicit": self.rng.random() < 0.2,
                    **self._links("track", track_id),
                    "name": self._name(),
                    "preview_url": None,
                    "track_number": number,
                    "type": "track",
                    "uri": f"spotify:track:{track_id}",
                    "is_local": False,
                }
            )
        label = self.rng.choice(_LABELS)
        full = {
            **album,
            "tracks": {
                "href": f"{API}/albums/{ident}/tracks?offset=0&limit=50",
                "limit": 50,
                "next": None,
                "offset": 0,
                "previous": None,
                "total": count,
                "items": items,
            },
            "copyrights": [{"text": f"{released[:4]} {label}", "type": "C"}],
            "external_ids": {"upc": f"{self.rng.randrange(10**11, 10**12)}"},
            "genres": [],
            "label": label,
            "popularity": self.rng.randint(5, 80),
        }
        self.albums.append(full)
        self.tracks_by_album.append([])
        for item in items:
            track = {
                "album": album,
                **{k: v for k, v in item.items() if k != "is_local"},
                "external_ids": {"isrc": f"DEMO{self.rng.randrange(10**7, 10**8)}"},
                "popularity": self.rng.randint(0, 80),
                "is_local": False,
            }
            self.tracks_by_album[-1].append(track)

    def _playlist(self, index: int) -> Obj:
        ident = self.new_id()
        return {
            "collaborative": index == 4,
            "description": "" if index % 2 else "Made for the demo",
            **self._links("playlist", ident),
            "images": self._images((None,)),
            "name": self._name(),
            "owner": {
                "display_name": "Demo Listener",
                **self._links("user", "demo.listener"),
                "type": "user",
                "uri": "spotify:user:demo.listener",
            },
            "primary_color": None,
            "public": index != 3,
            "snapshot_id": self.new_id(),
            "tracks": {"href": f"{API}/playlists/{ident}/tracks", "total": self.rng.randint(5, 60)},
            "type": "playlist",
            "uri": f"spotify:playlist:{ident}",
        }

    # -- a day ----------------------------------------------------------------
    def known_tracks(self) -> list[Obj]:
        """Tracks of the albums discovered so far."""
        return [t for tracks in self.tracks_by_album[: self.discovered] for t in tracks]

    def discover(self) -> None:
        """A day's new albums (their artists and albums get enriched that evening)."""
        self.discovered = min(len(self.albums), self.discovered + self.rng.randint(0, 2))

    def _pick_track(self, known: list[Obj]) -> Obj:
        return self.rng.choice(self.favourites if self.rng.random() < 0.5 else known)

    def _context(self, track: Obj) -> Obj | None:
        roll = self.rng.random()
        if roll < 0.5:
            album = track["album"]
            return {
                "type": "album",
                "external_urls": album["external_urls"],
                "href": album["href"],
                "uri": album["uri"],
            }
        if roll < 0.8:
            playlist = self.rng.choice(self.playlists)
            return {
                "type": "playlist",
                "external_urls": playlist["external_urls"],
                "href": playlist["href"],
                "uri": playlist["uri"],
            }
        return None

    def plays(self, since: datetime, until: datetime) -> list[Obj]:
        """Play-history items between two fetches, most recent first (as the API returns them)."""
        span = int((until - since).total_seconds() * 1000)
        moments = sorted(
            (since + timedelta(milliseconds=self.rng.randrange(span)) for _ in range(self.rng.randint(6, 16))),
            reverse=True,
        )
        known = self.known_tracks()
        items = []
        for moment in moments:
            track = self._pick_track(known)
            items.append({"track": track, "played_at": _iso_z(moment, millis=True), "context": self._context(track)})
        return items

    def enrichment(self, plays: list[Obj], at: datetime) -> tuple[list[Obj], list[Obj]]:
        """Full artists and albums first played today, with the fetcher's `enriched_at` (Paris time)."""
        enriched_at = _paris(at + timedelta(microseconds=self.rng.randrange(10**6))).isoformat()
        artists, albums = [], []
        by_id = {a["id"]: a for a in self.artists}
        for item in plays:
            album = item["track"]["album"]
            for ref in album["artists"]:
                if ref["id"] not in self.enriched:
                    self.enriched[ref["id"]] = None
                    artists.append({**by_id[ref["id"]], "enriched_at": enriched_at})
            if album["id"] not in self.enriched:
                self.enriched[album["id"]] = None
                full = next(a for a in self.albums if a["id"] == album["id"])
                albums.append({**full, "enriched_at": enriched_at})
        return artists, albums

    def profile(self) -> Obj:
        """The `/v1/me` object."""
        return {
            "country": "FR",
            "display_name": "Demo Listener",
            "explicit_content": {"filter_enabled": False, "filter_locked": False},
            **self._links("user", "demo.listener"),
            "followers": {"href": None, "total": 12},
            "images": self._images((300, 64)),
            "product": "premium",
            "type": "user",
            "uri": "spotify:user:demo.listener",
        }


def _ndjson(records: list[Obj]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def landing_files(days: int, seed: int) -> dict[str, bytes]:
    """`{object name: NDJSON bytes}` for `days` days ending on END: all ten data types."""
    demo = _Demo(seed)
    rng = demo.rng
    files: dict[str, bytes] = {}

    def put(moment: datetime, name: str, records: list[Obj]) -> None:
        if records:
            files[f"{LANDING}{_stamp(moment)}_{name}.jsonl"] = _ndjson(records)

    last_fetch = END - timedelta(days=days, hours=3)
    for d in range(days):
        day = END - timedelta(days=days - d)
        if d:
            demo.discover()
        todays_plays: list[Obj] = []
        for hour in (9, 21):
            fetch = day + timedelta(hours=hour, minutes=rng.randrange(60))
            plays = demo.plays(last_fetch, fetch)
            put(fetch, "spotify_recently_played", plays)
            todays_plays += plays
            last_fetch = fetch
        saved = rng.sample(demo.tracks, rng.randint(1, 3))
        put(
            day + timedelta(hours=22),
            "spotify_saved_tracks",
            [{"added_at": _iso_z(day + timedelta(seconds=rng.randrange(79_200))), "track": t} for t in saved],
        )
        artists, albums = demo.enrichment(todays_plays, day + timedelta(hours=22, minutes=30))
        local = _paris(day + timedelta(hours=22, minutes=30))  # the enrichment fetchers name files in local time
        put(local, "artist_enrichment", artists)
        put(local, "album_enrichment", albums)
        if d % 7 == 0:
            weekly = day + timedelta(hours=6)
            put(
                weekly,
                "spotify_saved_albums",
                [
                    {"added_at": _iso_z(day + timedelta(hours=rng.randrange(6))), "album": a}
                    for a in rng.sample(demo.albums, rng.randint(1, 2))
                ],
            )
            put(weekly, "spotify_top_artists", rng.sample(demo.artists, 10))
            put(weekly, "spotify_top_tracks", rng.sample(demo.favourites, 10))
            candidates = [a for a in demo.artists if a not in demo.followed]
            if candidates and rng.random() < 0.7:  # long demos run out of artists to follow
                demo.followed.append(rng.choice(candidates))
            put(weekly, "spotify_followed_artists", list(demo.followed))
            for playlist in demo.playlists:
                playlist["snapshot_id"] = demo.new_id()
                playlist["tracks"]["total"] += rng.randint(0, 4)
            put(weekly, "spotify_playlists", demo.playlists)
            put(weekly, "spotify_user_profile", [demo.profile()])
    return files
