"""Spotify's OAuth refresh-token flow: the credentials from the settings, and an httpx `Auth` that keeps a
bearer token (refreshed when missing or refused). No credential is ever logged or reported."""

from __future__ import annotations

import logging
from collections.abc import Generator

import httpx

from ingestor import AuthError, ConfigError, FetchError, describe_error
from ingestor_spotify.settings import SpotifySettings

log = logging.getLogger("ingestor.fetch.spotify")


def credentials(settings: SpotifySettings) -> tuple[str, str, str]:
    """(client id, client secret, refresh token); ConfigError naming the missing ones."""
    given = {
        "SPOTIFY_CLIENT_ID": settings.client_id,
        "SPOTIFY_CLIENT_SECRET": settings.client_secret,
        "SPOTIFY_REFRESH_TOKEN": settings.refresh_token,
    }
    values = {name: secret.get_secret_value().strip() if secret else "" for name, secret in given.items()}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConfigError(f"Spotify credentials missing: set {', '.join(missing)}")
    client_id, client_secret, refresh_token = values.values()
    return client_id, client_secret, refresh_token


class SpotifyAuth(httpx.Auth):
    """Bearer tokens from the refresh-token flow; refreshed when missing or refused (401) once."""

    def __init__(self, accounts: httpx.Client, client_id: str, client_secret: str, refresh_token: str) -> None:
        self.accounts = accounts
        self._client = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._access_token: str | None = None

    def refresh(self) -> str:
        """Get a new access token (never logs or reports a credential)."""
        try:
            response = self.accounts.post(
                "api/token",
                data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
                auth=self._client,
            )
        except httpx.HTTPError as error:
            raise FetchError(f"Spotify token refresh failed: {describe_error(error)}") from error
        if response.status_code in (400, 401, 403):
            raise AuthError(
                f"Spotify refused the credentials on token refresh ({response.status_code} "
                f"{_oauth_error(response)}): check SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET and "
                "SPOTIFY_REFRESH_TOKEN (a refresh token is revoked when the app's access is removed)"
            )
        if response.status_code != 200:
            raise FetchError(f"Spotify token refresh failed: {response.status_code} {response.reason_phrase}")
        body = response.json()
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError("Spotify token refresh answered without an access_token")
        if body.get("refresh_token") and body["refresh_token"] != self._refresh_token:
            self._refresh_token = body["refresh_token"]
            log.warning(
                "Spotify rotated the refresh token: store the new one as SPOTIFY_REFRESH_TOKEN "
                "(it is not printed; this run uses it)"
            )
        self._access_token = token
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with a bearer token; on 401, refresh once and resend."""
        request.headers["Authorization"] = f"Bearer {self._access_token or self.refresh()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.refresh()}"
            response = yield request
            if response.status_code == 401:
                raise AuthError("Spotify refused a freshly refreshed access token (401): check the app's scopes")


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict) and body.get("error"):
        description = body.get("error_description")
        return f"{body['error']}: {description}" if description else str(body["error"])
    return response.reason_phrase
