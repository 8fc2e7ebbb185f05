#!/usr/bin/env bash
# Installs relecture (pinned, into .venv) and runs the whole test suite.
# Tests that need ../shared/data skip with a reason when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
. .venv/bin/activate
exec python -m pytest -q -rs "$@"
