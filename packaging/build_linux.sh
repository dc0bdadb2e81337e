#!/usr/bin/env bash
# Build Lumen's standalone Linux bundle with PyInstaller: dist/lumen/ (a folder holding `lumen`
# and `lumen-gui`, Python and every library), then smoke-test it.
#
#   packaging/build_linux.sh [--cpu | --cuda] [--venv DIR] [--archive]
#
# --cpu        (default) CPU-only PyTorch, without open_clip's code, torchvision and torch's
#              compiler stack: about 1 GB; build venv build/bundle-venv-cpu
# --cuda       PyPI's PyTorch with its CUDA libraries, open_clip included (for NVIDIA GPUs):
#              several GB; build venv build/bundle-venv-cuda (scripts/install.py --cuda)
# --venv DIR   build from this virtual environment instead (made as above if absent)
# --archive    also pack dist/lumen-VERSION-linux-ARCH[-cuda].tar.zst (zstd -10; .tar.xz where
#              zstd is missing)
# LUMEN_TORCH_CPU names the CPU build of PyTorch to install (default 2.13.0+cpu). The build is
# CPU-heavy; run it under `nice` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
VARIANT=cpu
VENV=
ARCHIVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) VARIANT=cpu; shift ;;
    --cuda) VARIANT=cuda; shift ;;
    --venv) VENV=$2; shift 2 ;;
    --archive) ARCHIVE=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
VENV=${VENV:-build/bundle-venv-$VARIANT}
TORCH_CPU=${LUMEN_TORCH_CPU:-2.13.0+cpu}
CPU_INDEX=https://download.pytorch.org/whl/cpu

make_cpu_venv() {
  # Lumen's dependencies less torch, torchvision and open_clip (whose requirements would bring
  # PyPI's CUDA build back); open_clip itself without its dependencies, for its data files only.
  python3 -m venv "$VENV"
  local py="$VENV/bin/python" index=()
  "$py" -c "import urllib.request; urllib.request.urlopen('$CPU_INDEX/', timeout=5)" 2>/dev/null \
    && index=(--extra-index-url "$CPU_INDEX")
  "$py" - > "$VENV/lumen-requirements.txt" <<'EOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
skip = {"torch", "torchvision", "open-clip-torch"}
print("\n".join(d for d in deps if re.split(r"[<>=!~ ;\[]", d)[0].lower().replace("_", "-") not in skip))
EOF
  "$py" -m pip install -q "${index[@]}" "torch==$TORCH_CPU" -r "$VENV/lumen-requirements.txt"
  "$py" -m pip install -q --no-deps open_clip_torch
}

if [ ! -x "$VENV/bin/python" ]; then
  if [ "$VARIANT" = cpu ]; then
    make_cpu_venv
  else
    python3 -m venv "$VENV"
    "$VENV/bin/python" scripts/install.py --cuda
    "$VENV/bin/python" -m pip uninstall -q -y lumen-search  # the clone's desktop_app is frozen
  fi
fi
"$VENV/bin/python" -m pip install -q "pyinstaller>=6.10"
started=$(date +%s)
LUMEN_BUNDLE=$VARIANT "$VENV/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/lumen.spec
ln -sf lumen dist/lumen/lumen-gui
echo "$VARIANT" > dist/lumen/VARIANT
echo "Built dist/lumen ($VARIANT) in $(( $(date +%s) - started )) s:" \
  "$(( $(du -sb dist/lumen | cut -f1) / 1000000 )) MB"
if [ "$ARCHIVE" = 1 ]; then
  version=$("$VENV/bin/python" -c "import sys; sys.path.insert(0, '.'); import desktop_app; print(desktop_app.__version__)")
  suffix=$([ "$VARIANT" = cuda ] && echo -cuda || true)
  base="dist/lumen-$version-linux-$(uname -m)$suffix"
  if command -v zstd >/dev/null; then
    tar -C dist -cf - lumen | zstd -q -10 -T0 -f -o "$base.tar.zst" && archive=$base.tar.zst
  else
    tar -C dist -cf - lumen | xz -9 -T0 > "$base.tar.xz" && archive=$base.tar.xz
  fi
  echo "Archive: $archive, $(( $(stat -c %s "$archive") / 1000000 )) MB"
fi
packaging/smoke_test.sh dist/lumen
