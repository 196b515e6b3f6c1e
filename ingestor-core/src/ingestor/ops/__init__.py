"""What `ingestor run` and `ingestor status` do after their work, for whoever operates them: publish metrics
(ingestor.ops.metrics) and send notifications (ingestor.ops.notify). Neither ever changes a result or an exit code."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestor.catalog import Catalog
    from ingestor.landing import Landing
    from ingestor.ops.status import Status
    from ingestor.result import IngestResult
    from ingestor.settings import Settings
    from ingestor.warehouse import Warehouse

log = logging.getLogger("ingestor.ops")


def check_extras(settings: Settings) -> None:
    """Exit 2 with one line when notifications are asked for and apprise is missing, or a URL is not one
    apprise understands (the URL itself is not printed: it may hold a token)."""
    if not settings.notify:
        return
    from ingestor.commands.common import fail
    from ingestor.ops import notify

    if not notify.available():
        fail("--notify needs apprise: pip install 'ingestor-core[ops]'")
    bad = notify.unknown(settings.notify)
    if bad:
        fail(f"--notify URL #{bad[0]} is not one apprise understands (see https://github.com/caronc/apprise/wiki)")


def publishes_metrics(settings: Settings) -> bool:
    """Whether metrics are pushed or written (`--metrics-push`, `--metrics-file`)."""
    return bool(settings.metrics_push or settings.metrics_file)


def retries_so_far(settings: Settings) -> float:
    """`metrics.retries()` where metrics are published; 0 otherwise (prometheus_client is not imported for it)."""
    if not publishes_metrics(settings):
        return 0.0
    from ingestor.ops.metrics import retries

    return retries()


def state_after_run(
    settings: Settings, result: IngestResult, catalog: Catalog, landing: Landing, warehouse: Warehouse
) -> Status | None:
    """The state (backlog, freshness) after a run, read on the run's own landing zone and warehouse while they
    are open, when metrics are published or stale types notified; None otherwise (dry runs: never), or when it
    cannot be read (logged)."""
    want = publishes_metrics(settings) or (bool(settings.notify) and "stale" in settings.notify_on)
    if result.dry_run or not want:
        return None
    from ingestor.ops.status import collect

    try:
        return collect(catalog, result.services, landing, warehouse, settings.history_dataset_name, settings.env)
    except Exception as error:  # metrics and notifications never change a run's result
        log.error("the state after the run could not be read: %s", error)
        return None


def after_run(settings: Settings, result: IngestResult, status: Status | None, retries_before: float) -> None:
    """Metrics and notifications of a finished run (dry runs: none), with the `status` read after it
    (`state_after_run`). `retries_before`: `retries_so_far` when the run began."""
    if result.dry_run:
        return
    _publish(settings, "ingestor_run", result, status, retries_before)
    _notify(settings, result.services, result, status)


def after_crash(settings: Settings, error: Exception) -> None:
    """A run that ended with an unexpected error: notified as `failed`."""
    if not settings.notify or "failed" not in settings.notify_on or settings.dry_run:
        return
    from ingestor.ops import notify

    title, body = notify.crash_message(settings.env, settings.service, error)
    notify.send(settings.notify, title, body)


def after_status(settings: Settings, status: Status) -> None:
    """Metrics and notifications of `ingestor status`."""
    _publish(settings, "ingestor_status", None, status, 0.0)
    _notify(settings, status.services, None, status)


def _publish(
    settings: Settings, job: str, result: IngestResult | None, status: Status | None, retries_before: float
) -> None:
    if not publishes_metrics(settings):
        return
    from prometheus_client import CollectorRegistry

    from ingestor.ops import metrics

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
    from ingestor.ops import notify

    found = notify.message(settings.notify_on, settings.env, services, result, status)
    if found is not None:
        notify.send(settings.notify, *found)
