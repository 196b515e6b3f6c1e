"""The image's files: Dockerfile, .dockerignore (build context), Cloud Run jobs, linters."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parents[1]
ROOT = DOCKER.parent
DOCKERFILE = (DOCKER / "Dockerfile").read_text()
ENTRYPOINT_VARS = set(re.findall(r"\$\{?([A-Z_]+)", (DOCKER / "docker-entrypoint.sh").read_text()))


def _build_context():
    spec = importlib.util.spec_from_file_location("build_context", DOCKER / "build_context.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Dockerfile ----------------------------------------------------------------------------


def instructions(stage: str) -> list[str]:
    """The instructions of one stage (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    stages: dict[str, list[str]] = {}
    current = None
    for line in lines:
        found = re.match(r"FROM \S+ AS (\w+)", line)
        if found:
            current = found.group(1)
        if current:
            stages.setdefault(current, []).append(line)
    return stages[stage]


def test_base_image_is_a_pinned_slim_python_311():
    (default,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", default)
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_build_stage_builds_the_four_distributions_and_the_extra_plugins():
    build = " ".join(instructions("build"))
    for package in ("./ingestor-core[gcp,ops]", "./ingestor-garmin", "./ingestor-spotify", "./ingestor-chess"):
        assert package in build
    assert 'ARG EXTRA_PLUGINS=""' in build
    assert re.search(r"pip wheel .*\$\{EXTRA_PLUGINS\}", build)


def test_runtime_stage_installs_only_wheels_and_runs_unprivileged():
    runtime = instructions("runtime")
    text = " ".join(runtime)
    assert not [line for line in runtime if line.startswith(("COPY ingestor", "ADD"))], "no source tree"
    assert [line for line in runtime if line.startswith("COPY")] == [
        "COPY --chmod=0755 docker/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh"
    ]
    assert re.search(
        r"--mount=type=bind,from=build,source=/wheels.* pip install --no-index --no-deps /wheels/\*\.whl", text
    )
    assert "apt-get" not in text and "gcc" not in text
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0", "0:0"}
    for setting in ("PYTHONUNBUFFERED=1", "INGESTOR_LOG_FORMAT=json"):
        assert setting in text
    assert runtime[-1] == 'ENTRYPOINT ["dumb-init", "--", "docker-entrypoint.sh"]'


def test_no_credentials_in_the_image():
    assert not re.search(
        r"GOOGLE_APPLICATION_CREDENTIALS|SECRET|PASSWORD|TOKEN", DOCKERFILE.upper().replace("# NO CREDENTIALS", "")
    )


# --- .dockerignore -------------------------------------------------------------------------


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else():
    files = list(_build_context().context_files(ROOT))
    for copied in re.findall(r"^COPY (?:--\S+ )*(\S+) ", DOCKERFILE, re.MULTILINE):
        assert any(f == copied.rstrip("/") or f.startswith(copied) for f in files), copied
    for package in ("ingestor-core", "ingestor-garmin", "ingestor-spotify", "ingestor-chess"):
        assert f"{package}/pyproject.toml" in files
    tops = {f.split("/", 1)[0] for f in files}
    assert tops <= {"ingestor-core", "ingestor-garmin", "ingestor-spotify", "ingestor-chess", "docker"}
    assert not [f for f in files if "/tests/" in f or "__pycache__" in f or f.endswith((".duckdb", ".pyc"))]


@pytest.mark.parametrize(
    ("path", "left_out"),
    [
        ("ingestor-core/src/ingestor/cli.py", False),
        ("ingestor-core/pyproject.toml", False),
        ("docker/docker-entrypoint.sh", False),
        ("docker/Dockerfile", True),
        ("docker/tests/test_entrypoint.py", True),
        ("ingestor-core/tests/test_cli.py", True),
        ("ingestor-garmin/src/ingestor_garmin/__pycache__/plugin.cpython-311.pyc", True),
        (".env", True),
        ("ingestor-core/.env", True),
        ("ingestor-core/service-account.json", True),
        ("ingestor-spotify/src/ingestor_spotify/schema.json", False),
        (".venv/bin/python", True),
        ("ingestor-data/warehouse_dev.duckdb", True),
        ("ingestor-chess/ingestor-data/x.jsonl", True),
        ("noxfile.py", True),
    ],
)
def test_dockerignore_rules(path, left_out):
    module = _build_context()
    assert module.excluded(path, module.read_patterns(ROOT / ".dockerignore")) is left_out


# --- Cloud Run jobs ------------------------------------------------------------------------


def jobs() -> dict[str, dict]:
    yaml = pytest.importorskip("yaml")
    found = {}
    for path in sorted(DOCKER.glob("cloudrun-*.yaml")):
        job = yaml.safe_load(path.read_text())
        assert job["apiVersion"] == "run.googleapis.com/v1" and job["kind"] == "Job", path
        env = {e["name"]: e for e in job["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["env"]}
        found[env["MODE"]["value"]] = job
    assert set(found) == {"ingest", "fetch", "status"}
    return found


def test_cloud_run_jobs_set_retries_timeout_memory_and_tasks():
    for mode, job in jobs().items():
        execution = job["spec"]["template"]["spec"]
        task = execution["template"]["spec"]
        assert task["maxRetries"] >= 1 and 0 < task["timeoutSeconds"] <= 86400, mode
        assert task["serviceAccountName"].startswith(f"ingestor-{mode}@")
        (container,) = task["containers"]
        assert container["resources"]["limits"]["memory"] == "1Gi"
        assert execution["parallelism"] <= execution["taskCount"]
    assert jobs()["ingest"]["spec"]["template"]["spec"]["taskCount"] > 1, "the ingest job shows sharding"


def test_cloud_run_env_is_what_the_entrypoint_reads_and_secrets_come_from_secret_manager():
    for mode, job in jobs().items():
        task = job["spec"]["template"]["spec"]["template"]["spec"]
        env = task["containers"][0]["env"]
        for entry in env:
            name = entry["name"]
            assert name in ENTRYPOINT_VARS or name.startswith(("INGESTOR_", "SPOTIFY_", "GARMIN_", "CHESS_")), name
            if any(word in name for word in ("SECRET", "TOKEN", "PASSWORD", "NOTIFY")) and name not in (
                "GARMIN_TOKENS",
                "NOTIFY_ON",
            ):
                assert "value" not in entry and entry["valueFrom"]["secretKeyRef"]["key"], name
        assert "GOOGLE_APPLICATION_CREDENTIALS" not in {e["name"] for e in env}
        if mode == "ingest":
            assert {"SERVICE", "ENV", "GCP_PROJECT_ID"} <= {e["name"] for e in env}
        elif mode == "status":  # a scheduled check that notifies (its URL from Secret Manager, checked above)
            assert {"ENV", "GCP_PROJECT_ID", "NOTIFY", "NOTIFY_ON"} <= {e["name"] for e in env}
        else:
            assert {"SERVICE", "DESTINATION", "SPOTIFY_REFRESH_TOKEN", "GARMIN_TOKENS"} <= {e["name"] for e in env}
            (volume,) = task["volumes"]
            assert volume["secret"]["secretName"] == "garmin-tokens"


# --- linters (also in `nox -s lint`) -------------------------------------------------------


@pytest.mark.parametrize(("tool", "target"), [("shellcheck", "docker-entrypoint.sh"), ("hadolint", "Dockerfile")])
def test_linters_pass(tool, target):
    found = shutil.which(tool, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not found:
        pytest.skip(f"{tool} not installed (nox -s lint installs it)")
    proc = subprocess.run([found, str(DOCKER / target)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
