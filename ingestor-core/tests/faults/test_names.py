"""Names from files and records never reach SQL unquoted, and an object name never moves a file out of its
service's folders."""

from __future__ import annotations

import json
import os
import posixpath
import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from ingestor.landing import LandingFile, UnsafeName, check_name, is_utf8
from ingestor.landing.local import LocalLanding
from ingestor.run.fate import safe_relative
from ingestor.testing import Harness
from ingestor.warehouse.duckdb import DuckDBWarehouse

from .conftest import SERVICE, plugin_module

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HOSTILE = [
    'a"b',
    "c'd",
    'x"; DROP TABLE fz_dev.events; --',
    "e`f",
    "g/*h*/",
    "i--j",
    "k;l",
    '"',
    "'",
    ";",
    "SELECT",
    "from",
    "\\",
    "m\u0000n",
    "ö\u200bp",
    "q r",
    "q-r",
]


class _Recorder:
    """A DuckDB connection that records every statement it is given."""

    def __init__(self, con: Any, log: list[str]) -> None:
        self._con, self._log = con, log

    def execute(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return self._con.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return self._con.executemany(sql, *args)

    def sql(self, sql: str, *args: Any) -> Any:
        self._log.append(sql)
        return self._con.sql(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _assert_only_quoted_identifiers(sql: str) -> None:
    """Every "identifier" is a plain one; every 'literal' is a plain name or a type (whose identifiers are plain)."""
    literals = re.findall(r"'([^']*)'", sql)
    for literal in literals:
        assert re.fullmatch(r'[A-Za-z0-9_ ,()\[\]"]*', literal), (literal, sql)
        for inner in re.findall(r'"([^"]*)"', literal):
            assert IDENTIFIER.fullmatch(inner), (inner, sql)
    code = re.sub(r"'[^']*'", "''", sql)
    for quoted in re.findall(r'"([^"]*)"', code):
        assert IDENTIFIER.fullmatch(quoted), (quoted, sql)
    bare = re.sub(r'"[^"]*"', '""', code)  # what is neither an identifier nor a literal: our own SQL only
    for fragment in (";", "--", "/*", "DROP", "`", "\\"):
        assert fragment not in bare, (fragment, sql)


def test_no_name_from_data_reaches_sql_unquoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    statements: list[str] = []
    original = DuckDBWarehouse.__init__

    def recording(self: DuckDBWarehouse, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.con = _Recorder(self.con, statements)  # type: ignore[assignment]

    monkeypatch.setattr(DuckDBWarehouse, "__init__", recording)
    h = Harness(tmp_path, plugin_module())
    record = {key: i for i, key in enumerate(HOSTILE)}
    record["nested"] = {key: f"v{i}" for i, key in enumerate(HOSTILE)}
    record["list"] = [{key: i} for i, key in enumerate(HOSTILE[:5])]
    name = 'it\'s a "name"; DROP TABLE x; --_fz_events.jsonl'
    h.land(f"{SERVICE}/landing/{name}", [record])
    run = h.run("--service", SERVICE, "--json")
    assert run.exit_code == 0, run.stdout
    # a second run adds columns and struct fields named from hostile keys: ALTER TABLE
    h.land(
        f"{SERVICE}/landing/2025_01_02_fz_events.jsonl",
        [{"later": 1, "nested": {k + "2": 1 for k in HOSTILE}, **{k + "2": 1 for k in HOSTILE}}],
    )
    assert h.run("--service", SERVICE).exit_code == 0
    assert statements and any("CREATE TABLE" in s for s in statements) and any("ALTER TABLE" in s for s in statements)
    for sql in statements:
        _assert_only_quoted_identifiers(sql)
        assert "it's" not in sql
    monkeypatch.undo()
    source = f"{SERVICE}/landing/{name}"
    assert h.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'fz_dev' ORDER BY 1") == [
        ("_ingestor_ledger",),
        ("events",),
    ]
    assert h.query("SELECT _source_file FROM fz_dev.events WHERE later IS NULL") == [(source,)]
    assert h.query("SELECT source_name FROM fz_dev._ingestor_ledger ORDER BY 1")[1] == (source,)
    row = h.query("SELECT * EXCLUDE (_dp_inserted_at, _source_file) FROM fz_dev.events WHERE later IS NULL")[0]
    scalars = sorted(v for v in row if isinstance(v, int))
    assert scalars == list(range(len(HOSTILE)))  # no value lost to a name collision
    nested = next(v for v in row if isinstance(v, dict) and len(v) >= len(HOSTILE))
    assert sorted(v for v in nested.values() if isinstance(v, str)) == sorted(f"v{i}" for i in range(len(HOSTILE)))
    assert json.loads(run.stdout)["files"][0]["destination"] == f"{SERVICE}/archive/{name}"


ESCAPES = [
    "../x",
    "../../etc/passwd",
    "a/../../b",
    "/abs/path",
    "a//b",
    "./a",
    "a/.",
    "..",
    ".",
    "",
    "a\\..\\..\\b",
    "..\\x",
    "a/\x00/b",
    "a/\n/../b",
    "a/b/",
    "a/%2e%2e/b",
    "a/…/b",
    "a/ ../b",
]


@pytest.mark.parametrize("relative", ESCAPES)
def test_a_destination_never_leaves_its_folder(relative: str) -> None:
    for folder in ("archive", "rejected"):
        destination = f"{SERVICE}/{folder}/{safe_relative(relative)}"
        assert check_name(destination) == destination  # a name every backend accepts
        assert posixpath.normpath(destination).startswith(f"{SERVICE}/{folder}/")
        assert ".." not in destination.split("/")


def test_random_names_never_escape() -> None:
    rng = random.Random(11)
    alphabet = ["..", ".", "/", "\\", "a", "_", " ", "\x00", "\n", "é", "%2e"]
    for _ in range(3000):
        relative = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        destination = f"{SERVICE}/rejected/{safe_relative(relative)}"
        assert check_name(destination) == destination
        assert posixpath.normpath(destination).startswith(f"{SERVICE}/rejected/"), relative


def test_names_of_any_bytes_become_utf8_names_in_their_folder() -> None:
    """A local file name may be any bytes: its destination is valid UTF-8, safe, and gives back the bytes."""
    rng = random.Random(12)
    alphabet = [b"\xe9", b"\xff", b"\xc3", b"\xc3\xa9", b"%", b"%E9", b"a", b"/", b"..", b".", b"\n", b"\\"]
    for _ in range(3000):
        raw = b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        name = os.fsdecode(raw)
        relative = safe_relative(name)
        destination = f"{SERVICE}/rejected/{relative}"
        assert check_name(destination) == destination and destination.encode(), raw
        assert posixpath.normpath(destination).startswith(f"{SERVICE}/rejected/"), raw
        if all(s not in (b"", b".", b"..") for s in raw.split(b"/")) and not set(raw) & set(b"\n\\"):
            assert (relative.encode() if is_utf8(name) else unquote_to_bytes(relative)) == raw  # (%-escaped)


@pytest.mark.parametrize(
    "name", ["../x", "fz/../../x", "/etc/passwd", "fz/landing/../../../x", "fz//x", "fz/./x", "fz\\..\\x", "fz/\x01"]
)
def test_the_local_landing_refuses_names_that_escape(tmp_path: Path, name: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "victim").write_bytes(b"keep")
    landing = LocalLanding(root)
    for action in (
        lambda: landing.write(name, b"x"),
        lambda: landing.read(name),
        lambda: landing.move(LandingFile("fz/landing/a.jsonl", 1, "1"), name),
    ):
        with pytest.raises((UnsafeName, FileNotFoundError)):
            action()
    assert (tmp_path / "victim").read_bytes() == b"keep" and list(root.rglob("*")) == []
    # a listed name (even with characters check_name refuses) is still confined to the root
    if ".." in name.split("/") or name.startswith("/"):
        with pytest.raises(UnsafeName):
            landing._listed(name)


def test_the_local_landing_refuses_symbolic_links_out_of_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "fz" / "landing").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.jsonl").write_bytes(b"keep")
    (root / "fz" / "archive").symlink_to(outside, target_is_directory=True)
    (root / "fz" / "landing" / "link.jsonl").symlink_to(outside / "secret.jsonl")
    (root / "fz" / "landing" / "a.jsonl").write_bytes(b"x")
    landing = LocalLanding(root)
    assert [(f.name, f.fault) for f in landing.list("fz/landing/")] == [  # a link is listed, never followed
        ("fz/landing/a.jsonl", None),
        ("fz/landing/link.jsonl", "not a regular file (a symbolic link, not followed)"),
    ]
    file = LandingFile("fz/landing/a.jsonl", 1, "1")
    for action in (
        lambda: landing.write("fz/archive/b.jsonl", b"x"),
        lambda: landing.read("fz/archive/secret.jsonl"),
        lambda: landing.move(file, "fz/archive/a.jsonl"),
        lambda: landing.read("fz/landing/link.jsonl"),
        lambda: landing.checksum(LandingFile("fz/landing/link.jsonl", 4, "1")),
        lambda: landing.write("fz/archive/b.jsonl", b"x"),  # again: a refused folder is not remembered as safe
    ):
        with pytest.raises(UnsafeName):
            action()
    assert sorted(p.name for p in outside.iterdir()) == ["secret.jsonl"]
    assert (root / "fz" / "landing" / "a.jsonl").read_bytes() == b"x"


def test_a_listed_name_with_refused_characters_is_rejected_and_moved(tmp_path: Path) -> None:
    """Found here: a landing file whose name holds a backslash or a control character (legal on disk) was
    refused by the move itself, so it stayed in landing as `failed` on every run. It is now rejected and moved."""
    h = Harness(tmp_path, plugin_module())
    for name in ("tab\there_fz_events.jsonl", "back\\slash_fz_events.jsonl", "esc\x1b_fz_events.jsonl"):
        h.land(f"{SERVICE}/landing/{name}", [{"uid": 1}])
    run = h.run("--service", SERVICE, "--json")
    outcomes = json.loads(run.stdout)["files"]
    assert {o["status"] for o in outcomes} == {"rejected"} and len(outcomes) == 3
    assert {o["destination"] for o in outcomes} == {
        f"{SERVICE}/rejected/tab_here_fz_events.jsonl",
        f"{SERVICE}/rejected/back/slash_fz_events.jsonl",
        f"{SERVICE}/rejected/esc__fz_events.jsonl",
    }
    assert h.files(f"{SERVICE}/landing") == []
    assert all(o["destination"] + ".reason.json" in h.files() for o in outcomes)
