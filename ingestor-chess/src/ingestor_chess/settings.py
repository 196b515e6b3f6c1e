"""What the chess.com fetcher is told (imported only when chess is fetched): `ingestor fetch` builds it from the
environment and hands it over on the request."""

from __future__ import annotations

from ingestor import Field, ServiceSettings

DEFAULT_API_URL = "https://api.chess.com/pub"


class ChessSettings(ServiceSettings):
    """The players whose published data is fetched, and the API's address."""

    usernames: str = Field("", validation_alias="CHESS_USERNAMES")  # comma-separated
    api_url: str = Field(DEFAULT_API_URL, validation_alias="INGESTOR_CHESS_API_URL")
