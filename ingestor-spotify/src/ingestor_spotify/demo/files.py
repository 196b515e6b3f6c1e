"""The demo's file writer: a listener's days turned into `{object name: NDJSON bytes}`, all ten data types."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from .catalogue import Obj
from .clock import END, iso_z, paris, stamp
from .listener import Listener

LANDING = "spotify/landing/"


def ndjson(records: list[Obj]) -> bytes:
    """One JSON object per line."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def landing_files(days: int, seed: int) -> dict[str, bytes]:
    """`{object name: NDJSON bytes}` for `days` days ending on END: all ten data types."""
    listener = Listener(seed)
    rng = listener.rng
    files: dict[str, bytes] = {}

    def put(moment: datetime, name: str, records: list[Obj]) -> None:
        if records:
            files[f"{LANDING}{stamp(moment)}_{name}.jsonl"] = ndjson(records)

    last_fetch = END - timedelta(days=days, hours=3)
    for d in range(days):
        day = END - timedelta(days=days - d)
        if d:
            listener.discover()
        todays_plays: list[Obj] = []
        for hour in (9, 21):
            fetch = day + timedelta(hours=hour, minutes=rng.randrange(60))
            plays = listener.plays(last_fetch, fetch)
            put(fetch, "spotify_recently_played", plays)
            todays_plays += plays
            last_fetch = fetch
        saved = rng.sample(listener.tracks, rng.randint(1, 3))
        put(
            day + timedelta(hours=22),
            "spotify_saved_tracks",
            [{"added_at": iso_z(day + timedelta(seconds=rng.randrange(79_200))), "track": t} for t in saved],
        )
        artists, albums = listener.enrichment(todays_plays, day + timedelta(hours=22, minutes=30))
        local = paris(day + timedelta(hours=22, minutes=30))  # the enrichment fetchers name files in local time
        put(local, "artist_enrichment", artists)
        put(local, "album_enrichment", albums)
        if d % 7 == 0:
            weekly = day + timedelta(hours=6)
            put(
                weekly,
                "spotify_saved_albums",
                [
                    {"added_at": iso_z(day + timedelta(hours=rng.randrange(6))), "album": a}
                    for a in rng.sample(listener.albums, rng.randint(1, 2))
                ],
            )
            put(weekly, "spotify_top_artists", rng.sample(listener.artists, 10))
            put(weekly, "spotify_top_tracks", rng.sample(listener.favourites, 10))
            candidates = [a for a in listener.artists if a not in listener.followed]
            if candidates and rng.random() < 0.7:  # long demos run out of artists to follow
                listener.followed.append(rng.choice(candidates))
            put(weekly, "spotify_followed_artists", list(listener.followed))
            for playlist in listener.playlists:
                playlist["snapshot_id"] = listener.new_id()
                playlist["tracks"]["total"] += rng.randint(0, 4)
            put(weekly, "spotify_playlists", listener.playlists)
            put(weekly, "spotify_user_profile", [listener.profile()])
    return files
