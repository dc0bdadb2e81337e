#!/usr/bin/env bash
# Build Lumen's standalone Linux bundle with PyInstaller: dist/lumen/ (a folder holding `lumen`
# and `lumen-gui`, Python and every library, CPU-only PyTorch where it can be had), then smoke-test it.
#
#   packaging/build_linux.sh [--venv DIR] [--archive]
#
# --venv DIR   build from this virtual environment (made with scripts/install.py --cpu if absent;
#              default build/bundle-venv)
# --archive    also pack dist/lumen-VERSION-linux-ARCH.tar.gz
# Takes long and much disk with the CUDA build of PyTorch; run it under `nice` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=build/bundle-venv
ARCHIVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) VENV=$2; shift 2 ;;
    --archive) ARCHIVE=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" scripts/install.py --cpu
fi
"$VENV/bin/python" -m pip install -q "pyinstaller>=6.10"
started=$(date +%s)
"$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/lumen.spec
ln -sf lumen dist/lumen/lumen-gui
echo "Built dist/lumen in $(( $(date +%s) - started )) s; $(du -sh dist/lumen | cut -f1)"
if [ "$ARCHIVE" = 1 ]; then
  version=$("$VENV/bin/python" -c "import desktop_app; print(desktop_app.__version__)")
  tar -C dist -czf "dist/lumen-$version-linux-$(uname -m).tar.gz" lumen
  ls -l "dist/lumen-$version-linux-$(uname -m).tar.gz"
fi
packaging/smoke_test.sh dist/lumen "$VENV/bin/python"
