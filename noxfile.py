"""Development sessions: `nox -s tests`, `nox -s lint`, `nox -s demo`, ..."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
PACKAGES = ["./ingestor-core[gcp]", "./ingestor-garmin", "./ingestor-spotify", "./ingestor-chess"]
TEST_DEPS = ["pytest>=8", "pytest-xdist>=3.5", "pytest-timeout>=2.3", "pytest-httpserver>=1.1", "pytz"]
EMULATORS = ROOT / ".emulators"


def install_emulators(session: nox.Session) -> None:
    """The GCS and BigQuery API servers, in their own virtual environment (.emulators/)."""
    session.run("bash", str(ROOT / "scripts" / "install-emulators.sh"), str(EMULATORS), external=True)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Every test: core, plugins, cloud backends (against local emulators), docker entrypoint."""
    session.install(*[f"-e{p}" if not p.startswith("-") else p for p in PACKAGES], *TEST_DEPS)
    install_emulators(session)
    session.env["INGESTOR_EMULATORS"] = str(EMULATORS)
    session.env["INGESTOR_STRICT_PLUGINS"] = "1"
    args = session.posargs or ["-n", "2", "--timeout", "600"]
    session.run("pytest", *args)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) everywhere, mypy on the core."""
    session.install("ruff>=0.6", "mypy>=1.11", "-e./ingestor-core[gcp]", "pytest")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "ingestor-core/src/ingestor")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The quick start: write the demo landing zone and ingest every service into DuckDB."""
    session.install(*[p for p in PACKAGES if "core" not in p], "./ingestor-core")
    data_dir = os.environ.get("INGESTOR_DATA_DIR", str(ROOT / "ingestor-data"))
    session.run("ingestor", "demo", "--data-dir", data_dir)
    session.run("ingestor", "run", "--service", "garmin,spotify,chess", "--env", "dev", "--data-dir", data_dir)
