"""The columnar staging path must store exactly what the row path stores.

Every test lands the same files twice and ingests them once with `INGESTOR_COLUMNAR=0`
(row by row) and once with the columnar path on, then compares everything a user can see:
exit code, each file's fate and reason, the table's columns and types, every row, the
notes. It also checks which files the columnar path took, so that a shortcut that silently
stopped working (or took a file it must hand back) fails the test.
"""

from __future__ import annotations

import gzip
import os
import random
import tracemalloc
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from ingestor import DataType, SourceFile
from ingestor.budget import Budget, MiB
from ingestor.landing import LandingFile
from ingestor.landing.local import LocalLanding
from ingestor.result import IngestResult
from ingestor.schema import Declared, Kind, Struct
from ingestor.settings import StagingSettings
from ingestor.staging.arrow_plan import HandedBack, plan_for
from ingestor.staging.columnar import key_paths, stage
from ingestor.testing import Declarations, Harness

TYPE = DataType(
    service="acme",
    name="things",
    dataset="lake_{env}",
    table="acme__things",
    schema_hints={"ts": Kind.TIMESTAMP, "day": Kind.DATE, "payload": Kind.JSON, "meta.seen": Kind.TIMESTAMP},
)


THINGS = Declarations(TYPE)
COLUMNAR_MIN_BYTES = StagingSettings.model_fields["columnar_min_bytes"].default  # the one home of the default


def name(n: int) -> str:
    return f"acme/landing/2025_01_01_00_{n:05d}_acme_things.jsonl"


def lines(*records: Any) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


