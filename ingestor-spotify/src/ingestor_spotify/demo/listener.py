"""The demo's listener: plays, discoveries, favourites, follows, playlists and the enrichment of what was played."""

from __future__ import annotations

from datetime import datetime, timedelta

from .catalogue import API, Catalogue, Obj
from .clock import iso_z, paris


class Listener(Catalogue):
    """A listener of the catalogue who plays, saves and follows, day after day."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.discovered = 12  # the listener knows the first albums and discovers more day after day
        self.favourites = self.rng.sample(self.known_tracks(), 20)
        self.followed = self.rng.sample(self.artists, 6)
        self.playlists = [self._playlist(i) for i in range(5)]
        self.enriched: dict[str, None] = {}  # ids of artists and albums already enriched (ordered)

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
            items.append({"track": track, "played_at": iso_z(moment, millis=True), "context": self._context(track)})
        return items

    def enrichment(self, plays: list[Obj], at: datetime) -> tuple[list[Obj], list[Obj]]:
        """Full artists and albums first played today, with the fetcher's `enriched_at` (Paris time)."""
        enriched_at = paris(at + timedelta(microseconds=self.rng.randrange(10**6))).isoformat()
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
