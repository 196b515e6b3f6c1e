"""`ingestor fetch --service chess` against a local HTTP server serving real chess.com payloads."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import ingestor_chess.fetcher
import ingestor_chess.plugin
from ingestor.conformance import FetcherConformance
from ingestor.testing import Harness

FETCH_FIXTURES = Path(__file__).parent / "fixtures" / "fetch"
USER = "erik"
SAMPLE_MONTH = "2020/05"  # the month of games_archive_month.json


def _load(name: str) -> Any:
    return json.loads((FETCH_FIXTURES / name).read_text(encoding="utf-8"))


class ChessApi:
    """The chess.com API for one user on a local server; `months` maps `YYYY/MM` to its games."""

    def __init__(self, server: HTTPServer, user: str = USER) -> None:
        self.server = server
        self.user = user
        archives = _load("games_archives_list.json")["archives"]
        # The real list (68 months of another player), with the sample month and the current one added.
        listed = [archive_month for url in archives if (archive_month := ingestor_chess.fetcher.archive_month(url))]
        self.current = f"{datetime.now(UTC):%Y/%m}"
        self.months: dict[str, list[dict[str, Any]]] = {m: [] for m in listed}
        self.months[SAMPLE_MONTH] = _load("games_archive_month.json")["games"]
        prefix = f"/pub/player/{user}"
        server.expect_request(prefix).respond_with_json(_load("player_profile.json"))
        server.expect_request(f"{prefix}/stats").respond_with_json(_load("player_stats.json"))
        server.expect_request(f"{prefix}/clubs").respond_with_json(_load("player_clubs.json"))
        server.expect_request(f"{prefix}/tournaments").respond_with_json(_load("player_tournaments.json"))
        server.expect_request(f"{prefix}/games/archives").respond_with_handler(self._archives)
        server.expect_request(re.compile(rf"{prefix}/games/\d{{4}}/\d{{2}}")).respond_with_handler(self._month)

    def _archives(self, request: Request) -> Response:
        urls = [f"https://api.chess.com/pub/player/{self.user}/games/{m}" for m in sorted(self.months)]
        return Response(json.dumps({"archives": urls}), content_type="application/json")

    def _month(self, request: Request) -> Response:
        month = request.path.split("/games/", 1)[1]
        return Response(json.dumps({"games": self.months.get(month, [])}), content_type="application/json")

    def month_requests(self) -> list[str]:
        """Monthly archive paths requested so far."""
        return [r.path for r, _ in self.server.log if re.search(r"/games/\d{4}/\d{2}$", r.path)]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    """Point the fetcher at the local server; fast retries."""
    monkeypatch.setenv("INGESTOR_CHESS_API_URL", httpserver.url_for("/pub"))
    monkeypatch.setenv("CHESS_USERNAMES", USER)
    monkeypatch.setenv("INGESTOR_HTTP_BACKOFF", "0.01")
    for name in ("INGESTOR_SERVICE", "INGESTOR_DATA_TYPES", "INGESTOR_LANDING", "INGESTOR_DRY_RUN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    """Both chess plugin modules: ingest side and fetch side."""
    return Harness(tmp_path, ingestor_chess.plugin)


def fetch(h: Harness, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `ingestor fetch --json` on the harness's embedded default; (exit code, result)."""
    result = h.fetch("--service", "chess", "--json", *args)
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, payload


def by_type(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["data_type"]: d for d in payload["services"][0]["data_types"]}


