"""Spotify API objects -> typed camelCase records, plus `raw_data` (the whole line).

The five types the seed system loaded (recently_played, saved_tracks, saved_albums,
artist_enrichment, album_enrichment) get exactly its columns (`ingestor_spotify.columns`); the
other five are this project's own.

One landing line is one API object, as the fetchers write it:
- recently_played: one play-history item `{track, played_at, context}`;
- saved_tracks / saved_albums: one saved item `{added_at, track}` / `{added_at, album}`;
- top_tracks: one track; top_artists, followed_artists: one artist;
- playlists: one simplified playlist; user_profile: the `/v1/me` object;
- artist_enrichment / album_enrichment: one full artist / album plus the fetcher's `enriched_at`.

Values are converted strictly (`ingestor_spotify.convert`). A line without the object's id (e.g. a
whole paging object written as one line) cannot be loaded: the normalizer raises, the engine
rejects the file.
"""

from __future__ import annotations

from typing import Any

from ingestor import SourceFile, parse_date
from ingestor_spotify import columns
from ingestor_spotify.convert import release_date, to_bool, to_int, to_str, to_timestamp

Record = dict[str, Any]


class NotAnApiObject(ValueError):
    """A line that is not the API object its data type expects."""


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
    if to_timestamp(record.get("played_at")) is None:
        raise NotAnApiObject(
            f"no valid played_at ({record.get('played_at')!r}); expected one play-history item per line"
        )
    _require(_obj(record.get("track")), "track", allow_local=True)
    return {**columns.row(columns.RECENTLY_PLAYED, record), "raw_data": record}


def saved_tracks(record: Record, source: SourceFile) -> Record:
    """One saved-track item."""
    _require(_obj(record.get("track")), "track")
    return {**columns.row(columns.SAVED_TRACKS, record), "raw_data": record}


def saved_albums(record: Record, source: SourceFile) -> Record:
    """One saved-album item."""
    _require(_obj(record.get("album")), "album")
    return {**columns.row(columns.SAVED_ALBUMS, record), "raw_data": record}


def artist_enrichment(record: Record, source: SourceFile) -> Record:
    """One full artist plus `enriched_at` (written with the fetcher's UTC offset; stored in UTC)."""
    return {**columns.row(columns.ARTIST_ENRICHMENT, _require(record, "artist")), "raw_data": record}


def album_enrichment(record: Record, source: SourceFile) -> Record:
    """One full album plus `enriched_at` (stored in UTC)."""
    return {**columns.row(columns.ALBUM_ENRICHMENT, _require(record, "album")), "raw_data": record}


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
