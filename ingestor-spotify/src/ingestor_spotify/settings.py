"""What the Spotify fetcher is told (imported only when Spotify is fetched): `ingestor fetch` builds it from the
environment and hands it over on the request."""

from __future__ import annotations

from ingestor import Field, SecretStr, ServiceSettings

DEFAULT_ACCOUNTS_URL = "https://accounts.spotify.com"
DEFAULT_API_URL = "https://api.spotify.com/v1"


class SpotifySettings(ServiceSettings):
    """The app's credentials and refresh token, the API's addresses, and how artists and albums are enriched."""

    client_id: SecretStr | None = Field(None, validation_alias="SPOTIFY_CLIENT_ID")
    client_secret: SecretStr | None = Field(None, validation_alias="SPOTIFY_CLIENT_SECRET")
    refresh_token: SecretStr | None = Field(None, validation_alias="SPOTIFY_REFRESH_TOKEN")
    accounts_url: str = Field(DEFAULT_ACCOUNTS_URL, validation_alias="INGESTOR_SPOTIFY_ACCOUNTS_URL")
    api_url: str = Field(DEFAULT_API_URL, validation_alias="INGESTOR_SPOTIFY_API_URL")
    enrichment: str = Field("auto", validation_alias="INGESTOR_SPOTIFY_ENRICHMENT")  # auto, batch or single
