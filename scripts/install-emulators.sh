#!/usr/bin/env bash
# Install the local GCS and BigQuery API servers into their own virtual environment
# (they pin their own DuckDB). Idempotent: does nothing when already installed.
set -euo pipefail
target="${1:-.emulators}"
if [ -x "$target/bin/bqemulator" ] && [ -x "$target/bin/gcp-storage-emulator" ] && [ -f "$target/.spatial-ok" ]; then
  exit 0
fi
python3 -m venv "$target"
"$target/bin/python" -m pip install -q --disable-pip-version-check \
  gcp-storage-emulator bqemulator numpy 'duckdb==1.5.5' duckdb-extensions 'duckdb-extension-spatial==1.5.5'
# bqemulator needs DuckDB's spatial extension and would download it: install it from the wheel.
"$target/bin/python" -c "from duckdb_extensions import import_extension; import_extension('spatial')"
touch "$target/.spatial-ok"
