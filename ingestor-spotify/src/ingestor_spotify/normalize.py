"""Spotify API objects -> typed camelCase records, plus `raw_data` (the whole line).

One landing line is one API object, as the fetchers write it:
- recently_played: one play-history item `{track, played_at, context}`;
- saved_tracks / saved_albums: one saved item `{added_at, track}` / `{added_at, album}`;
- top_tracks: one track; top_artists, followed_artists: one artist;
- playlists: one simplified playlist; user_profile: the `/v1/me` object;
- artist_enrichment / album_enrichment: one full artist / album plus the fetcher's `enriched_at`.

Values are converted strictly: a boolean is a JSON boolean or the string "true"/"false"
(never truthiness: "false" stays False, anything else becomes NULL); timestamps become UTC;
`release_date` of precision year (`YYYY`) or month (`YYYY-MM`) becomes the first day of that
year or month, with the precision in its own column. A line without the object's id (e.g. a
whole paging object written as one line) cannot be loaded: the normalizer raises, the engine
rejects the file.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ingestor.catalog import SourceFile
from ingestor.schema import parse_date, parse_timestamp

Record = dict[str, Any]

_RELEASE_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


class NotAnApiObject(ValueError):
    """A line that is not the API object its data type expects."""


# -- scalar conversions --------------------------------------------------------
def to_bool(value: Any) -> bool | None:
    """A real boolean: JSON true/false, 0/1 or the strings "true"/"false"; else None."""
    if type(value) is bool:
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


def to_int(value: Any) -> int | None:
    """An integer (ints, integral floats, digit strings); else None."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value)
    return None


def to_str(value: Any) -> str | None:
    """A string (numbers are written out); else None."""
    if isinstance(value, str):
        return value
    if type(value) in (int, float):
        return str(value)
    return None


def to_timestamp(value: Any) -> str | None:
    """An ISO-8601 timestamp as a UTC ISO string (naive values are UTC); else None."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def release_date(value: Any) -> tuple[str | None, str | None]:
    """(first day as YYYY-MM-DD, precision "year"/"month"/"day") of a Spotify `release_date`.

    The precision is read from the value itself, so it always describes the date column.
    Values that are no real date (Spotify has "0000") give (None, None).
    """
    found = _RELEASE_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        return None, None
    year, month, day = found.groups()
    try:
        first_day = date(int(year), int(month or 1), int(day or 1)).isoformat()
    except ValueError:
        return None, None
    return first_day, "day" if day else "month" if month else "year"


# -- shared pieces -------------------------------------------------------------
def _obj(value: Any) -> Record:
    return value if isinstance(value, dict) else {}


def _external_url(obj: Record) -> str | None:
    return to_str(_obj(obj.get("external_urls")).get("spotify"))


def image_url(obj: Record) -> str | None:
    """`images[0].url` of an object (the largest image, as Spotify orders them)."""
    images = obj.get("images")
    if isinstance(images, list) and images and isinstance(images[0], dict):
        return to_str(images[0].get("url"))
    return None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _require(obj: Record, what: str, allow_local: bool = False) -> Record:
    """The object if it carries an id (local tracks have none); else raise."""
    if not obj:
        raise NotAnApiObject(f"no {what} object in the line")
    if to_str(obj.get("id")) is None and not (allow_local and to_bool(obj.get("is_local"))):
        keys = ", ".join(sorted(obj)[:8])
        raise NotAnApiObject(f"the {what} has no id (keys: {keys}); expected one API object per line")
    return obj


def artist_refs(value: Any) -> list[Record]:
    """The repeated `artists` record: {artistId, artistName, artistUri, artistExternalUrl}."""
    refs = []
    for artist in value if isinstance(value, list) else []:
        if isinstance(artist, dict):
            refs.append(
                {
                    "artistId": to_str(artist.get("id")),
                    "artistName": to_str(artist.get("name")),
                    "artistUri": to_str(artist.get("uri")),
                    "artistExternalUrl": _external_url(artist),
                }
            )
    return refs


def album_core(album: Record) -> Record:
    """Album columns shared by tracks and albums."""
    released, precision = release_date(album.get("release_date"))
    return {
        "albumId": to_str(album.get("id")),
        "albumName": to_str(album.get("name")),
        "albumType": to_str(album.get("album_type")),
        "albumUri": to_str(album.get("uri")),
        "albumHref": to_str(album.get("href")),
        "albumExternalUrl": _external_url(album),
        "albumReleaseDate": released,
        "albumReleaseDatePrecision": precision,
        "albumTotalTracks": to_int(album.get("total_tracks")),
    }


def track_columns(track: Record) -> Record:
    """A track object's columns; `imageUrl` is the album cover, `artists` the track's artists."""
    album = _obj(track.get("album"))
    return {
        "trackId": to_str(track.get("id")),
        "trackName": to_str(track.get("name")),
        "trackUri": to_str(track.get("uri")),
        "trackHref": to_str(track.get("href")),
        "trackExternalUrl": _external_url(track),
        "trackDurationMs": to_int(track.get("duration_ms")),
        "trackPopularity": to_int(track.get("popularity")),
        "trackExplicit": to_bool(track.get("explicit")),
        "trackIsLocal": to_bool(track.get("is_local")),
        "trackIsPlayable": to_bool(track.get("is_playable")),
        "trackDiscNumber": to_int(track.get("disc_number")),
        "trackNumber": to_int(track.get("track_number")),
        "trackIsrc": to_str(_obj(track.get("external_ids")).get("isrc")),
        "trackPreviewUrl": to_str(track.get("preview_url")),
        **album_core(album),
        "imageUrl": image_url(album),
        "artists": artist_refs(track.get("artists")),
    }


def album_columns(album: Record) -> Record:
    """A full album object's columns."""
    return {
        **album_core(album),
        "albumLabel": to_str(album.get("label")),
        "albumPopularity": to_int(album.get("popularity")),
        "albumUpc": to_str(_obj(album.get("external_ids")).get("upc")),
        "albumGenres": _strings(album.get("genres")),
        "imageUrl": image_url(album),
        "artists": artist_refs(album.get("artists")),
    }


