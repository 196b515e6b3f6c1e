"""A fault-injecting HTTP proxy on loopback, for the Google clients against the local emulators.

It forwards every request to one upstream server and, per a schedule, answers some with an error status
(429, 500, 503), drops the connection before or after forwarding (a lost answer), or answers late. The
schedule is a function of the request (method, path) and how many requests came before; every decision is
recorded.

One fault stands in for what the BigQuery emulator cannot do: it runs a job before it answers its submission,
so a job is always DONE at once, where real BigQuery answers at once with the job PENDING or RUNNING and a
client polls it. `running` forwards, then answers the submission with the job still RUNNING (the outcome
left for a poll to read).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


@dataclass(frozen=True)
class Fault:
    """What to do with one request: `status` (answer that code instead), `drop` (close without forwarding),
    `lost` (forward, then close without answering), `delay` (forward after `delay` seconds), `running`
    (forward a job's submission, and answer it as still running)."""

    kind: str
    status: int = 0
    delay: float = 0.0
    reason: str = "backendError"  # the error's reason: Google clients retry some (backendError) by themselves


PASS = Fault("pass")
Schedule = Callable[[str, str, int], Fault]  # (method, path, n-th request seen) -> fault


@dataclass
class Proxy:
    """A running proxy: `url` to point a client at; `log` of (method, path, fault kind)."""

    url: str
    log: list[tuple[str, str, str]] = field(default_factory=list)
    schedule: Schedule = lambda method, path, n: PASS

    def injected(self) -> list[tuple[str, str, str]]:
        """The requests that got a fault."""
        return [entry for entry in self.log if entry[2] != "pass"]


def _still_running(data: bytes) -> bytes:
    """A job resource as BigQuery answers a submission: RUNNING, its outcome not known yet."""
    try:
        job = json.loads(data)
    except ValueError:
        return data
    if not isinstance(job, dict) or job.get("status", {}).get("state") != "DONE":
        return data
    job["status"] = {"state": "RUNNING"}
    return json.dumps(job).encode()


def _handler(proxy: Proxy, upstream: str) -> type[BaseHTTPRequestHandler]:
    target = urlparse(upstream)
    counter = iter(range(10**9))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with lock:
                n = next(counter)
                fault = proxy.schedule(self.command, self.path, n)
                proxy.log.append((self.command, self.path, fault.kind))
            if fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "status":
                error = {
                    "code": fault.status,
                    "message": "injected fault",
                    "errors": [{"reason": fault.reason, "message": "injected fault"}],
                }
                payload = json.dumps({"error": error}).encode()
                self.send_response(fault.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if fault.kind == "delay":
                time.sleep(fault.delay)
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                if fault.kind == "running":
                    data = _still_running(data)
                if fault.kind == "lost":  # the server acted, its answer never arrives
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_HEADERS and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

    return Handler


@contextmanager
def fault_proxy(upstream: str, schedule: Schedule | None = None) -> Iterator[Proxy]:
    """A proxy to `upstream` (`http://host:port`) on a free loopback port, for the duration of the block."""
    proxy = Proxy(url="")
    if schedule is not None:
        proxy.schedule = schedule
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, upstream))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
