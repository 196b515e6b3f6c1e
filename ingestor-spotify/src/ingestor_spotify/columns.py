"""The columns of the five Spotify tables the seed system loaded (pyLancelle/ELA_DP), as its
downstream SQL reads them: name, JSON path in the landing record, type, nested records. These are
facts about that system's tables (its parsing configurations), written here in our own form;
`Column.extract` takes a column's value from one API object, and `Column.declared` declares it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingestor import Declared, Kind
from ingestor_spotify.convert import release_date, to_bool, to_int, to_str, to_timestamp

STR, INT, BOOL, TS, DATE, JSON, REC = (
    Kind.STRING,
    Kind.INT64,
    Kind.BOOL,
    Kind.TIMESTAMP,
    Kind.DATE,
    Kind.JSON,
    Kind.STRUCT,
)
_CONVERT: dict[Kind, Callable[[Any], Any]] = {
    STR: to_str,
    INT: to_int,
    BOOL: to_bool,
    TS: to_timestamp,
    DATE: lambda value: release_date(value)[0],  # YYYY and YYYY-MM: the first day (the precision has its column)
    JSON: lambda value: value,
}


@dataclass(frozen=True)
class C:
    """One column: its name, the path of keys to its value (`images[0]` takes an array's first
    item), its type; a record (STRUCT) lists its fields, with paths from the record's object."""

    name: str
    path: str
    kind: Kind
    repeated: bool = False
    fields: tuple[C, ...] = ()

    def declared(self) -> Declared:
        """The column's declaration (see `DataType.columns`)."""
        return Declared(self.name, self.kind, self.repeated, tuple(f.declared() for f in self.fields))

    def extract(self, obj: dict[str, Any]) -> Any:
        """The column's value in `obj`, converted strictly (None when absent or not convertible)."""
        value = _at(obj, self.path)
        if value is None:
            return None
        if self.kind is not REC:
            return _CONVERT[self.kind](value)
        if self.repeated:
            return [_record(self.fields, item) for item in value if type(item) is dict] if type(value) is list else None
        return _record(self.fields, value) if type(value) is dict else None


def _at(obj: Any, path: str) -> Any:
    for part in path.split("."):
        name, _, index = part.partition("[")
        obj = obj.get(name) if type(obj) is dict else None
        if index:
            position = int(index.rstrip("]"))
            obj = obj[position] if type(obj) is list and len(obj) > position else None
    return obj


def _record(fields: tuple[C, ...], obj: dict[str, Any]) -> dict[str, Any]:
    return {f.name: f.extract(obj) for f in fields}


def row(columns: tuple[C, ...], obj: dict[str, Any]) -> dict[str, Any]:
    """One API object as the table's row (without the metadata columns)."""
    return _record(columns, obj)


_URL = (C("spotify", "spotify", STR),)
_ARTIST = (
    C("artistId", "id", STR),
    C("artistName", "name", STR),
    C("type", "type", STR),
    C("uri", "uri", STR),
    C("href", "href", STR),
    C("externalUrls", "external_urls", REC, fields=_URL),
)
_ARTIST_FLAT = (
    C("artistId", "id", STR),
    C("artistName", "name", STR),
    C("artistUri", "uri", STR),
    C("artistHref", "href", STR),
    C("artistType", "type", STR),
    C("artistExternalUrl", "external_urls.spotify", STR),
)
_IMAGE = (C("url", "url", STR), C("height", "height", INT), C("width", "width", INT))

