"""A hostile input corpus, built in code, checked through one real run: each file has its expected outcome (and
reason); none crashes the run, escapes the service's folders, or loses a record silently.

Reader-level cases already covered one by one (tests/test_reader_catalog_names.py, tests/test_engine.py) are
here again only as members of the corpus, where they must coexist in one run with everything else.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from ingestor.staging.reader import MAX_DEPTH
from ingestor.testing import Harness

from .conftest import SERVICE, plugin_module

pytestmark = pytest.mark.timeout(120)
HUGE = 6 * 1024 * 1024


@dataclass
class Case:
    """One landing file (`name` below `fz/landing/`) and what must become of it."""

    name: str
    data: bytes
    status: str  # loaded | empty | rejected
    reason: str = ""  # a fragment of the rejection reason
    rows: int | None = None  # rows expected in the table from this file (loaded)
    check: Callable[[Harness, str], None] | None = None


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def _gzip_members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(p) for p in parts)


def _corrupt(data: bytes) -> bytes:
    mid = len(data) // 2
    return data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 8]) + data[mid + 8 :]


def _value(sql_expr: str, expected: Any) -> Callable[[Harness, str], None]:
    def check(h: Harness, source: str) -> None:
        assert h.query(f"SELECT {sql_expr} FROM fz_dev.events WHERE _source_file = ?", [source]) == expected

    return check


def _every_value_kept(h: Harness, source: str) -> None:
    """Hostile keys: every value lands in some column (sanitized, deduplicated), none is dropped."""
    row = h.query(
        "SELECT * EXCLUDE (_dp_inserted_at, _source_file) FROM fz_dev.events WHERE _source_file = ?", [source]
    )[0]
    assert sorted(v for v in row if v is not None) == [*range(1, 13), 7007]


HOSTILE_KEYS = {
    "uid": 7007,
    "a b": 1,
    "a-b": 2,
    "": 3,
    "日本": 4,
    "中国": 5,
    'x"y': 6,
    "; DROP TABLE fz_dev.events; --": 7,
    "x" * 400: 8,
    "x" * 400 + "y": 9,
    "_PARTITIONTIME": 10,
    "\u0000": 11,
    "Uid": 12,
}
MANY_RECORDS = b"".join(b'{"uid": %d, "v": "r"}\n' % i for i in range(3000))


def corpus() -> list[Case]:
    """The hostile inputs; a builder, so no binary file is committed."""
    many = gzip.compress(MANY_RECORDS)
    return [
        Case("malformed_fz_events.jsonl", b'{"uid": 1}\n{"uid": 2,,}\n', "rejected", "line 2"),
        Case("truncated_last_line_fz_events.jsonl", b'{"uid": 1}\n{"uid": 2, "v": "ab', "rejected", "line 2"),
        Case("no_final_newline_fz_events.jsonl", b'{"uid": 1}\n{"uid": 2}', "loaded", rows=2),
        Case("bom_fz_events.jsonl", b'\xef\xbb\xbf{"uid": 1}\n', "loaded", rows=1),
        Case("bom_gzip_fz_events.jsonl.gz", gzip.compress(b'\xef\xbb\xbf{"uid": 1}\n'), "loaded", rows=1),
        Case("bom_on_line_2_fz_events.jsonl", b'{"uid": 1}\n\xef\xbb\xbf{"uid": 2}\n', "rejected", "line 2"),
        Case("invalid_utf8_fz_events.jsonl", b'{"uid": 1}\n{"v": "\xff\xfe"}\n', "rejected", "line 2"),
        Case("lone_surrogate_fz_events.jsonl", b'{"v": "\\ud800"}\n', "rejected", "line 1"),
        Case("crlf_fz_events.jsonl", b'{"uid": 1}\r\n{"uid": 2}\r\n', "loaded", rows=2),
        Case("cr_only_fz_events.jsonl", b'{"uid": 1}\r{"uid": 2}\r', "rejected", "line 1"),
        Case("json_array_fz_events.jsonl", b'[{"uid": 1}, {"uid": 2}]\n', "rejected", "expected a JSON object"),
        Case("pretty_array_fz_events.jsonl", b'[\n  {"uid": 1}\n]\n', "rejected", "line 1"),
        Case("pretty_object_fz_events.jsonl", b'{\n  "uid": 1\n}\n', "rejected", "line 1"),
        Case("scalars_fz_events.jsonl", b'{"uid": 1}\n7\n', "rejected", "expected a JSON object"),
        Case("null_lines_fz_events.jsonl", b'null\n{"uid": 1}\nnull\n', "loaded", rows=1),  # null: no record
        Case("blank_lines_fz_events.jsonl", b'\n\n{"uid": 1}\n  \n\t\n{"uid": 2}\n\n', "loaded", rows=2),
        Case("whitespace_only_fz_events.jsonl", b"\n \n\t\r\n", "empty"),
        Case("zero_byte_fz_events.jsonl", b"", "empty"),
        Case("gzip_fz_events.jsonl.gz", many, "loaded", rows=3000),
        Case("gzip_members_fz_events.jsonl.gz", _gzip_members(b'{"uid": 1}\n', b'{"uid": 2}\n'), "loaded", rows=2),
        Case("gzip_empty_fz_events.jsonl.gz", gzip.compress(b""), "empty"),
        Case("gzip_corrupt_fz_events.jsonl.gz", _corrupt(many), "rejected", "malformed NDJSON"),  # garbage or CRC
        Case("gzip_truncated_fz_events.jsonl.gz", many[: len(many) // 2], "rejected", "compressed"),
        Case("not_gzip_fz_events.jsonl.gz", b'{"uid": 1}\n', "rejected", "compressed"),
        Case("gzip_named_plain_fz_events.jsonl", gzip.compress(b'{"uid": 1}\n'), "rejected", "line 1"),
        Case(
            "huge_line_fz_events.jsonl",
            orjson.dumps({"uid": 1, "big": "x" * HUGE}) + b"\n",
            "loaded",
            rows=1,
            check=_value("length(big)", [(HUGE,)]),
        ),
        Case(
            "int_beyond_64_bits_fz_events.jsonl",
            b'{"uid": 123456789012345678901234567890}\n',
            "rejected",
            "does not fit 64 bits",
        ),
        Case(
            "negative_beyond_int64_fz_events.jsonl",
            b'{"neg": -9223372036854775809}\n',
            "rejected",
            "does not fit 64 bits",
        ),  # orjson would have returned a rounded float: refused, never rounded
        Case(
            "uint64_fz_events.jsonl",
            b'{"u64": 18446744073709551615, "i64min": -9223372036854775808}\n',
            "loaded",
            rows=1,
            check=_value("u64::VARCHAR, i64min", [("18446744073709551615", -9223372036854775808)]),
        ),
        Case("nan_fz_events.jsonl", b'{"f": NaN}\n', "rejected", "line 1"),
        Case("infinity_fz_events.jsonl", b'{"f": 1}\n{"f": -Infinity}\n', "rejected", "line 2"),
        Case("float_overflow_fz_events.jsonl", b'{"f": 1e999}\n', "rejected", "line 1"),
        Case(
            "duplicate_keys_fz_events.jsonl",
            b'{"uid": 1, "dup": "first", "dup": "last"}\n',
            "loaded",
            rows=1,
            check=_value("dup", [("last",)]),
        ),
        Case("deep_ok_fz_events.jsonl", f'{{"deep_ok": {_deep(MAX_DEPTH - 2)}}}\n'.encode(), "loaded", rows=1),
        Case(
            "deep_too_fz_events.jsonl",
            f'{{"deep_too": {_deep(MAX_DEPTH)}}}\n'.encode(),
            "rejected",
            f"nested deeper than {MAX_DEPTH} levels",
        ),
        # 60 to 190 levels used to pass the parser and then crash the whole run (RecursionError in the schema code)
        Case("deep_100_fz_events.jsonl", f'{{"d": {_deep(100)}}}\n'.encode(), "rejected", "nested deeper"),
        Case("deep_parser_limit_fz_events.jsonl", f'{{"d": {_deep(5000)}}}\n'.encode(), "rejected", "line 1"),
        Case(
            "deep_mixed_fz_events.jsonl",
            ('{"m": ' + '{"a": [' * 40 + "1" + "]}" * 40 + "}\n").encode(),
            "rejected",
            "nested deeper",
        ),
        Case("case_keys_1_fz_events.jsonl", b'{"uid": 1, "CaseKey": "upper"}\n', "loaded", rows=1),
        Case(
            "case_keys_2_fz_events.jsonl",
            b'{"uid": 2, "casekey": "lower"}\n',
            "loaded",
            rows=1,
            check=_value("CaseKey", [("lower",)]),
        ),
        Case(
            "hostile_keys_fz_events.jsonl",
            orjson.dumps(HOSTILE_KEYS) + b"\n",
            "loaded",
            rows=1,
            check=_every_value_kept,
        ),
        Case("type_flip_1_fz_events.jsonl", b'{"flip": 1}\n', "loaded", rows=1),
        Case("type_flip_2_fz_events.jsonl", b'{"flip": "one"}\n', "loaded", rows=1),
        Case("type_flip_3_fz_events.jsonl", b'{"flip": {"o": 1}}\n{"flip": [1, 2]}\n', "loaded", rows=2),
        Case(
            "control_chars_fz_events.jsonl",
            b'{"ctl": "a\\u0000b\\u001fc\\n"}\n',
            "loaded",
            rows=1,
            check=_value("ctl", [("a\x00b\x1fc\n",)]),
        ),
        Case("empty_object_fz_events.jsonl", b"{}\n{}\n", "loaded", rows=2),
        # object names
        Case("with spaces and 'quotes\" _fz_events.jsonl", b'{"uid": 1}\n', "loaded", rows=1),
        Case("ünïcødé_日本_🙂_fz_events.jsonl", b'{"uid": 1}\n', "loaded", rows=1),
        Case("sub dir/ünï/deeper_fz_events.jsonl", b'{"uid": 1}\n', "loaded", rows=1),
        Case("name;DROP TABLE fz_dev.events;--_fz_events.jsonl", b'{"uid": 1}\n', "loaded", rows=1),
        Case("newline\nin name_fz_events.jsonl", b'{"uid": 1}\n', "rejected", "unsafe object name"),
        Case("back\\slash_fz_events.jsonl", b'{"uid": 1}\n', "rejected", "unsafe object name"),
        Case("a..b/c..d_fz_events.jsonl", b'{"uid": 1}\n', "loaded", rows=1),  # dots, but no `..` segment
        Case("2025_01_01_fz_unknown.jsonl", b'{"uid": 1}\n', "rejected", "no data type matches"),
        Case("fz_events.jsonl", b'{"uid": 1}\n', "rejected", "no data type matches"),  # nothing before _fz_
    ]


def test_hostile_corpus_in_one_run(tmp_path: Path) -> None:
    h = Harness(tmp_path, plugin_module())
    cases = corpus()
    assert len({c.name for c in cases}) == len(cases)
    outside = tmp_path / "outside.jsonl"  # a symbolic link out of the landing zone is never followed
    outside.write_bytes(b'{"uid": 987654321}\n')
    for case in cases:
        path = h.landing / SERVICE / "landing" / case.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.data)  # as given, even `.gz` names (Harness.land would compress)
    link = h.landing / SERVICE / "landing" / "link_fz_events.jsonl"
    link.symlink_to(outside)
    (h.landing / SERVICE / "landing" / "linked_dir").symlink_to(tmp_path, target_is_directory=True)

    run = h.run("--service", SERVICE, "--json")
    assert run.exception is None or isinstance(run.exception, SystemExit), run.exception
    assert run.exit_code == 1  # files were rejected; the run itself went through
    result = json.loads(run.stdout)
    outcomes = {f["path"]: f for f in result["files"]}
    problems = []
    for case in cases:
        source = f"{SERVICE}/landing/{case.name}"
        outcome = outcomes.get(source)
        if outcome is None or outcome["status"] != case.status or case.reason not in (outcome["reason"] or ""):
            problems.append((case.name, case.status, case.reason, outcome and (outcome["status"], outcome["reason"])))
            continue
        folder = "archive" if case.status in ("loaded", "empty") else "rejected"
        destination = outcome["destination"]
        assert destination.startswith(f"{SERVICE}/{folder}/"), destination
        assert (h.landing / destination).is_file()
        if folder == "rejected":
            reason = json.loads((h.landing / f"{destination}.reason.json").read_bytes())
            assert reason["file"] == source and case.reason in reason["reason"]
        if case.rows is not None:
            assert h.query("SELECT count(*) FROM fz_dev.events WHERE _source_file = ?", [source]) == [(case.rows,)]
            assert h.query("SELECT rows FROM fz_dev._ingestor_ledger WHERE source_name = ?", [source]) == [(case.rows,)]
        if case.check is not None:
            case.check(h, source)
    assert not problems, "\n".join(map(repr, problems))
    # nothing else happened: no stray outcome, nothing left in landing but the links (reported, never followed),
    # nothing outside fz/
    links = {f"{SERVICE}/landing/{name}" for name in ("link_fz_events.jsonl", "linked_dir")}
    assert set(outcomes) == {f"{SERVICE}/landing/{c.name}" for c in cases} | links
    for name in links:
        assert outcomes[name]["status"] == "failed", outcomes[name]
        assert outcomes[name]["reason"] == "not a regular file (a symbolic link, not followed); left in landing"
    assert sorted(p.name for p in (h.landing / SERVICE / "landing").iterdir()) == ["link_fz_events.jsonl", "linked_dir"]
    assert outside.read_bytes() == b'{"uid": 987654321}\n' and sorted(p.name for p in h.landing.iterdir()) == [SERVICE]
    assert h.query("SELECT _source_file FROM fz_dev.events WHERE uid = 987654321") == []
    total = sum(c.rows or 0 for c in cases)
    assert h.query("SELECT count(*) FROM fz_dev.events") == [(total,)]
    # type flips and conflicts: every value kept, as JSON, with a note
    columns = [
        c
        for (c,) in h.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'events' AND column_name ILIKE 'flip%'"
        )
    ]
    kept = [
        json.loads(v)
        for c in columns
        for (v,) in h.query(f'SELECT "{c}"::JSON::VARCHAR FROM fz_dev.events WHERE "{c}" IS NOT NULL')
    ]
    assert sorted(map(orjson.dumps, kept)) == sorted(map(orjson.dumps, [1, "one", {"o": 1}, [1, 2]])), kept
    notes = next(t for t in result["tables"] if t["data_type"] == "events")["notes"]
    assert any(n.startswith("flip: conflicting types") for n in notes), notes
    # the next run has nothing to do but report the links again, and changes nothing
    again = h.run("--service", SERVICE, "--json")
    assert again.exit_code == 1 and {f["path"] for f in json.loads(again.stdout)["files"]} == links


def test_a_rejected_name_twice_keeps_each_reason(tmp_path: Path) -> None:
    """Found here: the second rejected file of a name went to `x__2.jsonl` but its reason overwrote the first
    file's `x.jsonl.reason.json`, leaving `x__2.jsonl` without one. Each file now keeps its own reason."""
    h = Harness(tmp_path, plugin_module())
    name = f"{SERVICE}/landing/2025_01_01_fz_events.jsonl"
    h.land(name, b'{"uid": 1}\nfirst bad\n')
    assert h.run("--service", SERVICE).exit_code == 1
    h.land(name, b'{"uid": 1}\n{"uid": 2}\n[second, bad]\n')
    assert h.run("--service", SERVICE).exit_code == 1
    first = json.loads((h.landing / f"{SERVICE}/rejected/2025_01_01_fz_events.jsonl.reason.json").read_bytes())
    second = json.loads((h.landing / f"{SERVICE}/rejected/2025_01_01_fz_events__2.jsonl.reason.json").read_bytes())
    assert "line 2" in first["reason"] and "line 3" in second["reason"]
    assert (h.landing / f"{SERVICE}/rejected/2025_01_01_fz_events__2.jsonl").read_bytes().endswith(b"[second, bad]\n")
