#!/usr/bin/env bash
# Screenshots of the window for README, taken on a virtual X screen (Xvfb) with the tiny demo
# model and generated shapes:  scripts/take_screenshots.sh [OUT_DIR] (default resources/screenshots)
# Needs: xvfb, xdotool, imagemagick (Debian/Ubuntu package names), and Qt's X11 libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-resources/screenshots}
mkdir -p "$OUT"
tmp=$(mktemp -d)
display=:${LUMEN_SHOT_DISPLAY:-87}
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
trap 'kill $gui $xvfb 2>/dev/null || true; sleep 2; rm -rf "$tmp"' EXIT
gui=
export DISPLAY=$display QT_QPA_PLATFORM=xcb HF_HUB_OFFLINE=1 LUMEN_MODEL_CACHE="$tmp/models"
python3 scripts/make_shapes.py "$tmp/Pictures" >/dev/null
weights=tests/fixtures/lumen-tiny.safetensors

shoot() {  # NAME: the Lumen window, as the screen shows it
  sleep "${2:-2}"
  import -window root "$OUT/$1.png"
  echo "wrote $OUT/$1.png"
}

window() {  # the window's X id, once it is mapped
  for _ in $(seq 60); do
    id=$(xdotool search --onlyvisible --name '^Lumen' 2>/dev/null | head -1) && [ -n "$id" ] && {
      echo "$id"; return; }
    sleep 1
  done
  echo "the Lumen window did not appear" >&2
  exit 1
}

# 1. First start: the welcome page.
lumen-gui --data-dir "$tmp/empty" --model lumen-tiny --weights "$weights" &
gui=$!
id=$(window)
xdotool windowsize "$id" 1280 800 windowmove "$id" 0 0
shoot welcome "${LUMEN_SHOT_WAIT:-20}"
kill "$gui"; wait "$gui" 2>/dev/null || true

# 2. A library of shapes, searched by description, then the preview.
lumen --data-dir "$tmp/lib" --model lumen-tiny --weights "$weights" -q index "$tmp/Pictures" >/dev/null
lumen-gui --data-dir "$tmp/lib" &
gui=$!
id=$(window)
xdotool windowsize "$id" 1280 800 windowmove "$id" 0 0
sleep "${LUMEN_SHOT_WAIT:-20}"  # the library host opens the library and loads the model
xdotool mousemove 400 45 click 1
sleep 1
xdotool key ctrl+a
xdotool type --delay 80 "a red circle"
xdotool key Return
shoot search 6
xdotool mousemove 94 195 click 1  # the first thumbnail
sleep 1
xdotool key space
shoot preview 4
kill "$gui"; wait "$gui" 2>/dev/null || true