ALBUM_ENRICHMENT = (
    C("albumId", "id", STR),
    C("albumName", "name", STR),
    C("type", "type", STR),
    C("uri", "uri", STR),
    C("href", "href", STR),
    C("releaseDate", "release_date", STR),
    C("releaseDatePrecision", "release_date_precision", STR),
    C("albumType", "album_type", STR),
    C("totalTrackCount", "total_tracks", INT),
    C("artists", "artists", JSON),
    C("genres", "genres", JSON),
    C("availableMarkets", "available_markets", JSON),
    C("externalUrls", "external_urls", REC, fields=_URL),
    C(
        "externalIds",
        "external_ids",
        REC,
        fields=(
            C("upc", "upc", STR),
            C("ean", "ean", STR),
            C("isrc", "isrc", STR),
        ),
    ),
    C("images", "images", JSON),
    C("tracks", "tracks", JSON),
    C("popularity", "popularity", INT),
    C("label", "label", STR),
    C("copyrights", "copyrights", JSON),
    C("enrichedAt", "enriched_at", TS),
)
ARTIST_ENRICHMENT = (
    C("artistId", "id", STR),
    C("artistName", "name", STR),
    C("type", "type", STR),
    C("uri", "uri", STR),
    C("href", "href", STR),
    C("popularity", "popularity", INT),
    C("followerCount", "followers.total", INT),
    C("genres", "genres", JSON),
    C("externalUrls", "external_urls", REC, fields=_URL),
    C("images", "images", JSON),
    C("enrichedAt", "enriched_at", TS),
)
RECENTLY_PLAYED = (
    C("playedAt", "played_at", TS),
    C("contextType", "context.type", STR),
    C("contextUri", "context.uri", STR),
    C("contextHref", "context.href", STR),
    C("contextExternalUrl", "context.external_urls.spotify", STR),
    C("trackId", "track.id", STR),
    C("trackName", "track.name", STR),
    C("trackUri", "track.uri", STR),
    C("trackExternalUrl", "track.external_urls.spotify", STR),
    C("trackDurationMs", "track.duration_ms", INT),
    C("trackPopularity", "track.popularity", INT),
    C("trackExplicit", "track.explicit", BOOL),
    C("trackHref", "track.href", STR),
    C("trackType", "track.type", STR),
    C("trackPreviewUrl", "track.preview_url", STR),
    C("trackDiscNumber", "track.disc_number", INT),
    C("trackNumber", "track.track_number", INT),
    C("trackIsLocal", "track.is_local", BOOL),
    C("trackIsrc", "track.external_ids.isrc", STR),
    C("albumId", "track.album.id", STR),
    C("albumName", "track.album.name", STR),
    C("album_type", "track.album.album_type", STR),
    C("albumReleaseDate", "track.album.release_date", DATE),
    C("albumReleaseDatePrecision", "track.album.release_date_precision", STR),
    C("albumTotalTracks", "track.album.total_tracks", INT),
    C("albumUri", "track.album.uri", STR),
    C("albumExternalUrl", "track.album.external_urls.spotify", STR),
    C("albumHref", "track.album.href", STR),
    C("albumType", "track.album.type", STR),
    C("albumImageUrl", "track.album.images[0].url", STR),
    C("albumImageHeight", "track.album.images[0].height", INT),
    C("albumImageWidth", "track.album.images[0].width", INT),
    C("albumArtists", "track.album.artists", REC, repeated=True, fields=_ARTIST_FLAT),
    C("artists", "track.artists", REC, repeated=True, fields=_ARTIST_FLAT),
)
SAVED_ALBUMS = (
    C("addedAt", "added_at", TS),
    C("albumId", "album.id", STR),
    C("albumName", "album.name", STR),
    C("albumType", "album.album_type", STR),
    C("type", "album.type", STR),
    C("uri", "album.uri", STR),
    C("href", "album.href", STR),
    C("totalTracks", "album.total_tracks", INT),
    C("releaseDate", "album.release_date", DATE),
    C("releaseDatePrecision", "album.release_date_precision", STR),
    C("popularity", "album.popularity", INT),
    C("label", "album.label", STR),
    C("availableMarkets", "album.available_markets", JSON),
    C("genres", "album.genres", JSON),
    C("externalUrls", "album.external_urls", REC, fields=_URL),
    C("externalIds", "album.external_ids", REC, fields=(C("upc", "upc", STR),)),
    C("albumArtists", "album.artists", REC, repeated=True, fields=_ARTIST),
    C("images", "album.images", REC, repeated=True, fields=_IMAGE),
    C(
        "copyrights",
        "album.copyrights",
        REC,
        repeated=True,
        fields=(
            C("text", "text", STR),
            C("type", "type", STR),
        ),
    ),
    C(
        "tracksSummary",
        "album.tracks",
        REC,
        fields=(
            C("href", "href", STR),
            C("total", "total", INT),
            C("limit", "limit", INT),
            C("offset", "offset", INT),
            C("next", "next", STR),
            C("previous", "previous", STR),
        ),
    ),
    C(
        "tracks",
        "album.tracks.items",
        REC,
        repeated=True,
        fields=(
            C("trackId", "id", STR),
            C("trackName", "name", STR),
            C("trackNumber", "track_number", INT),
            C("discNumber", "disc_number", INT),
            C("durationMs", "duration_ms", INT),
            C("explicit", "explicit", BOOL),
            C("isLocal", "is_local", BOOL),
            C("previewUrl", "preview_url", STR),
            C("type", "type", STR),
            C("uri", "uri", STR),
            C("href", "href", STR),
            C("availableMarkets", "available_markets", JSON),
            C("externalUrls", "external_urls", REC, fields=_URL),
            C("artists", "artists", REC, repeated=True, fields=_ARTIST),
        ),
    ),
)
SAVED_TRACKS = (
    C("addedAt", "added_at", TS),
    C("trackId", "track.id", STR),
    C("trackName", "track.name", STR),
    C("type", "track.type", STR),
    C("uri", "track.uri", STR),
    C("href", "track.href", STR),
    C("durationMs", "track.duration_ms", INT),
    C("explicit", "track.explicit", BOOL),
    C("popularity", "track.popularity", INT),
    C("trackNumber", "track.track_number", INT),
    C("discNumber", "track.disc_number", INT),
    C("isLocal", "track.is_local", BOOL),
    C("isPlayable", "track.is_playable", BOOL),
    C("previewUrl", "track.preview_url", STR),
    C("availableMarkets", "track.available_markets", JSON),
    C("externalUrls", "track.external_urls", REC, fields=_URL),
    C("externalIds", "track.external_ids", REC, fields=(C("isrc", "isrc", STR),)),
    C("artists", "track.artists", REC, repeated=True, fields=_ARTIST),
    C("albumId", "track.album.id", STR),
    C("albumName", "track.album.name", STR),
    C("albumType", "track.album.album_type", STR),
    C("albumReleaseDate", "track.album.release_date", DATE),
    C("albumReleaseDatePrecision", "track.album.release_date_precision", STR),
    C("albumTotalTracks", "track.album.total_tracks", INT),
    C("albumType2", "track.album.type", STR),
    C("albumUri", "track.album.uri", STR),
    C("albumHref", "track.album.href", STR),
    C("albumIsPlayable", "track.album.is_playable", BOOL),
    C("albumAvailableMarkets", "track.album.available_markets", JSON),
    C("albumExternalUrls", "track.album.external_urls", REC, fields=_URL),
    C("albumArtists", "track.album.artists", REC, repeated=True, fields=_ARTIST),
    C("albumImages", "track.album.images", REC, repeated=True, fields=_IMAGE),
)
