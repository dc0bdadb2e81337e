#!/usr/bin/env bash
# Smoke-test a built bundle: version, the window opened offscreen and closed, and the tiny model
# indexing and finding generated shapes, all in temporary folders.
#
#   packaging/smoke_test.sh [BUNDLE_DIR] [PYTHON]
#
# BUNDLE_DIR defaults to dist/lumen. PYTHON draws the shapes (scripts/make_shapes.py needs
# Pillow); by default the first of .venv/bin/python, the bundle's build venvs and python3 that
# has Pillow.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:-dist/lumen}
PYTHON=${2:-}
if [ -z "$PYTHON" ]; then
  for candidate in .venv/bin/python build/bundle-venv-cpu/bin/python \
    build/bundle-venv-cuda/bin/python python3; do
    if "$candidate" -c "import PIL" 2>/dev/null; then PYTHON=$candidate; break; fi
  done
fi
if [ -z "$PYTHON" ] || ! "$PYTHON" -c "import PIL" 2>/dev/null; then
  echo "smoke test: no Python with Pillow to draw the test shapes; give one as the second" \
    "argument (e.g. python3 after: sudo apt install python3-pil)" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HF_HUB_OFFLINE=1 LUMEN_MODEL_CACHE="$tmp/models"

t() {
  local s=$EPOCHREALTIME
  "$@"
  awk -v a="$s" -v b="$EPOCHREALTIME" 'BEGIN { printf "  (%.2f s)\n", b - a }'
}

echo "== lumen --version"
t "$BUNDLE/lumen" --version
echo "== lumen-gui: the window, offscreen, until it is shown"
QT_QPA_PLATFORM=offscreen t "$BUNDLE/lumen-gui" --data-dir "$tmp/gui" --exit-after shown \
  --report-timings
echo "== lumen index + search with the tiny model"
"$PYTHON" scripts/make_shapes.py "$tmp/shapes" >/dev/null
t "$BUNDLE/lumen" --data-dir "$tmp/data" --model lumen-tiny \
  --weights tests/fixtures/lumen-tiny.safetensors index "$tmp/shapes"
out=$("$BUNDLE/lumen" --data-dir "$tmp/data" search "a red circle on the left" -k 3)
echo "$out"
echo "$out" | grep -q "a_red_circle" || { echo "smoke test: search found no red circle" >&2; exit 1; }
echo "Smoke test passed."
