"""The demo's fake catalogue: artists, albums and their tracks, shaped like the Spotify API objects."""

from __future__ import annotations

import random
import string
from typing import Any

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


class Catalogue:
    """A small fake catalogue: 24 artists and 40 albums with their tracks, drawn from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.artists = [self._artist() for _ in range(24)]
        self.albums: list[Obj] = []
        self.tracks_by_album: list[list[Obj]] = []
        for _ in range(40):
            self._album()
        self.tracks = [t for tracks in self.tracks_by_album for t in tracks]

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
