"""`ingestor fetch --service spotify` against a local server that plays the Spotify Web API with real payloads.

The server pages with at most `PAGE` items (whatever `limit` asks) so that paging is exercised on small fixtures.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import ingestor_spotify.fetcher
import ingestor_spotify.plugin
from ingestor.conformance import FetcherConformance
from ingestor.testing import Harness

FETCH_FIXTURES = Path(__file__).parent / "fixtures" / "fetch"
PAGE = 5
CLIENT_ID, CLIENT_SECRET, REFRESH = "client-id-x", "client-secret-x", "refresh-token-x"
ACCESS = "access-token-x"
ALL_TYPES = [
    "recently_played", "saved_tracks", "saved_albums", "top_artists", "top_tracks",
    "followed_artists", "playlists", "user_profile", "artist_enrichment", "album_enrichment",
]  # fmt: skip


def _load(name: str) -> Any:
    return json.loads((FETCH_FIXTURES / name).read_text(encoding="utf-8"))


def _ms(iso: str) -> int:
    return ingestor_spotify.fetcher._ms(iso)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


class SpotifyApi:
    """Accounts + Web API on one local server (`/accounts`, `/v1`)."""

    def __init__(self, server: HTTPServer, *, batch: bool = False) -> None:
        self.server = server
        self.batch = batch  # whether GET /artists?ids= and /albums?ids= still answer
        self.plays = _load("recently_played.json")["items"]
        self.lists = {
            "/v1/me/tracks": _load("saved_tracks.json")["items"],
            "/v1/me/albums": _load("saved_albums.json")["items"],
            "/v1/me/playlists": _load("playlists.json")["items"],
            "/v1/me/top/artists": _load("top_artists.json")["items"],
            "/v1/me/top/tracks": _load("top_tracks.json")["items"],
        }
        self.followed = _load("followed_artists.json")["artists"]["items"]
        self.artist, self.album = _load("artist.json"), _load("album.json")
        self.object_requests: list[str] = []
        server.expect_request("/accounts/api/token", method="POST").respond_with_handler(self._token)
        server.expect_request(re.compile(r"/v1/.*")).respond_with_handler(self._api)

    def url(self, path: str, **params: Any) -> str:
        return self.server.url_for(path) + ("?" + urlencode(params) if params else "")

    def _token(self, request: Request) -> Response:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {basic}":
            return _json({"error": "invalid_client", "error_description": "Invalid client"}, 401)
        if request.form.get("grant_type") != "refresh_token" or request.form.get("refresh_token") != REFRESH:
            return _json({"error": "invalid_grant", "error_description": "Invalid refresh token"}, 400)
        return _json({"access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600, "scope": "user-read-private"})

    def _api(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {ACCESS}":
            return _json({"error": {"status": 401, "message": "Invalid access token"}}, 401)
        path, args = request.path, request.args
        if path == "/v1/me":
            return _json(_load("user_profile.json"))
        if path == "/v1/me/player/recently-played":
            return self._recently_played(args)
        if path == "/v1/me/following":
            start = 0
            if args.get("after"):
                start = [a["id"] for a in self.followed].index(args["after"]) + 1
            items = self.followed[start : start + PAGE]
            more = start + PAGE < len(self.followed)
            after = items[-1]["id"] if items else None
            following = self.url(path, type="artist", limit=PAGE, after=after) if more else None
            cursors = {"after": after if more else None}
            page = {"items": items, "total": len(self.followed), "limit": PAGE, "cursors": cursors, "next": following}
            return _json({"artists": page})
        if path in self.lists:
            items, offset = self.lists[path], int(args.get("offset", 0))
            page = items[offset : offset + PAGE]
            more = offset + PAGE < len(items)
            return _json(
                {
                    "href": self.url(path),
                    "items": page,
                    "limit": PAGE,
                    "offset": offset,
                    "total": len(items),
                    "next": self.url(path, offset=offset + PAGE, limit=PAGE) if more else None,
                    "previous": None,
                }
            )
        for kind, sample in (("artists", self.artist), ("albums", self.album)):
            if path == f"/v1/{kind}":
                if not self.batch:
                    return _json({"error": {"status": 403, "message": "Forbidden"}}, 403)
                ids = args["ids"].split(",")
                self.object_requests.extend(ids)
                return _json({kind: [{**copy.deepcopy(sample), "id": i} for i in ids]})
            if path.startswith(f"/v1/{kind}/"):
                item_id = path.rsplit("/", 1)[1]
                self.object_requests.append(item_id)
                return _json({**copy.deepcopy(sample), "id": item_id})
        return _json({"error": {"status": 404, "message": "Not found"}}, 404)

    def _recently_played(self, args: Any) -> Response:
        plays = sorted(self.plays, key=lambda p: _ms(p["played_at"]), reverse=True)
        if args.get("after"):
            newer = [p for p in plays if _ms(p["played_at"]) > int(args["after"])]
            page, more = newer[-PAGE:], len(newer) > PAGE  # the oldest plays after the cursor
        else:
            older = [p for p in plays if not args.get("before") or _ms(p["played_at"]) < int(args["before"])]
            page, more = older[:PAGE], len(older) > PAGE
        cursors = {"after": str(_ms(page[0]["played_at"])), "before": str(_ms(page[-1]["played_at"]))} if page else None
        following = None
        if more and page:
            key = "after" if args.get("after") else "before"
            following = self.url("/v1/me/player/recently-played", limit=PAGE, **{key: cursors[key]})  # type: ignore[index]
        return _json({"items": page, "next": following, "cursors": cursors, "limit": PAGE})

    def seen_ids(self) -> tuple[set[str], set[str]]:
        """Artist and album ids in everything the fetcher reads them from."""
        artists: set[str] = set()
        albums: set[str] = set()

        def track(t: dict[str, Any]) -> None:
            artists.update(a["id"] for a in t.get("artists", []))
            album(t.get("album") or {})

        def album(a: dict[str, Any]) -> None:
            if a.get("id"):
                albums.add(a["id"])
            artists.update(x["id"] for x in a.get("artists", []))

        for p in self.plays:
            track(p["track"])
        for item in self.lists["/v1/me/tracks"]:
            track(item["track"])
        for item in self.lists["/v1/me/albums"]:
            album(item["album"])
        for t in self.lists["/v1/me/top/tracks"]:
            track(t)
        artists.update(a["id"] for a in self.lists["/v1/me/top/artists"])
        artists.update(a["id"] for a in self.followed)
        return artists, albums


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> None:
    monkeypatch.setenv("INGESTOR_SPOTIFY_ACCOUNTS_URL", httpserver.url_for("/accounts"))
    monkeypatch.setenv("INGESTOR_SPOTIFY_API_URL", httpserver.url_for("/v1"))
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SPOTIFY_REFRESH_TOKEN", REFRESH)
    monkeypatch.setenv("INGESTOR_HTTP_BACKOFF", "0.01")
    for name in ("INGESTOR_SERVICE", "INGESTOR_DATA_TYPES", "INGESTOR_LANDING", "INGESTOR_SPOTIFY_ENRICHMENT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path, ingestor_spotify.plugin)


def fetch(h: Harness, *args: str) -> tuple[int, dict[str, Any], str]:
    result = h.fetch("--service", "spotify", "--json", *args)
    payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, payload, result.output + (result.stderr or "")


def by_type(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["data_type"]: d for d in payload["services"][0]["data_types"]}


def test_fetch_all_ten_types_pages_and_enriches(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    api = SpotifyApi(httpserver)
    code, payload, output = fetch(harness)
    assert code == 0, output
    types = by_type(payload)
    assert list(types) == ALL_TYPES
    assert {t: d["status"] for t, d in types.items()} == dict.fromkeys(ALL_TYPES, "fetched")
    counts = {t: d["records"] for t, d in types.items()}
    artists, albums = api.seen_ids()
    assert counts == {
        "recently_played": 12, "saved_tracks": 12, "saved_albums": 4, "top_artists": 18, "top_tracks": 18,
        "followed_artists": 6, "playlists": 6, "user_profile": 1,
        "artist_enrichment": len(artists), "album_enrichment": len(albums),
    }  # fmt: skip
    names = {t: d["files"][0].rsplit("/", 1)[1] for t, d in types.items()}
    assert re.fullmatch(r"\d{4}(_\d{2}){5}_\d{6}_spotify_recently_played\.jsonl", names["recently_played"])
    assert (
        names["artist_enrichment"].endswith("_artist_enrichment.jsonl") and "spotify" not in names["artist_enrichment"]
    )
    plays = harness.records(types["recently_played"]["files"][0])
    assert sorted(p["played_at"] for p in plays) == sorted(p["played_at"] for p in api.plays)
    assert types["recently_played"]["bookmark_after"] == str(max(_ms(p["played_at"]) for p in api.plays))
    top = harness.records(types["top_tracks"]["files"][0])
    assert {t["time_range"] for t in top} == {"short_term", "medium_term", "long_term"}
    enriched = harness.records(types["artist_enrichment"]["files"][0])
    assert {a["id"] for a in enriched} == artists and all(a["enriched_at"].endswith("+00:00") for a in enriched)
    assert sorted(api.object_requests) == sorted(artists | albums)  # batch refused (403): one by one
    # paging went through every page of the small-page server
    log = [r.full_path for r, _ in httpserver.log]
    assert sum(p.startswith("/v1/me/tracks") for p in log) == 3
    assert sum(p.startswith("/v1/me/player/recently-played") for p in log) == 3
    assert sum(p.startswith("/v1/me/following") for p in log) == 2


def test_second_run_fetches_nothing_new_then_one_new_play(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    api = SpotifyApi(httpserver)
    assert fetch(harness)[0] == 0
    before = harness.files()
    requests_before = len(httpserver.log)
    code, payload, output = fetch(harness)
    assert code == 0, output
    assert {d["status"] for d in payload["services"][0]["data_types"]} == {"up_to_date"}
    assert harness.files() == before
    newest = max(_ms(p["played_at"]) for p in api.plays)
    asked = [r.args.get("after") for r, _ in httpserver.log[requests_before:] if r.path.endswith("recently-played")]
    assert asked == [str(newest)]  # the `after` cursor of the bookmark

    play = copy.deepcopy(api.plays[0])
    play["played_at"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    api.plays.append(play)
    code, payload, _ = fetch(harness, "--data-types", "recently_played")
    types = by_type(payload)
    assert code == 0 and types["recently_played"]["records"] == 1
    assert harness.records(types["recently_played"]["files"][0]) == [play]


def test_batch_enrichment_when_the_endpoint_answers(
    harness: Harness, httpserver: HTTPServer, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGESTOR_SPOTIFY_ENRICHMENT", "batch")
    api = SpotifyApi(httpserver, batch=True)
    code, payload, output = fetch(harness, "--data-types", "saved_albums,album_enrichment")
    assert code == 0, output
    assert by_type(payload)["album_enrichment"]["records"] == 4
    assert any(r.path == "/v1/albums" for r, _ in httpserver.log)
    assert not any(r.path.startswith("/v1/albums/") for r, _ in httpserver.log)
    assert len(api.object_requests) == 4


def test_ids_seen_without_enrichment_stay_pending(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    SpotifyApi(httpserver)
    assert fetch(harness, "--data-types", "saved_albums")[0] == 0
    state = json.loads((harness.landing / "spotify/_state/bookmarks.json").read_text())["bookmarks"]
    assert len(state["album_enrichment"]["pending"]) == 4
    code, payload, _ = fetch(harness, "--data-types", "album_enrichment")
    assert code == 0 and by_type(payload)["album_enrichment"]["records"] == 4


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SPOTIFY_REFRESH_TOKEN", "s3cr3t-revoked", "400 invalid_grant"),
        ("SPOTIFY_CLIENT_SECRET", "s3cr3t-wrong", "401 invalid_client"),
    ],
)
def test_auth_failure_exits_1_with_a_clear_message(
    harness: Harness, httpserver: HTTPServer, env: None, monkeypatch: pytest.MonkeyPatch,
    variable: str, value: str, expected: str,
) -> None:  # fmt: skip
    SpotifyApi(httpserver)
    monkeypatch.setenv(variable, value)
    code, payload, output = fetch(harness)
    assert code == 1
    types = by_type(payload)
    assert {d["status"] for d in types.values()} == {"failed"}
    assert expected in types["recently_played"]["error"]
    assert "SPOTIFY_REFRESH_TOKEN" in types["user_profile"]["error"]
    assert value not in output and CLIENT_SECRET not in output and REFRESH not in output
    assert harness.files() == []
    assert not any(r.path.startswith("/v1/") for r, _ in httpserver.log)


def test_missing_credentials_is_a_configuration_error(
    harness: Harness, httpserver: HTTPServer, env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPOTIFY_CLIENT_SECRET")
    result = harness.cli("fetch", "--service", "spotify", "--data-dir", str(harness.root))
    assert result.exit_code == 2
    assert "SPOTIFY_CLIENT_SECRET" in result.stderr


def test_429_and_500_are_retried(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    httpserver.expect_oneshot_request("/v1/me/tracks").respond_with_data("", status=429, headers={"Retry-After": "1"})
    httpserver.expect_oneshot_request("/v1/me").respond_with_data("boom", status=500)
    SpotifyApi(httpserver)
    started = time.monotonic()
    code, payload, output = fetch(harness, "--data-types", "saved_tracks,user_profile")
    assert code == 0, output
    assert time.monotonic() - started >= 1.0
    assert {t: d["status"] for t, d in by_type(payload).items()} == {
        "saved_tracks": "fetched",
        "user_profile": "fetched",
    }
    statuses = [resp.status_code for _, resp in httpserver.log]
    assert 429 in statuses and 500 in statuses


def test_fetched_files_load(harness: Harness, httpserver: HTTPServer, env: None) -> None:
    SpotifyApi(httpserver)
    assert fetch(harness)[0] == 0
    result = harness.run("--service", "spotify", "--json")
    assert result.exit_code == 0, result.output
    assert harness.files("spotify/landing") == []
    assert harness.files("spotify/rejected") == []


def test_the_entry_point_module_stays_light() -> None:
    """Every `ingestor` command loads the plugins: the fetcher's HTTP stack only comes when spotify is fetched."""
    import subprocess
    import sys

    heavy = ("httpx", "tenacity", "garminconnect", "ingestor.fetching")
    probe = (
        "import sys, ingestor_spotify.plugin; ingestor_spotify.plugin.services(); "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


class TestFetcherConformance(FetcherConformance):
    """The core's fetcher check, against the recorded Spotify responses."""

    plugin = ingestor_spotify.plugin

    @pytest.fixture
    def recorded_api(self, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
        monkeypatch.delenv("INGESTOR_SPOTIFY_ENRICHMENT", raising=False)
        SpotifyApi(httpserver)
        return {
            "INGESTOR_SPOTIFY_ACCOUNTS_URL": httpserver.url_for("/accounts"),
            "INGESTOR_SPOTIFY_API_URL": httpserver.url_for("/v1"),
            "SPOTIFY_CLIENT_ID": CLIENT_ID,
            "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
            "SPOTIFY_REFRESH_TOKEN": REFRESH,
        }
