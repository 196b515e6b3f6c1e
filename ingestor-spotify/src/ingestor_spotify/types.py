"""The ten Spotify data types: file names, tables, natural keys and column types."""

from __future__ import annotations

from ingestor import DataType, Kind, Normalizer
from ingestor_spotify import columns, normalize

SERVICE = "spotify"
DATASET = "dp_lake_{env}"

STR, INT, BOOL, TS, DATE = Kind.STRING, Kind.INT64, Kind.BOOL, Kind.TIMESTAMP, Kind.DATE

# Column types of the typed columns (repeated records such as `artists` are inferred).
ALBUM_CORE = {
    "albumId": STR,
    "albumName": STR,
    "albumType": STR,
    "albumUri": STR,
    "albumHref": STR,
    "albumExternalUrl": STR,
    "albumReleaseDate": DATE,
    "albumReleaseDatePrecision": STR,
    "albumTotalTracks": INT,
}
TRACK = {
    "trackId": STR,
    "trackName": STR,
    "trackUri": STR,
    "trackHref": STR,
    "trackExternalUrl": STR,
    "trackDurationMs": INT,
    "trackPopularity": INT,
    "trackExplicit": BOOL,
    "trackIsLocal": BOOL,
    "trackIsPlayable": BOOL,
    "trackDiscNumber": INT,
    "trackNumber": INT,
    "trackIsrc": STR,
    "trackPreviewUrl": STR,
    **ALBUM_CORE,
    "imageUrl": STR,
}
ARTIST = {
    "artistId": STR,
    "artistName": STR,
    "artistUri": STR,
    "artistHref": STR,
    "artistExternalUrl": STR,
    "artistPopularity": INT,
    "artistFollowers": INT,
    "imageUrl": STR,
}
PLAYLIST = {
    "playlistId": STR,
    "playlistName": STR,
    "playlistDescription": STR,
    "playlistUri": STR,
    "playlistHref": STR,
    "playlistExternalUrl": STR,
    "playlistPublic": BOOL,
    "playlistCollaborative": BOOL,
    "playlistSnapshotId": STR,
    "playlistTrackCount": INT,
    "ownerId": STR,
    "ownerDisplayName": STR,
    "imageUrl": STR,
}
USER = {
    "userId": STR,
    "displayName": STR,
    "userUri": STR,
    "userHref": STR,
    "userExternalUrl": STR,
    "country": STR,
    "product": STR,
    "followers": INT,
    "explicitContentFilterEnabled": BOOL,
    "explicitContentFilterLocked": BOOL,
    "imageUrl": STR,
}
RAW = {"raw_data": Kind.JSON}
SNAPSHOT = {"snapshotDate": DATE}
TOP = {**SNAPSHOT, "timeRange": STR}

# The fetchers write `{YYYY_MM_DD_HH_MM}_spotify_{type}.jsonl`; the enrichment fetchers write
# `{YYYY_MM_DD_HH_MM}_{artist|album}_enrichment.jsonl` (no `spotify_`). Any prefix is accepted;
# a leading date is captured as `day` (the snapshot date of the list types).
# Snapshots fetched on every run, and plays (for someone who listens daily): stale after 36 hours without a file.
# Each with the column of the day a record is about (when played; the snapshot's date), for the days missing.
_DAILY = {
    "recently_played": "playedAt",
    **dict.fromkeys(("top_artists", "top_tracks", "followed_artists", "playlists", "user_profile"), "snapshotDate"),
}
_DAY_PREFIX = r"(?:(?P<day>\d{4}_\d{2}_\d{2})(?:_.*)?|.+)"


def _declare(
    name: str,
    key: tuple[str, ...],
    hints: dict[str, Kind] | tuple[columns.C, ...],
    normalizer: Normalizer,
    description: str,
    suffix: str | None = None,
) -> DataType:
    """A Spotify data type; files end with `_spotify_{name}` unless `suffix` says otherwise. Its
    columns are typed by schema hints, or declared (the seed's tables: `ingestor_spotify.columns`)."""
    declared = () if isinstance(hints, dict) else tuple(c.declared() for c in hints)
    suffix = suffix or f"spotify_{name}"
    return DataType(
        service=SERVICE,
        name=name,
        dataset=DATASET,
        table=f"lake_spotify__normalized_{name}",
        file_patterns=(rf"{_DAY_PREFIX}_{suffix}",),
        primary_key=key,
        schema_hints={**(hints if isinstance(hints, dict) else {}), **RAW},
        columns=declared,
        inserted_at_column="dp_inserted_at",
        source_file_column="source_file",
        source_file_value="name",  # the file's base name, as the seed stored it
        description=description,
        expected_every="daily" if name in _DAILY else None,
        date_column=_DAILY.get(name),
        normalize=normalizer,
    )


DATA_TYPES: tuple[DataType, ...] = (
    _declare(
        "recently_played",
        ("playedAt", "trackId"),
        columns.RECENTLY_PLAYED,
        normalize.recently_played,
        "Plays: one play-history item of /v1/me/player/recently-played per line.",
    ),
    _declare(
        "saved_tracks",
        ("trackId",),
        columns.SAVED_TRACKS,
        normalize.saved_tracks,
        "Liked songs: one {added_at, track} item of /v1/me/tracks per line.",
    ),
    _declare(
        "saved_albums",
        ("albumId",),
        columns.SAVED_ALBUMS,
        normalize.saved_albums,
        "Saved albums: one {added_at, album} item of /v1/me/albums per line.",
    ),
    _declare(
        "artist_enrichment",
        ("artistId",),
        columns.ARTIST_ENRICHMENT,
        normalize.artist_enrichment,
        "Full artist objects (/v1/artists) plus enriched_at.",
        suffix="artist_enrichment",
    ),
    _declare(
        "album_enrichment",
        ("albumId",),
        columns.ALBUM_ENRICHMENT,
        normalize.album_enrichment,
        "Full album objects (/v1/albums) plus enriched_at.",
        suffix="album_enrichment",
    ),
    _declare(
        "top_artists",
        ("snapshotDate", "artistId"),
        {**TOP, **ARTIST},
        normalize.top_artists,
        "Top artists (/v1/me/top/artists), one artist per line; a snapshot per file date.",
    ),
    _declare(
        "top_tracks",
        ("snapshotDate", "trackId"),
        {**TOP, **TRACK},
        normalize.top_tracks,
        "Top tracks (/v1/me/top/tracks), one track per line; a snapshot per file date.",
    ),
    _declare(
        "followed_artists",
        ("artistId",),
        {**SNAPSHOT, **ARTIST},
        normalize.followed_artists,
        "Followed artists (/v1/me/following?type=artist), one artist per line.",
    ),
    _declare(
        "playlists",
        ("playlistId",),
        {**SNAPSHOT, **PLAYLIST},
        normalize.playlists,
        "The user's playlists (/v1/me/playlists), one simplified playlist per line.",
    ),
    _declare(
        "user_profile",
        ("userId",),
        {**SNAPSHOT, **USER},
        normalize.user_profile,
        "The user's profile (/v1/me), one object per line.",
    ),
)