class Twin:
    """The same landing zone ingested by the row path (`row`) and with columnar staging (`col`)."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plugin: object | None = None) -> None:
        self.row = Harness(tmp_path / "row", plugin or THINGS)
        self.col = Harness(tmp_path / "col", plugin or THINGS)
        self.monkeypatch = monkeypatch
        self.col_log = ""
        monkeypatch.setenv("INGESTOR_COLUMNAR_MIN_BYTES", "0")  # these small files too

    def land(self, files: dict[str, bytes]) -> None:
        for file, data in files.items():
            self.row.land(file, data)
            self.col.land(file, data)

    def run(self, *args: str) -> tuple[IngestResult, IngestResult]:
        """Ingest both ways (with `args`), compare, return both results; `col_log` keeps the stderr."""
        results = []
        for harness, columnar in ((self.row, "0"), (self.col, "1")):
            self.monkeypatch.setenv("INGESTOR_COLUMNAR", columnar)
            run = harness.run("--service", "acme", "--json", *args)
            assert run.exit_code in (0, 1), run.stderr
            results.append(IngestResult.model_validate_json(run.stdout))
        self.col_log = run.stderr  # the columnar run's, the last
        row, col = results
        assert self.seen(row) == self.seen(col)
        assert self.row.files() == self.col.files()
        for rejected in (f for f in self.row.files() if f.endswith(".reason.json")):
            row_reason = orjson.loads((self.row.landing / rejected).read_bytes())["reason"]
            assert row_reason == orjson.loads((self.col.landing / rejected).read_bytes())["reason"]
        assert self.table(self.row) == self.table(self.col)
        assert sum(t.columnar_files for t in row.tables) == 0
        return row, col

    @staticmethod
    def seen(result: IngestResult) -> tuple[Any, ...]:
        files = sorted(
            (f.path, f.status, f.rows, f.null_lines, f.reason, f.destination, tuple(f.notes)) for f in result.files
        )
        tables = [
            (t.table, t.files, t.rows, t.created, t.columns_added, t.columns_widened, t.notes) for t in result.tables
        ]
        return files, tables

    @staticmethod
    def table(harness: Harness) -> tuple[list[Any], list[str]]:
        if not harness.database.exists():
            return [], []
        columns = harness.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'lake_dev' AND table_name = 'acme__things' ORDER BY ordinal_position"
        )
        if not columns:
            return [], []
        rows = harness.query("SELECT * EXCLUDE (_dp_inserted_at) FROM lake_dev.acme__things")
        return columns, sorted(repr(row) for row in rows)


@pytest.fixture
def twin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Twin:
    return Twin(tmp_path, monkeypatch)


def columnar_files(result: IngestResult) -> int:
    return sum(t.columnar_files for t in result.tables)


GOOD = {
    "id": 1,
    "name": "a",
    "score": 1.5,
    "ok": True,
    "tags": ["x", "y"],
    "ts": "2025-01-01T10:00:00+02:00",
    "day": "2025-01-01",
    "meta": {"source": "app", "version": 3, "inner": {"deep": "z"}},
    "laps": [{"n": 1, "t": 2.5}, {"n": 2, "t": 3.0}],
}


def test_consistent_files_take_the_columnar_path_and_store_the_same(twin: Twin) -> None:
    twin.land({name(n): lines(*({**GOOD, "id": n * 10 + i, "score": n + i} for i in range(5))) for n in range(6)})
    _, col = twin.run()
    assert columnar_files(col) == 5  # the first file makes the table's schema, row by row


@pytest.mark.parametrize(
    ("case", "second", "taken"),
    [
        ("a new column", lines({**GOOD, "extra": 5}), 0),
        ("only null, {} and [] in new keys", lines({**GOOD, "e1": None, "e2": {}, "e3": [], "e4": [{}]}), 1),
        ("[null] in a new key makes a JSON column", lines({**GOOD, "e": [None]}), 0),
        ("an int in a STRING column", lines({**GOOD, "name": 5}), 0),
        ("a float in an INT64 column widens it", lines({**GOOD, "id": 2.5}), 0),
        ("an int in a FLOAT64 column", lines({**GOOD, "score": 7}), 1),
        ("a string in a FLOAT64 column", lines({**GOOD, "score": "7"}), 0),
        ("null inside an array", lines({**GOOD, "tags": ["x", None]}), 0),
        ("an empty array", lines({**GOOD, "tags": [], "laps": []}), 1),
        ("an empty object for a struct", lines({**GOOD, "meta": {}}), 1),
        ("an object with only nulls", lines({**GOOD, "meta": {"source": None, "inner": {"deep": None}}}), 1),
        ("empty objects inside an array", lines({**GOOD, "laps": [{}, {"n": None}]}), 1),
        ("an array where a struct was", lines({**GOOD, "meta": [{"source": "x"}]}), 0),
        ("a timestamp to normalize", lines({**GOOD, "ts": "2025-06-01 12:00:00"}), 1),
        ("a timestamp that is not one", lines({**GOOD, "ts": "yesterday"}), 0),
        ("timestamps with offsets and fractions", lines({**GOOD, "ts": "2025-06-01T12:00:00.25-08:00"}, GOOD), 1),
        ("a timestamp with spaces around it", lines(GOOD, {**GOOD, "ts": " 2025-06-01T12:00:00 "}), 1),
        ("a timestamp on Feb 29 of a common year", lines(GOOD, {**GOOD, "ts": "2025-02-29 10:00:00"}), 0),
        ("a timestamp at 24:00", lines({**GOOD, "ts": "2025-06-01 24:00:00"}), 0),
        ("a timestamp in year 0", lines({**GOOD, "ts": "0000-01-01T00:00:00"}), 0),
        ("a timestamp with an offset of 24 hours", lines({**GOOD, "ts": "2025-06-01T12:00:00+24:00"}), 0),
        ("a date that is not one", lines({**GOOD, "day": "2025-13-01"}), 0),
        ("a nested hinted timestamp", lines({**GOOD, "meta": {**GOOD["meta"], "seen": "2025-01-01T00:00:00Z"}}), 0),
        ("a JSON column", lines({**GOOD, "payload": {"any": [1, "two"]}}), 0),
        ("an empty object in a JSON column", lines({**GOOD, "payload": {}}), 0),
        ("a key spelled with another case", lines({**GOOD, "Name": "b"}), 0),
        ("both spellings in one object", lines({**GOOD, "NAME": "b", "name": "c"}), 0),
        ("a key to sanitize", lines({**GOOD, "weird key!": 1}), 0),
        ("a metadata column in the data", lines({**GOOD, "_source_file": "forged"}), 0),
        ("an integer beyond INT64", lines({**GOOD, "id": 2**63}), 0),
        ("a large integer in a FLOAT64 column", lines({**GOOD, "score": 2**64 - 1}), 0),
        ("an integer beyond 64 bits", b'{"id": 1, "score": 123456789012345678901234567890}\n', 0),
        ("a large float", lines({**GOOD, "score": 1e300}), 0),
        ("NaN", b'{"id": 1, "score": NaN}\n', 0),
        ("-Infinity", b'{"id": 1, "score": -Infinity}\n', 0),
        ("NaN among numbers", b'{"id": 1, "score": 2.5}\n{"id": 2, "score": NaN}\n{"id": 3, "score": 1}\n', 0),
        ("Infinity in an array", lines({**GOOD, "laps": [{"n": 1, "t": 1.5}]}) + b'{"laps": [{"t": Infinity}]}\n', 0),
        ("NaN in a string", lines({**GOOD, "name": "NaN, Infinity"}), 1),
        ("two objects on one line", b'{"id": 1}{"id": 2}\n', 0),
        ("two objects and a blank line", b'{"id": 1} {"id": 2}\n\n', 0),
        ("blank lines and CRLF", b'{"id": 1}\r\n\r\n   \n{"id": 2}\r\n', 1),
        ("an indented record", b'{"id": 1}\n  {"id": 2}\n', 0),
        ("a byte-order mark", b'\xef\xbb\xbf{"id": 1}\n', 1),
        ("no final newline", b'{"id": 1}\n{"id": 2}', 1),
        ("a malformed line", b'{"id": 1}\n{"id": \n', 0),
        ("a line that is not an object", b'{"id": 1}\n[1, 2]\n', 0),
        ("a null line among records", lines(GOOD) + b"null\n" + lines({**GOOD, "id": 2}), 0),
        ("a null first line (Arrow would crash)", b"null\n" + lines(GOOD), 0),
        ("only null lines", b"null\n  null \r\n", 0),
        ("invalid UTF-8", b'{"id": 1, "name": "\xff"}\n', 0),
        ("a lone surrogate", b'{"id": 1, "name": "\\ud800"}\n', 0),
        ("escapes and unicode", lines({**GOOD, "name": 'caf\u00e9 \\"q\\" \u2603 \x00'}), 1),
        ("a duplicate key", b'{"id": 1, "id": 2}\n', 0),
        ("an empty file", b"", 0),
        ("only blank lines", b"\n \n", 0),
        ("nested too deeply", b'{"id": 1, "x": ' + b"[" * 40 + b"]" * 40 + b"}\n", 0),
        ("an integer beyond 2^53 in an INT64 column", lines({**GOOD, "id": 2**53 + 1}), 0),
        ("a float after an integer beyond 2^53", lines({**GOOD, "id": 2**53 + 1}, {**GOOD, "id": 0.5}), 0),
        ("an integer beyond 2^53 in a FLOAT64 column", lines({**GOOD, "score": -(2**53) - 1}), 0),
        ("2^53 in a FLOAT64 column (Arrow reads 2^53 + 1 so)", lines({**GOOD, "score": 2**53}), 0),
        ("an integer beyond 2^53 in an array", lines({**GOOD, "laps": [{"n": 2**60, "t": 1.5}]}), 0),
        ("integers up to 2^53", lines({**GOOD, "id": 2**53, "score": -(2**53) + 1}), 1),
        ("a key naming a variant column", lines({**GOOD, "id__v_json": "mine", "id": "text"}), 0),
    ],
)
def test_each_case_is_stored_as_the_row_path_stores_it(twin: Twin, case: str, second: bytes, taken: int) -> None:
    twin.land({name(0): lines(GOOD), name(1): second})
    _, col = twin.run()
    assert columnar_files(col) == taken, case


def test_gzip_files(twin: Twin) -> None:
    members = gzip.compress(lines(GOOD)) + gzip.compress(lines({**GOOD, "id": 3}))  # a gzip of two members
    twin.land(
        {
            name(0): lines(GOOD),
            name(1).replace(".jsonl", ".jsonl.gz"): lines(GOOD, {**GOOD, "id": 2}),
            name(2).replace(".jsonl", ".jsonl.gz"): members,
        }
    )
    _, col = twin.run()
    assert columnar_files(col) == 2


def test_a_gzip_bomb_is_handed_back_having_held_no_more_than_the_budget_allows(tmp_path: Path) -> None:
    """80 MB of valid records in an 80 KB gzip: decompressed streaming, handed back past the budget's share."""
    budget = Budget(total=128 * MiB, source="test")  # the columnar path holds files up to 4 MiB
    bomb = tmp_path / "acme/landing/bomb_acme_things.jsonl.gz"
    bomb.parent.mkdir(parents=True)
    bomb.write_bytes(gzip.compress(lines(GOOD) * (80 * 10**6 // len(lines(GOOD)))))
    file = LandingFile("acme/landing/bomb_acme_things.jsonl.gz", bomb.stat().st_size, "1")
    plan = plan_for(Struct(), set())
    assert plan is not None
    tracemalloc.start()
    try:
        why = stage(LocalLanding(tmp_path), file, plan, {}, tmp_path / "staged.arrow", budget)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(why, HandedBack) and why.why == "large file"
    assert peak < 3 * budget.columnar_bytes, peak


def test_a_line_longer_than_a_record_may_be_is_rejected_both_ways(twin: Twin) -> None:
    """INGESTOR_MAX_RECORD_BYTES below the columnar path's share: a file it could read whole is handed back, and
    the row path rejects it."""
    twin.monkeypatch.setenv("INGESTOR_MAX_RECORD_BYTES", "1024")
    twin.land({name(0): lines(GOOD), name(1): lines({**GOOD, "name": "x" * 2000}), name(2): lines(GOOD)})
    row, col = twin.run()
    assert columnar_files(col) == 1  # file 2 only
    assert [f.reason for f in row.files if f.path == name(1)] == [
        "record too long at line 1: the line is longer than 1,024 bytes, the longest a record may be "
        "(INGESTOR_MAX_RECORD_BYTES raises it, up to 64 MiB)"
    ]


def test_a_second_run_into_the_existing_table(twin: Twin) -> None:
    twin.land({name(0): lines(GOOD)})
    twin.run()
    twin.land({name(1): lines({**GOOD, "id": 5}), name(2): lines({**GOOD, "score": 3})})
    _, col = twin.run()
    assert columnar_files(col) == 2  # the table's columns are the plan from the first file on


def test_values_routed_elsewhere_in_an_existing_table(twin: Twin) -> None:
    """Where the row path routes a value to another column (a second spelling, a variant, an integer beyond
    2^53 meeting a float), the columnar path hands the file back; once the schema knows the column holds
    integers beyond 2^53, files holding more take the columnar path (a key spelled twice stays with the
    row path: `extra` here)."""
    twin.land({name(0): lines({**GOOD, "extra": True})})
    twin.run()
    big = 2**53 + 1
    twin.land(
        {
            name(1): lines({**GOOD, "extra": "x", "EXTRA": "y"}),
            name(2): lines({**GOOD, "extra__v_json": "mine", "extra": "text"}),
            name(3): lines({**GOOD, "id": big}),
            name(4): lines({**GOOD, "id": 0.5}),
            name(5): lines({**GOOD, "id": big + 2}),
            name(6): lines(GOOD),
        }
    )
    _, col = twin.run()
    assert columnar_files(col) == 2  # files 5 and 6
    variants = "SELECT extra__v_json, EXTRA__2, extra__v_json__2 FROM lake_dev.acme__things WHERE extra IS NULL"
    assert twin.col.query(variants + " AND extra__v_json IS NOT NULL ORDER BY 1") == [
        ('"mine"', None, '"text"'),  # the key `extra__v_json` keeps its column (JSON since file 1's "x")
        ('"x"', "y", None),
    ]
    assert twin.col.query("SELECT id, id__v_json FROM lake_dev.acme__things WHERE id__v_json = '0.5'") == [
        (None, "0.5")
    ]


def test_hand_made_columns_take_the_row_path(twin: Twin) -> None:
    """Values of a type the engine does not write are checked one by one: a file holding one takes the row path."""
    for harness in (twin.row, twin.col):
        harness.database.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(harness.database)) as db:
            db.execute("CREATE SCHEMA lake_dev")
            db.execute(
                "CREATE TABLE lake_dev.acme__things (id BIGINT, u UBIGINT, d DECIMAL(4,2), m MAP(VARCHAR, INTEGER))"
            )
    twin.land(
        {
            name(0): lines({"id": 0, "u": 2**64 - 1, "d": 1.25, "m": {"a": 1}}),
            name(1): lines({"id": 1, "u": -1, "d": 0.125, "m": {"a": "x"}}),
            name(2): lines({"id": 2}, {"id": 3}),
        }
    )
    _, col = twin.run()
    assert columnar_files(col) == 1
    assert {f.status.value for f in col.files} == {"loaded"}
    query = "SELECT u::VARCHAR, d::VARCHAR, m, u__v_json, d__v_json, m__v_json FROM lake_dev.acme__things WHERE id < 2"
    assert twin.col.query(query + " ORDER BY id") == [
        (str(2**64 - 1), "1.25", {"a": 1}, None, None, None),
        (None, None, None, "-1", "0.125", '{"a":"x"}'),
    ]


def test_a_file_staged_before_its_column_became_json_is_staged_again(twin: Twin) -> None:
    # File 1 fits the schema of file 0 (`v` a STRING) and is staged column-wise; file 2 makes `v`
    # JSON (a conflict on a new column): file 1 must be staged again, row by row, to store JSON.
    twin.land(
        {
            name(0): lines({"id": 0, "v": "a"}),
            name(1): lines({"id": 1, "v": "b"}),
            name(2): lines({"id": 2, "v": {"an": "object"}}),
            name(3): lines({"id": 3, "v": [1]}),
        }
    )
    _, col = twin.run()
    assert columnar_files(col) == 0
    assert twin.col.query("SELECT typeof(v) FROM lake_dev.acme__things LIMIT 1") == [("JSON",)]


def test_after_files_in_a_row_handed_back_the_rest_go_row_by_row(twin: Twin) -> None:
    # `v` becomes JSON in file 1 (a conflict on a new column): no later file can go column-wise.
    files = {name(0): lines({"id": 0, "v": "a"}), name(1): lines({"id": 1, "v": {"an": "object"}})}
    files.update({name(n): lines({"id": n, "v": f"s{n}"}) for n in range(2, 14)})
    twin.land(files)
    _, col = twin.run("--log-level", "DEBUG")
    assert columnar_files(col) == 0
    assert "staged row by row (v: a column Arrow does not read" in twin.col_log
    assert twin.col_log.count("staged row by row (") == 8  # tried: files 0-7
    assert "acme.things: 8 files in a row staged row by row; the other 6 too" in twin.col_log


def test_a_dropped_empty_object_whose_key_later_becomes_a_column(twin: Twin) -> None:
    twin.land(
        {
            name(0): lines({"id": 0}),
            name(1): lines({"id": 1, "later": {}}),  # no type yet: nothing stored, key dropped
            name(2): lines({"id": 2, "later": {"now": 1}}),
        }
    )
    twin.run()


@pytest.mark.parametrize("seed", range(int(os.environ.get("INGESTOR_TEST_SEEDS", "24"))))
def test_random_files_store_the_same(twin: Twin, seed: int) -> None:
    # A first batch of well-typed values (a conflict on a new column makes it JSON, which only the
    # row path reads), then one with the odd conflict, stored beside the table's columns.
    rng = random.Random(seed)
    taken = 0
    for batch, odd in enumerate((0.0, 0.05)):
        twin.land({name(batch * 100 + n): random_file(rng, rng.choice([0.0, odd])) for n in range(8)})
        _, col = twin.run()
        taken += columnar_files(col)
    assert taken > 0  # the comparison covered both paths


def random_file(rng: random.Random, odd: float) -> bytes:
    """Records with a share `odd` of values of another type or shape; sometimes a bad line."""
    records = [random_record(rng, odd) for _ in range(rng.randint(1, 12))]
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    roll = rng.random()
    if roll < 0.04:
        data += b'{"id": 1, "score": NaN}\n'
    elif roll < 0.08:
        data = data.replace(b"\n", b"\r\n\n", 1)
    elif roll < 0.10:
        data += b"{broken\n"
    return data


def random_record(rng: random.Random, odd_rate: float) -> dict[str, Any]:
    def maybe(value: Any, odd: list[Any]) -> Any:
        return rng.choice(odd) if rng.random() < odd_rate else value

    record: dict[str, Any] = {
        "id": maybe(rng.randint(-(2**40), 2**40), [1.5, "7", None, 2**63 + 1]),
        "name": maybe(rng.choice(["a", "b", "é", ""]), [3, None, {"x": 1}, ["a"]]),
        "score": maybe(rng.choice([rng.random() * 100, rng.randint(0, 9)]), [None, "high", 2**53 + 1, True]),
        "ok": maybe(rng.random() < 0.5, [None, 1, "yes"]),
        "tags": maybe([rng.choice("abc") for _ in range(rng.randint(0, 3))], [None, ["a", None], "a", [[1]], [1]]),
        "nums": maybe([rng.choice([1, 2.5, -3]) for _ in range(rng.randint(0, 3))], [[], None, [1, "x"]]),
        "ts": maybe(f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:00:00Z", ["nope", 5, None]),
        "meta": maybe(
            {"source": rng.choice(["app", "web"]), "inner": {"deep": rng.randint(0, 5)}},
            [{}, None, {"source": None}, "flat", [{"source": "x"}], {"inner": {}}],
        ),
        "laps": maybe([{"n": i, "t": rng.random()} for i in range(rng.randint(0, 3))], [[{}], [None], {"n": 1}]),
        "payload": maybe(None, [{"k": 1}, [1, 2], "s", {}]),
    }
    if rng.random() < odd_rate:
        record[rng.choice(["Name", "SCORE", "new key", "fresh"])] = rng.choice([1, "x", None, {}, []])
    for key in rng.sample(sorted(record), rng.randint(0, 3)):
        del record[key]
    return record


class Renamer:
    """A normalizer that moves the old key `legacy` to `name`, and says which files it leaves as they are."""

    def __init__(self) -> None:
        self.asked: list[frozenset[tuple[str, ...]]] = []

    def __call__(self, record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
        if "legacy" not in record:
            return record
        out = {k: v for k, v in record.items() if k != "legacy"}
        out["name"] = record["legacy"]
        return out

    def leaves_unchanged(self, keys: frozenset[tuple[str, ...]], source: SourceFile) -> bool:
        self.asked.append(keys)
        return ("legacy",) not in keys


def normalized(normalize: Any) -> Declarations:
    """The test type with a normalizer."""
    return Declarations(TYPE.model_copy(update={"normalize": normalize}))


def test_files_a_normalizer_vouches_for_take_the_columnar_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    renamer = Renamer()
    twin = Twin(tmp_path, monkeypatch, normalized(renamer))
    twin.land(
        {
            name(0): lines(GOOD),
            name(1): lines({**GOOD, "id": 2}),
            name(2): lines({**GOOD, "id": 3, "name": None, "legacy": "from legacy"}),  # reshaped: row by row
            name(3): lines({**GOOD, "id": 4, "laps": [{"n": 1, "t": 1.5, "note": None}]}),
        }
    )
    _, col = twin.run()
    assert columnar_files(col) == 2
    assert twin.col.query("SELECT name FROM lake_dev.acme__things WHERE id = 3") == [("from legacy",)]
    assert all(("laps", "n") in keys and ("meta", "inner", "deep") in keys for keys in renamer.asked)
    assert any(("laps", "note") in keys for keys in renamer.asked)  # a key the schema does not have yet


def test_a_normalizer_whose_vouching_fails_stages_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(Renamer):
        def leaves_unchanged(self, keys: frozenset[tuple[str, ...]], source: SourceFile) -> bool:
            raise KeyError("a plugin's bug")

    twin = Twin(tmp_path, monkeypatch, normalized(Broken()))
    twin.land({name(n): lines({**GOOD, "id": n}) for n in range(3)})
    _, col = twin.run("--log-level", "DEBUG")
    assert columnar_files(col) == 0 and col.success
    assert "staged row by row (leaves_unchanged failed: KeyError" in twin.col_log


def test_a_normalizer_that_cannot_vouch_stages_row_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def rename(record: dict[str, Any], source: SourceFile) -> dict[str, Any]:
        return Renamer()(record, source)

    twin = Twin(tmp_path, monkeypatch, normalized(rename))
    twin.land({name(n): lines({**GOOD, "id": n}) for n in range(3)})
    _, col = twin.run()
    assert columnar_files(col) == 0


def test_key_paths_go_through_structs_and_arrays() -> None:
    import pyarrow as pa

    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("meta", pa.struct([("inner", pa.struct([("deep", pa.string())])), ("none", pa.null())])),
            ("laps", pa.list_(pa.struct([("n", pa.int64())]))),
            ("grid", pa.list_(pa.list_(pa.struct([("x", pa.float64())])))),
            ("empty", pa.struct([])),
        ]
    )
    assert key_paths(schema) == {
        ("id",),
        ("meta",),
        ("meta", "inner"),
        ("meta", "inner", "deep"),
        ("meta", "none"),
        ("laps",),
        ("laps", "n"),
        ("grid",),
        ("grid", "x"),
        ("empty",),
    }


def test_common_timestamps_are_parsed_by_arrow_as_the_row_path_parses_them() -> None:
    import pyarrow as pa

    from ingestor.schema import parse_timestamp
    from ingestor.staging.columnar import _timestamps

    values = [
        "2025-01-01 10:00:00",
        "2025-01-01T10:00:00.5",
        "2025-01-01T10:00:00.123456Z",
        "2025-01-01T10:00:00+00:00",
        "2025-01-01T10:00:00+05:30",
        "2025-01-01 10:00:00-08:00",
        "2024-02-29T23:59:59",
        "0001-01-01T00:00:00",
        None,
    ]
    parsed = _timestamps(pa.array(values))
    assert parsed is not None
    expected = [None if v is None else datetime.fromisoformat(parse_timestamp(v)) for v in values]
    assert parsed.to_pylist() == expected
    # Anything else is left to Python (which rejects most of these): one such value, the whole column.
    for odd in ("2025-02-29 10:00:00", "0000-01-01T00:00:00", "2025-01-01T24:00:00", "2025-01-01T10:00:00+24:00"):
        assert _timestamps(pa.array(["2025-01-01 10:00:00", odd])) is None, odd
    for odd in ("2025-01-01T10:00", " 2025-01-01T10:00:00", "2025-01-01T10:00:00.1234567", "20250101T100000"):
        assert _timestamps(pa.array([odd])) is None, odd
    assert _timestamps(pa.array([None], pa.string())) is None


def test_small_files_are_staged_row_by_row(twin: Twin) -> None:
    # Arrow's fixed cost per file is higher than the row path's below the default columnar_min_bytes.
    twin.monkeypatch.delenv("INGESTOR_COLUMNAR_MIN_BYTES")
    big = lines(*({**GOOD, "id": n} for n in range(600)))
    assert len(big) > COLUMNAR_MIN_BYTES > len(lines(GOOD, GOOD))
    twin.land({name(0): lines(GOOD), name(1): lines(GOOD, GOOD), name(2): big, name(3): lines({**GOOD, "id": 7})})
    twin.land({name(4): big.replace(b'"name":"a"', b'"name":"b"')})
    _, col = twin.run("--log-level", "DEBUG")
    assert columnar_files(col) == 2
    assert twin.col_log.count("staged row by row (a small file)") == 3  # files 0, 1 and 3


# A type whose rows all carry `kind` (a record's own value wins) and declare a column.
_BOX = Declared("box", Kind.STRUCT, fields=(Declared("items", Kind.STRING, repeated=True),))
DEFAULTED = Declarations(TYPE.model_copy(update={"column_defaults": {"kind": "thing"}, "columns": (_BOX,)}))


def test_column_defaults_and_declared_columns_store_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    twin = Twin(tmp_path, monkeypatch, DEFAULTED)
    twin.land(
        {
            name(0): lines(GOOD),
            name(1): lines(*({**GOOD, "id": i} for i in range(3))),
            name(2): lines({**GOOD, "kind": "own"}, {**GOOD, "kind": None}, {**GOOD, "box": {"items": []}}),
        }
    )
    _, col = twin.run()
    assert columnar_files(col) == 2
    assert twin.col.query("SELECT DISTINCT kind FROM lake_dev.acme__things ORDER BY 1") == [("own",), ("thing",)]
