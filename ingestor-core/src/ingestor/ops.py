"""What `ingestor run` and `ingestor status` do after their work, for whoever operates them: publish metrics
(ingestor.metrics) and send notifications (ingestor.notify). Neither ever changes a result or an exit code."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestor.catalog import Catalog
    from ingestor.result import IngestResult
    from ingestor.settings import Settings
    from ingestor.status import Status

log = logging.getLogger("ingestor.ops")


def check_extras(settings: Settings) -> None:
    """Exit 2 with one line when notifications are asked for and apprise is missing, or a URL is not one
    apprise understands (the URL itself is not printed: it may hold a token)."""
    if not settings.notify:
        return
    from ingestor import notify
    from ingestor.commands.common import fail

    if not notify.available():
        fail("--notify needs apprise: pip install 'ingestor-core[ops]'")
    bad = notify.unknown(settings.notify)
    if bad:
        fail(f"--notify URL #{bad[0]} is not one apprise understands (see https://github.com/caronc/apprise/wiki)")


def after_run(settings: Settings, result: IngestResult, catalog: Catalog, retries_before: float) -> None:
    """Metrics and notifications of a finished run (dry runs: none). The state (backlog, freshness) is read
    after the run when metrics are published or stale types notified. `retries_before`: `metrics.retries()`
    when the run began."""
    if result.dry_run:
        return
    want_state = bool(settings.metrics_push or settings.metrics_file) or (
        bool(settings.notify) and "stale" in settings.notify_on
    )
    status = _state(settings, catalog, result.services) if want_state else None
    _publish(settings, "ingestor_run", result, status, retries_before)
    _notify(settings, result.services, result, status)


def after_crash(settings: Settings, error: Exception) -> None:
    """A run that ended with an unexpected error: notified as `failed`."""
    if not settings.notify or "failed" not in settings.notify_on or settings.dry_run:
        return
    from ingestor import notify

    title, body = notify.crash_message(settings.env, settings.service, error)
    notify.send(settings.notify, title, body)


def after_status(settings: Settings, status: Status) -> None:
    """Metrics and notifications of `ingestor status`."""
    _publish(settings, "ingestor_status", None, status, 0.0)
    _notify(settings, status.services, None, status)


def _state(settings: Settings, catalog: Catalog, services: list[str]) -> Status | None:
    from ingestor.landing import open_landing
    from ingestor.lease import open_warehouse
    from ingestor.status import collect

    try:
        landing = open_landing(settings.landing_url, settings)
        warehouse = open_warehouse(settings.warehouse_url, settings, read_only=True)
    except Exception as error:  # any error of a backend's client: the state is extra, never the run's result
        log.error("the state after the run could not be read: %s", error)
        return None
    try:
        return collect(catalog, services, landing, warehouse, settings.history_dataset_name, settings.env)
    except Exception as error:  # any error of a backend's client: the state is extra, never the run's result
        log.error("the state after the run could not be read: %s", error)
        return None
    finally:
        warehouse.close()
        landing.close()


def _publish(
    settings: Settings, job: str, result: IngestResult | None, status: Status | None, retries_before: float
) -> None:
    if not (settings.metrics_push or settings.metrics_file):
        return
    from prometheus_client import CollectorRegistry

    from ingestor import metrics

    registry = CollectorRegistry()
    if result is not None:
        metrics.add_run(registry, result, metrics.retries() - retries_before)
    if status is not None:
        metrics.add_status(registry, status)
    path = str(settings.metrics_file) if settings.metrics_file else None
    metrics.publish(registry, job, settings.env, settings.metrics_push, path, log.error)


def _notify(settings: Settings, services: list[str], result: IngestResult | None, status: Status | None) -> None:
    if not settings.notify:
        return
    from ingestor import notify

    found = notify.message(settings.notify_on, settings.env, services, result, status)
    if found is not None:
        notify.send(settings.notify, *found)
