"""How long BigQuery may take, and waiting on it: a deadline per operation (a job from its submission to its
end, or a call with its retries), requests whose timeouts never pass it, and a job's wait polled in short
slices under it. Every wait ends at a stop (see ingestor.run.stopping) and says what it waits for: each poll and
each failed poll at DEBUG with the job's id and the cause, a long wait at INFO now and then."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from ingestor.ops.metrics import RETRIES
from ingestor.run import stopping
from ingestor.warehouse import DeadlineExceeded
from ingestor.warehouse.bigquery.errors import is_transient

log = logging.getLogger("ingestor.warehouse.bigquery")

JOB_TIMEOUT = "INGESTOR_BQ_JOB_TIMEOUT"  # named in messages: the setting to raise
MIN_TIMEOUT = 1.0  # a request's shortest timeout, however close the deadline
POLL_FIRST, POLL_MAX = 0.5, 5.0  # seconds between a job's polls: doubling from the first, up to the last
TELL_EVERY = 30.0  # seconds between the INFO lines of a long wait


@dataclass(frozen=True)
class Limits:
    """Seconds BigQuery may take: one request (`call`: its timeout, the client's own retries of it included),
    one operation as a whole (`job`)."""

    call: float = 60.0
    job: float = 600.0


class Deadline:
    """The end of one operation: `seconds` from now. An operation begun before a stop ends at the stop; one
    begun after it (what a stopped run still does) ends when the stop's grace does."""

    def __init__(self, seconds: float, server: str = "BigQuery") -> None:
        self.server = server  # who did not answer, when it passes
        self.winding_down = stopping.asked()
        self.seconds = min(seconds, stopping.grace_left()) if self.winding_down else seconds
        self.end = time.monotonic() + self.seconds

    def left(self) -> float:
        """Seconds left."""
        return max(self.end - time.monotonic(), 0.0)

    def passed(self) -> bool:
        """Whether the deadline passed."""
        return self.left() <= 0

    def timeout(self, seconds: float) -> float:
        """A request's timeout: `seconds`, but not past the deadline."""
        return max(min(seconds, self.left()), MIN_TIMEOUT)

    def pause(self, seconds: float) -> None:
        """Sleep up to `seconds` (not past the deadline); a stop ends the sleep and raises it."""
        if stopping.wait(min(seconds, self.left())) and not self.winding_down:
            stopping.check()

    def expired(self, what: str, cause: object = None) -> DeadlineExceeded:
        """The error that ends an operation at its deadline (an outage: the files stay in landing)."""
        within = f"{self.seconds:g} s ({JOB_TIMEOUT})" if not self.winding_down else "the stopped run's grace"
        last = f"; last error: {cause}" if cause is not None else ""
        return DeadlineExceeded(f"{self.server} did not answer within {within}: {what}{last}")


def wait_for(job: Any, deadline: Deadline, call_timeout: float) -> Any:
    """Poll `job` (one jobs.get request each, its own retries none: a failed poll is logged and the next one
    is the retry) until it is DONE, in slices from POLL_FIRST to POLL_MAX, up to `deadline`. Its failure, if
    any, is for the caller to read (`job.error_result`)."""
    started = told = time.monotonic()
    pause, cause = POLL_FIRST, None
    while job.state != "DONE":
        try:
            job.reload(retry=None, timeout=deadline.timeout(call_timeout))
        except Exception as error:  # sorted by `is_transient` (the client's and the network's errors): others go up
            if not is_transient(error):
                raise
            RETRIES.inc()
            cause = error
            log.debug("job %s: poll failed (%s); polling again in %.1f s", job.job_id, error, pause)
        else:
            log.debug("job %s: %s after %.1f s", job.job_id, job.state, time.monotonic() - started)
            if job.state == "DONE":
                break
        if deadline.passed():
            raise deadline.expired(f"job {job.job_id} not done ({job.state})", cause)
        if time.monotonic() - told >= TELL_EVERY:
            told = time.monotonic()
            log.info("still waiting for job %s (%.0f s)", job.job_id, told - started)
        deadline.pause(pause)
        pause = min(pause * 2, POLL_MAX)
    return job
