#!/usr/bin/env bash
# The main job end to end on the bundled sample footage, in a throw-away catalog (demo-home/).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
. .venv/bin/activate
export RELECTURE_HOME="$PWD/demo-home" RELECTURE_USER="${RELECTURE_USER:-demo.operator}"
rm -rf demo-home demo-out

echo "== 1. models"
relecture models
echo "== 2. index the sample footage"
relecture index sample_footage/
