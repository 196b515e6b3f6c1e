"""The `fetch` hook, `ingestor fetch`, and the shared fetching helpers (bookmarks, names, HTTP retries)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from ingestor import DataType, Field, SecretStr, Service, ServiceSettings, hookimpl
from ingestor.fetching import (
    AuthError,
    BookmarkStore,
    ConfigError,
    FetchError,
    FetchRequest,
    FetchResult,
    RetryTransport,
    TypeFetch,
    describe_error,
    file_timestamp,
    http_client,
    retry_after_seconds,
    run_fetch,
    safe_url,
    user_agent,
    write_landing_file,
)
from ingestor.landing.local import LocalLanding
from ingestor.settings import HttpSettings
from ingestor.testing import Harness

NOW = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def request(tmp_path: Path, **kwargs: Any) -> FetchRequest:
    return FetchRequest(landing=LocalLanding(tmp_path), now=NOW, **kwargs)


# --- names and writes ---


def test_file_timestamp_is_utc_and_sorts_like_time() -> None:
    assert file_timestamp(NOW) == "2025_03_04_05_06_07_890123"
    assert file_timestamp(NOW, "second") == "2025_03_04_05_06_07"
    local = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Brussels"))
    assert file_timestamp(local) == "2025_03_04_05_06_07_890123"
    later = NOW + timedelta(microseconds=1)
    assert file_timestamp(later) > file_timestamp(NOW)


def test_create_only_writes_never_replace_and_keep_the_suffix(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    first = write_landing_file(landing, "acme", "acme_events", b'{"a":1}\n', NOW)
    second = write_landing_file(landing, "acme", "acme_events", b'{"a":2}\n', NOW)
    assert first == "acme/landing/2025_03_04_05_06_07_890123_acme_events.jsonl"
    assert second == "acme/landing/2025_03_04_05_06_07_890124_acme_events.jsonl"
    assert landing.read(first) == b'{"a":1}\n'
    third = write_landing_file(landing, "acme", "acme_events", b"{}\n", NOW, "second")
    fourth = write_landing_file(landing, "acme", "acme_events", b"{}\n", NOW, "second")
    assert third.endswith("2025_03_04_05_06_07_acme_events.jsonl")
    assert fourth.endswith("2025_03_04_05_06_08_acme_events.jsonl")


def test_bookmarks_live_outside_landing_and_round_trip(tmp_path: Path) -> None:
    landing = LocalLanding(tmp_path)
    store = BookmarkStore(landing, "acme")
    assert store.get("events") is None
    store.set("events", {"cursor": 3})
    store.save(NOW)
    assert (tmp_path / "acme/_state/bookmarks.json").is_file()
    assert list(landing.list("acme/landing/")) == []
    assert BookmarkStore(landing, "acme").get("events") == {"cursor": 3}
    (tmp_path / "acme/_state/bookmarks.json").write_text("{nope")
    with pytest.raises(FetchError, match="not valid JSON"):
        BookmarkStore(landing, "acme")
    result = run_fetch("acme", request(tmp_path), {"events": lambda task: None})
    assert result.data_types[0].status == "failed" and "not valid JSON" in (result.data_types[0].error or "")


def test_request_window(tmp_path: Path) -> None:
    assert request(tmp_path).start is None
    assert request(tmp_path, days=1).start == date(2025, 3, 4)
    assert request(tmp_path, days=7).start == date(2025, 2, 26)
    assert request(tmp_path, since=date(2024, 1, 1)).start == date(2024, 1, 1)
    with pytest.raises(ValueError, match="not both"):
        request(tmp_path, days=2, since=date(2024, 1, 1))
    assert request(tmp_path, data_types=["a"]).wants("a") and not request(tmp_path, data_types=["a"]).wants("b")


# --- run_fetch ---


def test_run_fetch_records_files_bookmarks_and_failures(tmp_path: Path) -> None:
    def events(task: TypeFetch) -> None:
        task.write([{"id": (task.bookmark or 0) + 1}, {"id": (task.bookmark or 0) + 2}])
        task.bookmark = (task.bookmark or 0) + 2

    def broken(task: TypeFetch) -> None:
        raise FetchError("the API is gone")

    def partial(task: TypeFetch) -> None:
        task.write([{"id": 1}], suffix="acme_alice_partial")
        task.error("bob: not found")
        task.bookmark = {"alice": 1}

    fetchers = {"events": events, "broken": broken, "partial": partial}
    result = run_fetch("acme", request(tmp_path), fetchers)
    outcome = {d.data_type: d for d in result.data_types}
    assert not result.success
    assert outcome["events"].status == "fetched" and outcome["events"].records == 2
    assert outcome["events"].bookmark_before is None and outcome["events"].bookmark_after == 2
    assert outcome["broken"].status == "failed" and outcome["broken"].error == "the API is gone"
    assert outcome["partial"].status == "failed" and outcome["partial"].files
    store = BookmarkStore(LocalLanding(tmp_path), "acme")
    assert store.get("events") == 2 and store.get("broken") is None and store.get("partial") == {"alice": 1}

    again = run_fetch("acme", request(tmp_path, data_types=["events"]), fetchers)
    assert [d.data_type for d in again.data_types] == ["events"]
    assert again.data_types[0].bookmark_before == 2


def test_an_auth_error_fails_every_remaining_type(tmp_path: Path) -> None:
    calls: list[str] = []

    def refused(task: TypeFetch) -> None:
        calls.append(task.data_type)
        raise AuthError("credentials refused")

    def never(task: TypeFetch) -> None:
        calls.append(task.data_type)

    result = run_fetch("acme", request(tmp_path), {"a": refused, "b": never})
    assert calls == ["a"]
    assert [(d.status, d.error) for d in result.data_types] == [("failed", "credentials refused")] * 2


def test_dry_run_writes_no_file_and_no_bookmark(tmp_path: Path) -> None:
    def events(task: TypeFetch) -> None:
        task.write([{"id": 1}])
        task.bookmark = 1

    result = run_fetch("acme", request(tmp_path, dry_run=True), {"events": events})
    assert result.data_types[0].status == "planned"
    assert result.data_types[0].files == ["acme/landing/2025_03_04_05_06_07_890123_acme_events.jsonl"]
    assert not any(tmp_path.rglob("*.json*"))


def test_a_configuration_error_is_raised(tmp_path: Path) -> None:
    def unconfigured(task: TypeFetch) -> None:
        raise ConfigError("ACME_USER is not set")

    with pytest.raises(ConfigError):
        run_fetch("acme", request(tmp_path), {"events": unconfigured})


# --- HTTP ---


def test_retry_after_is_honoured(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/x").respond_with_data("", status=429, headers={"Retry-After": "2"})
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    waits: list[float] = []
    with httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), sleep=waits.append)) as client:
        assert client.get(httpserver.url_for("/x")).json() == {"ok": True}
    assert waits == [2.0]


def test_retry_after_as_http_date_and_capped() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    response = httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})
    assert 25 <= (retry_after_seconds(response) or 0) <= 30
    assert retry_after_seconds(httpx.Response(429)) is None
    waits: list[float] = []
    transport = httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "999"}))
    with httpx.Client(transport=RetryTransport(transport, attempts=2, max_wait=5, sleep=waits.append)) as client:
        assert client.get("http://test/x").status_code == 429  # the last answer, after the retries
    assert waits == [5]


def test_transient_5xx_then_success_with_backoff(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/x").respond_with_data("boom", status=500)
    httpserver.expect_oneshot_request("/x").respond_with_data("busy", status=503)
    httpserver.expect_request("/x").respond_with_json({"ok": True})
    waits: list[float] = []
    transport = RetryTransport(httpx.HTTPTransport(), backoff=0.5, sleep=waits.append)
    with httpx.Client(transport=transport) as client:
        assert client.get(httpserver.url_for("/x")).status_code == 200
    assert len(waits) == 2 and all(0 < w <= 4 for w in waits)


def test_client_errors_are_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("no", status=404)
    waits: list[float] = []
    with httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), sleep=waits.append)) as client:
        assert client.get(httpserver.url_for("/x")).status_code == 404
    assert waits == [] and len(httpserver.log) == 1


def test_connection_errors_are_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits: list[float] = []
    with (
        httpx.Client(transport=RetryTransport(httpx.HTTPTransport(), attempts=3, sleep=waits.append)) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get(f"http://127.0.0.1:{port}/x")
    assert len(waits) == 2


def test_http_client_user_agent_and_base_url(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGESTOR_FETCH_CONTACT", "me@example.org")
    httpserver.expect_request("/api/v1/thing").respond_with_json({})
    with http_client("acme", httpserver.url_for("/api/v1"), settings=HttpSettings()) as client:
        client.get("thing").raise_for_status()
    agent = httpserver.log[0][0].headers["User-Agent"]
    assert agent == user_agent("acme", "me@example.org") and agent.startswith("ingestor/") and "acme fetcher" in agent
    assert "me@example.org" in agent


def test_messages_never_carry_credentials() -> None:
    url = "https://user:pw@api.example.org/v1/x?access_token=abc&client_secret=def&page=2"
    assert safe_url(url) == "https://api.example.org/v1/x?access_token=REDACTED&client_secret=REDACTED&page=2"
    request = httpx.Request("GET", url)
    error = httpx.HTTPStatusError("x", request=request, response=httpx.Response(403, request=request))
    message = describe_error(error)
    assert message.startswith("GET https://api.example.org/v1/x?") and "403 Forbidden" in message
    assert "abc" not in message and "pw" not in message


# --- the hook and the command ---


class AcmeFetch:
    """Service `acme` with a fetcher: `events` counts up, `flaky` fails when asked to."""

    def __init__(self, fail: bool = False, config_error: bool = False) -> None:
        self.fail = fail
        self.config_error = config_error
        self.requests: list[FetchRequest] = []

    @hookimpl
    def services(self) -> list[Service]:
        types = [
            DataType(service="acme", name="events", dataset="lake_{env}", table="acme__events", primary_key=("id",)),
            DataType(service="acme", name="flaky", dataset="lake_{env}", table="acme__flaky"),
        ]
        return [Service(name="acme", data_types=types, fetcher=self.fetch)]

    def fetch(self, request: FetchRequest) -> FetchResult:
        if self.config_error:
            raise ConfigError("ACME_TOKEN is not set")
        self.requests.append(request)

        def events(task: TypeFetch) -> None:
            start = int(task.bookmark or 0)
            records = [{"id": i} for i in range(start + 1, 4)][: task.remaining]
            task.write(records)
            task.bookmark = start + len(records)

        def flaky(task: TypeFetch) -> None:
            if self.fail:
                raise FetchError("GET /flaky -> 503 Service Unavailable")

        return run_fetch("acme", request, {"events": events, "flaky": flaky})


class Quiet:
    """Service `quiet`: data types, but no fetcher."""

    @hookimpl
    def services(self) -> list[Service]:
        return [
            Service(
                name="quiet", data_types=[DataType(service="quiet", name="things", dataset="q_{env}", table="things")]
            )
        ]


def fetch_cli(h: Harness, *args: str, env: dict[str, str] | None = None) -> Any:
    return h.cli("fetch", "--data-dir", str(h.root), *args, env=env)


def test_fetch_command_writes_into_the_embedded_default_then_run_loads(tmp_path: Path) -> None:
    plugin = AcmeFetch()
    h = Harness(tmp_path, plugin)
    result = fetch_cli(h, "--service", "acme", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["success"] is True
    events = payload["services"][0]["data_types"][0]
    assert events["status"] == "fetched" and events["records"] == 3 and events["bookmark_after"] == 3
    assert h.files("acme/landing") == [events["files"][0]]
    assert payload["services"][0]["landing"] == (tmp_path / "ela-dp-dev").as_uri()
    assert h.run("--service", "acme").exit_code == 0
    assert h.query("SELECT count(*) FROM lake_dev.acme__events") == [(3,)]
    again = fetch_cli(h, "--service", "acme")
    assert again.exit_code == 0 and "up_to_date" in again.stdout
    assert h.files("acme/landing") == []


def test_fetch_options_reach_the_request(tmp_path: Path) -> None:
    plugin = AcmeFetch()
    h = Harness(tmp_path, plugin)
    other = tmp_path / "elsewhere"
    result = fetch_cli(h, "-s", "acme", "-t", "events", "--since", "2024-02-03", "--limit", "2", "--dry-run",
                       "--landing", other.as_uri())  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = plugin.requests[-1]
    assert (sent.data_types, sent.since, sent.limit, sent.dry_run) == (["events"], date(2024, 2, 3), 2, True)
    assert sent.landing.url == other.as_uri()
    assert "planned" in result.stdout and not other.exists()
    assert fetch_cli(h, "-s", "acme", "--days", "3").exit_code == 0
    assert plugin.requests[-1].days == 3


def test_fetch_exit_codes(tmp_path: Path) -> None:
    h = Harness(tmp_path, AcmeFetch(fail=True), Quiet())
    failed = fetch_cli(h, "--service", "acme")
    assert failed.exit_code == 1 and "503 Service Unavailable" in failed.stdout
    assert fetch_cli(h, "--service", "acme", "--days", "2", "--since", "2024-01-01").exit_code == 2
    assert fetch_cli(h, "--service", "acme", "--since", "2024-13-01").exit_code == 2
    assert fetch_cli(h, "--service", "acme", "--since", "2999-01-01").exit_code == 2
    assert fetch_cli(h, "--service", "acme", "--limit", "0").exit_code == 2
    assert fetch_cli(h, "--service", "nope").exit_code == 2
    assert fetch_cli(h).exit_code == 2
    assert fetch_cli(h, "--service", "acme", "--data-types", "things").exit_code == 2
    quiet = fetch_cli(h, "--service", "quiet")
    assert quiet.exit_code == 2 and "the quiet plugin has no fetcher" in quiet.stderr
    unconfigured = fetch_cli(Harness(tmp_path, AcmeFetch(config_error=True)), "--service", "acme")
    assert unconfigured.exit_code == 2 and "ACME_TOKEN" in unconfigured.stderr


class AcmeSettings(ServiceSettings):
    """What the `acme` fetcher of `Configured` reads: a token (a secret) and a page size."""

    token: SecretStr | None = Field(None, validation_alias="ACME_TOKEN")
    page: int = Field(10, validation_alias="ACME_PAGE")


class Configured:
    """Service `acme` whose fetcher declares its settings (`settings` given: a reference to that class)."""

    def __init__(self, settings: object = AcmeSettings) -> None:
        self.settings = settings
        self.requests: list[FetchRequest] = []

    @hookimpl
    def services(self) -> list[Service]:
        things = DataType(service="acme", name="events", dataset="lake_{env}", table="acme__events")
        return [Service(name="acme", data_types=[things], fetcher=self.fetch, settings=self.settings)]

    def fetch(self, request: FetchRequest) -> FetchResult:
        self.requests.append(request)
        settings = request.settings_as(AcmeSettings)
        if settings.token is None:
            raise ConfigError("ACME_TOKEN is not set")
        return run_fetch("acme", request, {"events": lambda task: task.write([{"page": settings.page}])})


def test_a_fetcher_gets_its_settings_and_the_http_settings_built_at_the_edge(tmp_path: Path) -> None:
    plugin = Configured()
    h = Harness(tmp_path, plugin)
    env = {"ACME_TOKEN": "s3cr3t-token", "ACME_PAGE": "3", "INGESTOR_HTTP_ATTEMPTS": "2"}
    result = fetch_cli(h, "--service", "acme", "--json", env=env)
    assert result.exit_code == 0, result.output
    sent = plugin.requests[-1]
    assert isinstance(sent.settings, AcmeSettings) and sent.settings.page == 3 and sent.http.attempts == 2
    assert sent.settings.token is not None and sent.settings.token.get_secret_value() == "s3cr3t-token"
    assert "s3cr3t-token" not in result.output and "s3cr3t-token" not in repr(sent)
    assert h.records(json.loads(result.stdout)["services"][0]["data_types"][0]["files"][0]) == [{"page": 3}]
    missing = fetch_cli(h, "--service", "acme", env={"ACME_PAGE": "3"})
    assert missing.exit_code == 2 and "ACME_TOKEN is not set" in missing.stderr


def test_invalid_settings_of_a_service_are_a_configuration_error_that_names_no_value(tmp_path: Path) -> None:
    h = Harness(tmp_path, Configured())
    bad = fetch_cli(h, "--service", "acme", env={"ACME_TOKEN": "s3cr3t-token", "ACME_PAGE": "s3cr3t-page"})
    assert bad.exit_code == 2 and "acme: invalid configuration: ACME_PAGE:" in bad.stderr
    assert "s3cr3t" not in bad.output
    not_settings = fetch_cli(Harness(tmp_path, Configured(settings="json:dumps")), "--service", "acme")
    assert not_settings.exit_code == 2 and "is not a pydantic-settings class" in not_settings.stderr
    none = fetch_cli(Harness(tmp_path, Configured(settings=None)), "--service", "acme")
    assert none.exit_code == 2 and "expects AcmeSettings settings, got none" in none.stderr
