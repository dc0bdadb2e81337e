#!/usr/bin/env bash
# Install Lumen's .deb on this machine for real, use it, and remove it (run as root, on a
# Debian/Ubuntu machine where Lumen is not otherwise installed; it does apt-get install/remove).
#
#   packaging/test_deb.sh DEB [NEWER_DEB]
#
# 1. `apt-get install ./DEB` (its Depends bring the window's libraries), then `lumen --version`
#    and the window under Xvfb until shown, each timed from the start of the process (warm disk);
# 2. generated shapes indexed and searched with the tiny model, in the default data dir of a
#    throw-away HOME; the menu entry, icon, metainfo and "Open with" in place;
# 3. with NEWER_DEB: installed over it; the library made by the older one still answers;
# 4. `apt-get remove lumen`: nothing of the package left, nothing written outside the data dir.
# Needs xvfb (apt-get install xvfb), GNU time (/usr/bin/time) and a Python with Pillow for the
# shapes (as smoke_test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DEB=$(realpath "$1")
NEWER=${2:+$(realpath "$2")}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home HF_HUB_OFFLINE=1
unset LUMEN_DATA_DIR LUMEN_MODEL_CACHE XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME
mkdir -p "$HOME"
DATA=$HOME/.local/share/Lumen
TINY=(--model lumen-tiny --weights "$PWD/tests/fixtures/lumen-tiny.safetensors")
PYTHON=
for candidate in .venv/bin/python build/bundle-venv-cpu/bin/python python3; do
  if "$candidate" -c "import PIL" 2>/dev/null; then PYTHON=$candidate; break; fi
done
[ -n "$PYTHON" ] || { echo "test_deb: no Python with Pillow for the shapes" >&2; exit 2; }
step() { printf '\n== %s\n' "$*"; }
fail() { echo "test_deb: FAILED: $*" >&2; exit 1; }

# Seconds from the start of a command to its end, best of three (a warm disk), and the CPU
# seconds it used (user + system: what it costs on a quiet machine, whatever the load now).
best_of_3() {
  local best=999 cpu=0 t
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >/dev/null 2>&1
    read -r t user sys < "$tmp/time"
    if awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$t cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
    fi
  done
  printf '%.2f s (%.2f s of CPU)' "$best" "$cpu"
}

# Seconds from the start of lumen-gui to its window shown, on an X server (Xvfb) started
# beforehand so that its own start-up is not counted, best of three.
window_shown_s() {
  local best=999 s out shown display=:$((RANDOM % 400 + 100)) xvfb
  Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  for _ in $(seq 50); do [ -S "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
  for _ in 1 2 3; do
    s=$EPOCHREALTIME
    out=$(DISPLAY=$display lumen-gui --exit-after shown --report-timings) || true
    shown=$(echo "$out" | sed -n 's/.*"event": "shown", "wall": \([0-9.]*\).*/\1/p')
    [ -n "$shown" ] || { kill "$xvfb"; fail "the window was not shown: $out"; }
    best=$(awk -v a="$s" -v b="$shown" -v c="$best" 'BEGIN { d = b - a; print (d < c ? d : c) }')
  done
  kill "$xvfb"
  printf '%.2f' "$best"
}

dpkg -s lumen >/dev/null 2>&1 && fail "lumen is already installed; apt-get remove lumen first"
touch "$tmp/marker"
sleep 1
step "apt-get install $(basename "$DEB")"
apt-get install -y "$DEB" 2>&1 | grep -vE '^(Reading|Building|Selecting|Preparing|Unpacking|\(Reading)'
step "installed files"
dpkg -L lumen | grep -vE '^/opt/lumen/.' | grep -v '^/usr/share/icons/hicolor/[^/]*$'
echo "(and $(dpkg -L lumen | grep -c '^/opt/lumen/.') files under /opt/lumen)"
step "lumen --version"
lumen --version
echo "lumen --version: $(best_of_3 lumen --version) from start to end, best of 3; load: $(cut -d' ' -f1-3 /proc/loadavg)"
step "the window under Xvfb until shown"
echo "lumen-gui: window shown $(window_shown_s) s after start (best of 3, whole start included); load: $(cut -d' ' -f1-3 /proc/loadavg)"
step "index and search generated shapes with the tiny model (default data dir)"
"$PYTHON" scripts/make_shapes.py "$tmp/shapes" >/dev/null
lumen "${TINY[@]}" index "$tmp/shapes"
out=$(lumen search "a red circle on the left" -k 3)
echo "$out"
echo "$out" | grep -q a_red_circle || fail "search found no red circle"
[ -f "$DATA/catalog.sqlite3" ] || fail "no catalog in the default data dir $DATA"
step "menu entry, icons, metainfo, Open with"
ls /usr/share/applications/lumen.desktop /usr/share/metainfo/io.lumen.Lumen.metainfo.xml
echo "icons: $(ls /usr/share/icons/hicolor/*/apps/lumen.* | wc -l) sizes"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/lumen.desktop && echo "desktop-file-validate: clean"
fi
if [ -f /usr/share/applications/mimeinfo.cache ]; then
  grep -E '^image/(jpeg|png)=' /usr/share/applications/mimeinfo.cache
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net /usr/share/metainfo/io.lumen.Lumen.metainfo.xml || true
fi

if [ -n "$NEWER" ]; then
  step "upgrade: $(basename "$NEWER") over $(dpkg-query -W -f '${Version}' lumen)"
  before=$(lumen status | grep -iE 'files|indexed' | head -3)
  sum_before=$(sha256sum "$DATA/catalog.sqlite3" | cut -c1-16)
  apt-get install -y "$NEWER" 2>&1 | grep -E '^(Setting up|Unpacking|Preparing)' || true
  echo "now $(dpkg-query -W -f '${Version}' lumen)"
  after=$(lumen status | grep -iE 'files|indexed' | head -3)
  echo "$after"
  [ "$before" = "$after" ] || fail "the library changed on upgrade: $before / $after"
  lumen search "a red circle on the left" -k 1 | grep -q a_red_circle \
    || fail "search after the upgrade found no red circle"
  echo "catalog before $sum_before, after $(sha256sum "$DATA/catalog.sqlite3" | cut -c1-16)"
  echo "upgrade kept the library: same status, the search still finds the red circle"
fi

step "apt-get remove lumen"
apt-get remove -y lumen 2>&1 | grep -vE '^(Reading|Building|\(Reading)'
for path in /opt/lumen /usr/bin/lumen /usr/bin/lumen-gui /usr/share/applications/lumen.desktop \
  /usr/share/metainfo/io.lumen.Lumen.metainfo.xml /usr/share/icons/hicolor/48x48/apps/lumen.png; do
  [ ! -e "$path" ] && [ ! -L "$path" ] || fail "$path is left after removal"
done
echo "package files: all gone"
left=$(find "$HOME" -type f -not -path "$DATA/*" | sed "s|^$HOME|~|")
echo "written in HOME outside the data dir: ${left:-nothing}"
echo "written since the install in /etc, /opt, /usr, /var/lib (but apt's and dpkg's state), /home:"
find /etc /opt /usr /var/lib /home \( -path /var/lib/dpkg -o -path /var/lib/apt \) -prune \
  -o -type f -newer "$tmp/marker" -print 2>/dev/null | sed 's/^/  /' || true
echo "(the caches of the linker, the icon theme and the menu are rebuilt by their triggers)"
step "deb test passed"
