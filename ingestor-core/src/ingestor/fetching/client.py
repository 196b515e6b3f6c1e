"""The fetchers' HTTP: an httpx client with a descriptive User-Agent that retries 429 (honouring Retry-After)
and transient 5xx/connection errors with backoff (`HttpSettings`: attempts, first wait, longest wait, contact),
and messages that never carry credentials."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import tenacity

from ingestor.errors import describe
from ingestor.fetching.request import FetchError
from ingestor.settings import HttpSettings

log = logging.getLogger("ingestor.fetch")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
SECRET_PARAMS = ("token", "secret", "password", "key", "code", "auth", "signature")


def safe_url(url: str | httpx.URL) -> str:
    """A URL fit for logs and messages: no user info, secret-looking query values redacted."""
    parts = urlsplit(str(url))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, "REDACTED" if any(s in k.lower() for s in SECRET_PARAMS) else v) for k, v in parse_qsl(parts.query)]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def describe_error(error: BaseException) -> str:
    """A one-line reason without credentials (HTTP errors name method, URL and status)."""
    if isinstance(error, httpx.HTTPStatusError):
        response = error.response
        return (
            f"{response.request.method} {safe_url(response.request.url)} -> {response.status_code} "
            f"{response.reason_phrase}".rstrip()
        )
    if isinstance(error, httpx.RequestError):
        return f"{error.request.method} {safe_url(error.request.url)}: {type(error).__name__}: {error}"
    if isinstance(error, FetchError):
        return str(error)
    return describe(error)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport: retries 429/5xx answers and connection errors (tenacity), waiting
    Retry-After when the server gives one, else exponential backoff with jitter."""

    def __init__(
        self,
        transport: httpx.BaseTransport,
        *,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.transport = transport
        self.attempts = max(attempts, 1)
        self.max_wait = max_wait
        self.sleep = sleep
        self._backoff = tenacity.wait_exponential_jitter(multiplier=backoff, max=max_wait, jitter=backoff / 2)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            seconds = retry_after_seconds(outcome.result())
            if seconds is not None:
                return min(seconds, self.max_wait)
        return float(self._backoff(state))

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        request: httpx.Request = state.args[0]
        if outcome is None:
            return
        if outcome.failed:
            why = type(outcome.exception()).__name__
        else:
            response = outcome.result()
            why = str(response.status_code)
            response.close()
        wait = state.next_action.sleep if state.next_action else 0
        log.warning(
            "%s %s: %s, retrying in %.1fs (attempt %d of %d)",
            request.method,
            safe_url(request.url),
            why,
            wait,
            state.attempt_number + 1,
            self.attempts,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, retrying transient failures; the last answer (or error) is returned (raised)."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(httpx.TransportError)
            | tenacity.retry_if_result(lambda r: r.status_code in RETRY_STATUSES),
            before_sleep=self._before_sleep,
            sleep=self.sleep,
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            reraise=True,
        )
        return retrying(self._send, request)  # type: ignore[no-any-return]

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.transport.handle_request(request)
        if response.status_code in RETRY_STATUSES:
            response.read()  # so it can be closed and the connection reused
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self.transport.close()


def user_agent(service: str, contact: str = "") -> str:
    """`ingestor/<version> (<service> fetcher; personal data export[; contact])`."""
    from ingestor.version import VERSION

    extra = f"; {contact.strip()}" if contact.strip() else ""
    return f"ingestor/{VERSION} ({service} fetcher; personal data export{extra}) httpx/{httpx.__version__}"


def http_client(
    service: str,
    base_url: str,
    *,
    settings: HttpSettings | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An httpx client for one service's API: User-Agent, timeouts, retries as `settings` say (a fetcher passes
    `request.http`; None: the defaults)."""
    http = settings or HttpSettings.model_construct()
    retrying = RetryTransport(
        transport or httpx.HTTPTransport(), attempts=http.attempts, backoff=http.backoff, max_wait=http.max_wait
    )
    return httpx.Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"User-Agent": user_agent(service, http.contact), "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        transport=retrying,
        follow_redirects=True,
    )


def get_json(client: httpx.Client, url: str, **params: Any) -> Any:
    """GET a JSON body; HTTP errors raise `httpx.HTTPStatusError` (after the retries)."""
    response = client.get(url, params={k: v for k, v in params.items() if v is not None} or None)
    response.raise_for_status()
    return response.json()
