"""Notifications through apprise (Slack, email, Telegram, ntfy, webhooks, ...): one short message when a run
failed, rejected files (grouped by reason code), or a data type is stale. A notification that cannot be sent is
logged and changes nothing else. URLs carry secrets: they are never logged.

apprise comes with the `ops` extra: `pip install 'ingestor-core[ops]'`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestor.ops.status import Status
    from ingestor.result import FileOutcome, IngestResult

log = logging.getLogger("ingestor.ops.notify")
MAX_REASONS = 3
EVENTS = ("failed", "rejected", "stale")


def available() -> bool:
    """Whether apprise is installed."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True


def unknown(urls: list[str]) -> list[int]:
    """The 1-based positions of the URLs apprise cannot use."""
    import apprise

    return [n for n, url in enumerate(urls, 1) if not apprise.Apprise().add(url)]


def message(
    events: list[str], env: str, services: list[str], result: IngestResult | None, status: Status | None
) -> tuple[str, str] | None:
    """(title, body) naming what happened among `events`, or None when nothing did."""
    counts: dict[str, int] = {}
    lines: list[str] = []
    if result is not None:
        totals = result.totals
        for event in ("failed", "rejected"):
            if event in events and totals[event]:
                counts[event] = totals[event]
        if counts:
            lines.append(
                f"run {result.run_id}: {totals['files']} files, {totals['loaded']} loaded ({totals['rows']:,} rows), "
                f"{totals['rejected']} rejected, {totals['failed']} failed."
            )
            lines += _by_code([f for f in result.files if f.status.value in counts])
    elif status is not None and "rejected" in events and status.rejected:
        counts["rejected"] = status.rejected
        lines += [f"- {t.service}.{t.data_type}: {t.rejected} in rejected/" for t in status.types if t.rejected]
    if status is not None and "stale" in events and status.stale:
        counts["stale"] = len(status.stale)
        lines.append("Stale:")
        lines += [
            f"- {t.service}.{t.data_type}: last loaded {t.last_loaded_at or 'never'}, expected {t.expected_every}"
            for t in status.types
            if t.freshness.value == "stale"
        ]
    if not counts:
        return None
    what = ", ".join(f"{n} {event}" for event, n in counts.items())
    title = f"ingestor [{env}] {','.join(services)}: {what}"
    lines.append(f"See more: ingestor status --service {','.join(services)} --env {env}")
    return title, "\n".join(lines)


def _by_code(trouble: list[FileOutcome]) -> list[str]:
    """One line per reason code, most files first: how many, and the first MAX_REASONS files with their reasons."""
    groups: dict[str, list[FileOutcome]] = {}
    for outcome in trouble:
        groups.setdefault(outcome.reason_code or "unknown", []).append(outcome)
    lines = []
    for code, files in sorted(groups.items(), key=lambda group: -len(group[1])):
        lines.append(f"{code}: {len(files)} file{'s' if len(files) > 1 else ''}")
        lines += [f"- {f.path}: {f.reason}" for f in files[:MAX_REASONS]]
        if len(files) > MAX_REASONS:
            lines.append(f"- and {len(files) - MAX_REASONS} more")
    return lines


def crash_message(env: str, services: list[str], error: Exception) -> tuple[str, str]:
    """(title, body) for a run that ended with an unexpected error."""
    first = (str(error).splitlines() or [""])[0][:300]
    body = (
        f"The run ended with an error before finishing: {type(error).__name__}: {first}\n"
        f"Files it did not settle are still in landing; the next run takes them.\n"
        f"See more: ingestor status --service {','.join(services)} --env {env}"
    )
    return f"ingestor [{env}] {','.join(services)}: run failed", body


def send(urls: list[str], title: str, body: str) -> bool:
    """Send to every URL; False (and an error logged) if any could not be sent. Never raises."""
    try:
        import apprise

        sender = apprise.Apprise()
        for url in urls:
            sender.add(url)
        sent = bool(sender.notify(title=title, body=body, notify_type=apprise.NotifyType.FAILURE))
    except Exception as error:  # apprise's plugins (one per service) may raise anything: never the run's end
        log.error("notification failed: %s", type(error).__name__)
        return False
    if not sent:
        log.error("a notification could not be sent (%d URL(s))", len(urls))
    return sent