def test_fetch_writes_one_object_per_line(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    api = ChessApi(httpserver)
    code, payload = fetch(harness)
    assert code == 0, payload
    types = by_type(payload)
    assert {t: d["status"] for t, d in types.items()} == dict.fromkeys(
        ["player_profile", "player_stats", "games", "clubs", "tournaments"], "fetched"
    )
    files = harness.files("chess/landing")
    assert len(files) == 5
    for name in files:
        assert re.fullmatch(r"chess/landing/\d{4}(_\d{2}){5}(_\d{6})?_chess_erik_[a-z_]+\.jsonl", name), name
    assert harness.records(types["games"]["files"][0]) == api.months[SAMPLE_MONTH]
    assert types["games"]["records"] == 17
    assert types["clubs"]["records"] == 10
    tournaments = harness.records(types["tournaments"]["files"][0])
    assert len(tournaments) == 160 and {t["category"] for t in tournaments} == {"finished", "registered"}
    assert harness.records(types["player_profile"]["files"][0]) == [_load("player_profile.json")]
    # every monthly archive was fetched once (first run: full history)
    assert len(api.month_requests()) == len(api.months)
    # bookmarks live outside landing/
    state = json.loads((harness.landing / "chess/_state/bookmarks.json").read_text())
    assert state["bookmarks"]["games"][USER]["month"] == max(api.months)
    assert state["bookmarks"]["games"][USER]["end_time"] == max(g["end_time"] for g in api.months[SAMPLE_MONTH])
    # the user agent says who is asking
    assert all("ingestor/" in r.headers["User-Agent"] for r, _ in httpserver.log)


def test_second_run_fetches_nothing_new(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    api = ChessApi(httpserver)
    assert fetch(harness)[0] == 0
    before = harness.files()
    requested = len(api.month_requests())
    code, payload = fetch(harness)
    assert code == 0
    assert {d["status"] for d in payload["services"][0]["data_types"]} == {"up_to_date"}
    assert harness.files() == before
    assert len(api.month_requests()) == requested  # closed months are never fetched again


def test_current_month_is_refetched_until_closed(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    api = ChessApi(httpserver)
    games = api.months[SAMPLE_MONTH]
    now = int(time.time())
    api.months[api.current] = [{**copy.deepcopy(games[0]), "uuid": "new-1", "end_time": now - 100}]
    assert fetch(harness, "--data-types", "games")[0] == 0
    requested = len(api.month_requests())

    code, payload = fetch(harness, "--data-types", "games")  # the open month again: nothing new
    assert code == 0 and by_type(payload)["games"]["status"] == "up_to_date"
    assert api.month_requests()[requested:] == [f"/pub/player/{USER}/games/{api.current}"]

    api.months[api.current].append({**copy.deepcopy(games[1]), "uuid": "new-2", "end_time": now - 10})
    code, payload = fetch(harness, "--data-types", "games")
    assert code == 0
    games_fetch = by_type(payload)["games"]
    assert games_fetch["records"] == 1
    assert [g["uuid"] for g in harness.records(games_fetch["files"][0])] == ["new-2"]
    assert games_fetch["bookmark_after"][USER] == {"month": api.current, "end_time": now - 10, "closed": False}


def test_since_backfills_and_limit_stops_the_bookmark(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    api = ChessApi(httpserver)
    code, payload = fetch(harness, "--data-types", "games", "--limit", "5")
    assert code == 0
    first = by_type(payload)["games"]
    assert first["records"] == 5
    ordered = sorted(api.months[SAMPLE_MONTH], key=lambda g: g["end_time"])
    assert first["bookmark_after"][USER] == {"month": SAMPLE_MONTH, "end_time": ordered[4]["end_time"], "closed": False}
    code, payload = fetch(harness, "--data-types", "games")  # the rest of that month, then the newer months
    second = by_type(payload)["games"]
    assert second["records"] == 12
    assert [g["uuid"] for g in harness.records(second["files"][0])] == [g["uuid"] for g in ordered[5:]]
    # a backfill re-fetches from that day on, and does not move the bookmark back
    code, payload = fetch(harness, "--data-types", "games", "--since", "2020-05-10")
    backfill = by_type(payload)["games"]
    assert backfill["records"] == sum(
        1 for g in ordered if g["end_time"] >= datetime(2020, 5, 10, tzinfo=UTC).timestamp()
    )
    assert backfill["bookmark_after"] == second["bookmark_after"]


def test_dry_run_writes_nothing(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    ChessApi(httpserver)
    code, payload = fetch(harness, "--dry-run")
    assert code == 0
    assert {d["status"] for d in payload["services"][0]["data_types"]} == {"planned"}
    assert harness.files() == []


def test_429_with_retry_after_is_waited_for(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    ChessApi(httpserver)
    httpserver.expect_oneshot_request(f"/pub/player/{USER}").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    started = time.monotonic()
    code, payload = fetch(harness, "--data-types", "player_profile")
    assert code == 0, payload
    assert time.monotonic() - started >= 1.0
    assert by_type(payload)["player_profile"]["records"] == 1
    statuses = [(r.path, resp.status_code) for r, resp in httpserver.log]
    assert statuses == [(f"/pub/player/{USER}", 429), (f"/pub/player/{USER}", 200)]


def test_a_500_then_success(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    ChessApi(httpserver)
    httpserver.expect_oneshot_request(f"/pub/player/{USER}/stats").respond_with_data("oops", status=500)
    code, payload = fetch(harness, "--data-types", "player_stats")
    assert code == 0, payload
    assert by_type(payload)["player_stats"]["status"] == "fetched"


def test_a_failing_data_type_is_reported_and_exits_1(
    harness: Harness, httpserver: HTTPServer, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGESTOR_HTTP_ATTEMPTS", "2")
    httpserver.expect_request(f"/pub/player/{USER}/clubs").respond_with_data("down", status=503)  # first match wins
    ChessApi(httpserver)
    code, payload = fetch(harness)
    assert code == 1
    types = by_type(payload)
    assert types["clubs"]["status"] == "failed"
    assert f"/pub/player/{USER}/clubs -> 503" in types["clubs"]["error"]
    assert types["games"]["status"] == "fetched"  # the others went on
    state = json.loads((harness.landing / "chess/_state/bookmarks.json").read_text())
    assert "clubs" not in state["bookmarks"] and "games" in state["bookmarks"]


def test_unknown_player_and_bad_invocations(
    harness: Harness, httpserver: HTTPServer, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHESS_USERNAMES", "nobody")
    httpserver.expect_request("/pub/player/nobody").respond_with_json({"code": 0, "message": "not found"}, status=404)
    code, payload = fetch(harness, "--data-types", "player_profile")
    assert code == 1
    assert "nobody: GET" in by_type(payload)["player_profile"]["error"]
    assert fetch(harness, "--days", "3", "--since", "2024-01-01")[0] == 2
    assert fetch(harness, "--since", "yesterday")[0] == 2
    assert fetch(harness, "--data-types", "sleep")[0] == 2
    monkeypatch.delenv("CHESS_USERNAMES")
    result = harness.cli("fetch", "--service", "chess", "--data-dir", str(harness.root))
    assert result.exit_code == 2 and "CHESS_USERNAMES" in result.stderr


def test_end_to_end_fetch_then_run(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    ChessApi(httpserver)
    fetched = harness.cli("fetch", "--service", "chess", "--env", "dev", "--data-dir", str(harness.root))
    assert fetched.exit_code == 0, fetched.output
    loaded = harness.run("--service", "chess")
    assert loaded.exit_code == 0, loaded.output
    assert harness.files("chess/landing") == []
    assert harness.query("SELECT count(*), count(DISTINCT uuid) FROM dp_lake_dev.lake_chess__games") == [(17, 17)]
    assert harness.query("SELECT count(*) FROM dp_lake_dev.lake_chess__player_profile") == [(1,)]
    assert harness.query("SELECT count(*) FROM dp_lake_dev.lake_chess__clubs") == [(10,)]
    assert harness.query("SELECT count(*) FROM dp_lake_dev.lake_chess__tournaments") == [(160,)]
    assert harness.query("SELECT DISTINCT username FROM dp_lake_dev.lake_chess__player_stats") == [(USER,)]
    # a second fetch + run adds nothing
    assert harness.cli("fetch", "--service", "chess", "--data-dir", str(harness.root)).exit_code == 0
    assert harness.files("chess/landing") == []


def test_the_entry_point_module_stays_light() -> None:
    """Every `ingestor` command loads the plugins: the fetcher's HTTP stack only comes when chess is fetched."""
    import subprocess
    import sys

    heavy = ("httpx", "tenacity", "garminconnect", "ingestor.fetching")
    probe = (
        "import sys, ingestor_chess.plugin; ingestor_chess.plugin.services(); "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class TestFetcherConformance(FetcherConformance):
    """The core's fetcher check, against the recorded chess.com responses."""

    plugin = ingestor_chess.plugin

    @pytest.fixture
    def recorded_api(self, httpserver: HTTPServer) -> dict[str, str]:
        ChessApi(httpserver)
        return {"INGESTOR_CHESS_API_URL": httpserver.url_for("/pub"), "CHESS_USERNAMES": USER}
