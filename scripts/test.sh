#!/usr/bin/env bash
# Installs relecture (pinned, into .venv) and runs the whole test suite.
# Tests that need ../shared/data skip with a reason when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
# The HTML reports are checked in a real headless browser; without one those tests skip.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq chromium >/dev/null 2>&1 || echo "note: chromium not installed; browser checks will skip"
fi
. .venv/bin/activate
exec python -m pytest -q -rs "$@"
