"""What the Garmin fetcher is told (imported only when Garmin is fetched): `ingestor fetch` builds it from the
environment and hands it over on the request."""

from __future__ import annotations

from ingestor import Field, SecretStr, ServiceSettings

DEFAULT_API_URL = "https://connectapi.garmin.com"


class GarminSettings(ServiceSettings):
    """The account (a token store, or a username and password) and where and how far back to fetch."""

    tokens: str | None = Field(None, validation_alias="GARMIN_TOKENS")
    username: str | None = Field(None, validation_alias="GARMIN_USERNAME")
    password: SecretStr | None = Field(None, validation_alias="GARMIN_PASSWORD")
    api_url: str = Field(DEFAULT_API_URL, validation_alias="INGESTOR_GARMIN_API_URL")
    days: int = Field(7, validation_alias="INGESTOR_GARMIN_DAYS")  # a first run's window

    @property
    def login(self) -> tuple[str | None, str | None, str | None]:
        """(token store, username, password), each None when not set."""
        password = self.password.get_secret_value() if self.password else ""
        return (self.tokens or "").strip() or None, (self.username or "").strip() or None, password or None