def artist_columns(artist: Record) -> Record:
    """A full artist object's columns."""
    return {
        "artistId": to_str(artist.get("id")),
        "artistName": to_str(artist.get("name")),
        "artistUri": to_str(artist.get("uri")),
        "artistHref": to_str(artist.get("href")),
        "artistExternalUrl": _external_url(artist),
        "artistPopularity": to_int(artist.get("popularity")),
        "artistFollowers": to_int(_obj(artist.get("followers")).get("total")),
        "artistGenres": _strings(artist.get("genres")),
        "imageUrl": image_url(artist),
    }


def snapshot_date(source: SourceFile, required: bool = False) -> str | None:
    """The date the file name starts with (`YYYY_MM_DD...`): the day the fetcher took the snapshot."""
    stamp = source.attributes.get("day")
    if stamp is None:
        if required:
            raise NotAnApiObject(
                f"{source.name}: the file name must start with YYYY_MM_DD (snapshotDate is in the key)"
            )
        return None
    return parse_date(stamp.replace("_", "-"))


# -- one normalizer per data type ----------------------------------------------
def recently_played(record: Record, source: SourceFile) -> Record:
    """One play-history item."""
    played_at = to_timestamp(record.get("played_at"))
    if played_at is None:
        raise NotAnApiObject(
            f"no valid played_at ({record.get('played_at')!r}); expected one play-history item per line"
        )
    context = _obj(record.get("context"))
    return {
        "playedAt": played_at,
        **track_columns(_require(_obj(record.get("track")), "track", allow_local=True)),
        "contextType": to_str(context.get("type")),
        "contextUri": to_str(context.get("uri")),
        "contextHref": to_str(context.get("href")),
        "contextExternalUrl": _external_url(context),
        "raw_data": record,
    }


