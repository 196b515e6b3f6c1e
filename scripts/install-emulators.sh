#!/usr/bin/env bash
# Install the local GCS and BigQuery API servers into their own virtual environment (they pin their own
# DuckDB), at the versions of scripts/emulators-constraints.txt, and patch the BigQuery server's one gap
# that the tests meet (scripts/patch_bqemulator.py). Idempotent: does nothing when already installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-.emulators}"
stamp="$target/.installed-$(sha256sum "$here/emulators-constraints.txt" "$here/patch_bqemulator.py" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
rm -rf "$target"
python3 -m venv "$target"
"$target/bin/python" -m pip install -q --disable-pip-version-check -c "$here/emulators-constraints.txt" \
  gcp-storage-emulator bqemulator numpy duckdb duckdb-extensions duckdb-extension-spatial
# bqemulator needs DuckDB's spatial extension and would download it: install it from the wheel.
"$target/bin/python" -c "from duckdb_extensions import import_extension; import_extension('spatial')"
"$target/bin/python" "$here/patch_bqemulator.py"
touch "$stamp"
