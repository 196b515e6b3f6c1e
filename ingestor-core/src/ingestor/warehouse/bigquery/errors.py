"""BigQuery's errors: which are worth another try (429, 5xx, rate limits, concurrent-update aborts, connection
resets), which say the rows themselves were refused, and how they read as a `LoadError` of which kind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from google.api_core import exceptions as gexc

from ingestor.warehouse import LoadError, RowsRefused, WarehouseUnavailable

_TRANSIENT_REASONS = {"backendError", "internalError", "rateLimitExceeded", "backendErrorRetriable", "jobInternalError"}
_TRANSIENT_MESSAGES = (
    "too many table update operations",
    "concurrent update",
    "exceeded rate limits",
    "retry",
    "backenderror",
    "internal error",
)
_DATA_REASONS = {"invalid", "invalidQuery"}


def _reasons(error: BaseException) -> set[str]:
    return {e.get("reason", "") for e in getattr(error, "errors", None) or [] if isinstance(e, dict)}


def refuses_rows(error: BaseException) -> bool:
    """Whether an API error says the rows (or the statement) themselves were refused."""
    return bool(_reasons(error) & _DATA_REASONS)


def is_transient(error: BaseException) -> bool:
    """429, 5xx, rate limits, concurrent-update aborts, connection resets: worth another try."""
    if isinstance(
        error,
        (
            gexc.TooManyRequests,
            gexc.InternalServerError,
            gexc.BadGateway,
            gexc.ServiceUnavailable,
            gexc.GatewayTimeout,
            gexc.RetryError,
        ),
    ):
        return True
    if isinstance(error, (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)):
        return True
    if isinstance(error, gexc.GoogleAPICallError):
        message = str(error.message).lower()
        return bool(_reasons(error) & _TRANSIENT_REASONS) or any(m in message for m in _TRANSIENT_MESSAGES)
    return False


@contextmanager
def as_load_error() -> Iterator[None]:
    """BigQuery's and the network's errors as LoadError: `RowsRefused` when the rows themselves were refused, else
    `WarehouseUnavailable`."""
    try:
        yield
    except LoadError:
        raise
    except gexc.GoogleAPICallError as error:
        kind = RowsRefused if refuses_rows(error) and not is_transient(error) else WarehouseUnavailable
        raise kind(str(error.message).splitlines()[0]) from error
    except gexc.RetryError as error:  # the client's own retries ran out, on each of our attempts
        cause = error.cause.message if isinstance(error.cause, gexc.GoogleAPICallError) else error.cause
        raise WarehouseUnavailable(f"BigQuery kept failing ({error.message}): {cause}") from error
    except (requests.RequestException, ConnectionError, TimeoutError) as error:
        raise WarehouseUnavailable(f"BigQuery unreachable: {error}") from error


def job_error(job: Any) -> tuple[str, bool, type[LoadError]] | None:
    """(message, transient, the kind of LoadError it is) of a finished job that failed, else None."""
    result = job.error_result
    if not result:
        return None
    details = [e.get("message", "") for e in (job.errors or []) if e.get("message")]
    message = "; ".join(dict.fromkeys([result.get("message", ""), *details[:5]])).strip("; ")
    reason = result.get("reason", "")
    lowered = message.lower()
    transient = reason in _TRANSIENT_REASONS or any(m in lowered for m in _TRANSIENT_MESSAGES)
    kind = RowsRefused if not transient and reason in _DATA_REASONS else WarehouseUnavailable
    return message or reason, transient, kind