def saved_tracks(record: Record, source: SourceFile) -> Record:
    """One saved-track item."""
    track = _require(_obj(record.get("track")), "track")
    return {"addedAt": to_timestamp(record.get("added_at")), **track_columns(track), "raw_data": record}


def saved_albums(record: Record, source: SourceFile) -> Record:
    """One saved-album item."""
    album = _require(_obj(record.get("album")), "album")
    return {"addedAt": to_timestamp(record.get("added_at")), **album_columns(album), "raw_data": record}


def artist_enrichment(record: Record, source: SourceFile) -> Record:
    """One full artist plus `enriched_at` (written with the fetcher's UTC offset; stored in UTC)."""
    return {
        **artist_columns(_require(record, "artist")),
        "enrichedAt": to_timestamp(record.get("enriched_at")),
        "raw_data": record,
    }


def album_enrichment(record: Record, source: SourceFile) -> Record:
    """One full album plus `enriched_at` (stored in UTC)."""
    return {
        **album_columns(_require(record, "album")),
        "enrichedAt": to_timestamp(record.get("enriched_at")),
        "raw_data": record,
    }


def top_artists(record: Record, source: SourceFile) -> Record:
    """One artist of the user's top list, on the snapshot's date."""
    return {
        "snapshotDate": snapshot_date(source, required=True),
        "timeRange": to_str(record.get("time_range")),
        **artist_columns(_require(record, "artist")),
        "raw_data": record,
    }


def top_tracks(record: Record, source: SourceFile) -> Record:
    """One track of the user's top list, on the snapshot's date."""
    return {
        "snapshotDate": snapshot_date(source, required=True),
        "timeRange": to_str(record.get("time_range")),
        **track_columns(_require(record, "track")),
        "raw_data": record,
    }


def followed_artists(record: Record, source: SourceFile) -> Record:
    """One followed artist."""
    return {"snapshotDate": snapshot_date(source), **artist_columns(_require(record, "artist")), "raw_data": record}


def playlists(record: Record, source: SourceFile) -> Record:
    """One simplified playlist of the user."""
    playlist = _require(record, "playlist")
    owner = _obj(playlist.get("owner"))
    # Spotify is renaming the `tracks` reference to `items`; both carry {href, total}.
    tracks = _obj(playlist.get("items")) or _obj(playlist.get("tracks"))
    return {
        "snapshotDate": snapshot_date(source),
        "playlistId": to_str(playlist.get("id")),
        "playlistName": to_str(playlist.get("name")),
        "playlistDescription": to_str(playlist.get("description")),
        "playlistUri": to_str(playlist.get("uri")),
        "playlistHref": to_str(playlist.get("href")),
        "playlistExternalUrl": _external_url(playlist),
        "playlistPublic": to_bool(playlist.get("public")),
        "playlistCollaborative": to_bool(playlist.get("collaborative")),
        "playlistSnapshotId": to_str(playlist.get("snapshot_id")),
        "playlistTrackCount": to_int(tracks.get("total")),
        "ownerId": to_str(owner.get("id")),
        "ownerDisplayName": to_str(owner.get("display_name")),
        "imageUrl": image_url(playlist),
        "raw_data": record,
    }


def user_profile(record: Record, source: SourceFile) -> Record:
    """The `/v1/me` object (the e-mail, when the scope gives it, stays in raw_data only)."""
    user = _require(record, "user")
    explicit = _obj(user.get("explicit_content"))
    return {
        "snapshotDate": snapshot_date(source),
        "userId": to_str(user.get("id")),
        "displayName": to_str(user.get("display_name")),
        "userUri": to_str(user.get("uri")),
        "userHref": to_str(user.get("href")),
        "userExternalUrl": _external_url(user),
        "country": to_str(user.get("country")),
        "product": to_str(user.get("product")),
        "followers": to_int(_obj(user.get("followers")).get("total")),
        "explicitContentFilterEnabled": to_bool(explicit.get("filter_enabled")),
        "explicitContentFilterLocked": to_bool(explicit.get("filter_locked")),
        "imageUrl": image_url(user),
        "raw_data": record,
    }
