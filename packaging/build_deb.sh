#!/usr/bin/env bash
# Wrap a built bundle (packaging/build_linux.sh) as a Debian package: dist/lumen_VERSION_amd64.deb.
#
#   packaging/build_deb.sh [--bundle DIR] [--version VERSION] [--out DIR] [--compress xz|zstd]
#
# xz at level 1 (the default): what Debian's tools expect (lintian calls zstd members a
# malformed archive), and smaller than zstd's default here (242 MB against 284 MB) for about two
# minutes of CPU; zstd builds in under a minute, for dpkg >= 1.21.18. LUMEN_DEB_LEVEL sets the
# compression level.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=dist/lumen
VERSION=
OUT=dist
COMPRESS=xz
LEVEL=${LUMEN_DEB_LEVEL:-1}
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) BUNDLE=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --compress) COMPRESS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$BUNDLE/lumen" ] || { echo "No bundle at $BUNDLE: run packaging/build_linux.sh first." >&2; exit 1; }
VERSION=${VERSION:-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' desktop_app/__init__.py)}
MAINTAINER=${LUMEN_DEB_MAINTAINER:-Lumen developers <lumen@lumen.invalid>}
RES=desktop_app/resources
started=$(date +%s)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pkg=$root/lumen
install -d "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/metainfo" "$pkg/usr/share/doc/lumen" "$pkg/usr/share/lintian/overrides" \
  "$pkg/usr/share/icons/hicolor/scalable/apps"
cp -a "$BUNDLE" "$pkg/opt/lumen"
rm -f "$pkg/opt/lumen/lumen-gui"
ln -s lumen "$pkg/opt/lumen/lumen-gui"
ln -s /opt/lumen/lumen "$pkg/usr/bin/lumen"
ln -s /opt/lumen/lumen-gui "$pkg/usr/bin/lumen-gui"
install -m 644 "$RES/lumen.desktop" "$pkg/usr/share/applications/lumen.desktop"
install -m 644 "$RES/io.lumen.Lumen.metainfo.xml" "$pkg/usr/share/metainfo/"
install -m 644 "$RES/lumen.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/lumen.svg"
for icon in "$RES"/icons/hicolor/*/apps/lumen.png; do
  size=$(basename "$(dirname "$(dirname "$icon")")")
  install -D -m 644 "$icon" "$pkg/usr/share/icons/hicolor/$size/apps/lumen.png"
done
install -d "$pkg/usr/share/man/man1"
gzip -9n < packaging/debian/lumen.1 > "$pkg/usr/share/man/man1/lumen.1.gz"
chmod 644 "$pkg/usr/share/man/man1/lumen.1.gz"
ln -s lumen.1.gz "$pkg/usr/share/man/man1/lumen-gui.1.gz"
install -m 644 packaging/debian/copyright "$pkg/usr/share/doc/lumen/copyright"
install -m 644 packaging/debian/lintian-overrides "$pkg/usr/share/lintian/overrides/lumen"
sed "s/@VERSION@/$VERSION/; s/@MAINTAINER@/$MAINTAINER/; s/@DATE@/$(date -R)/" \
  packaging/debian/changelog | gzip -9n > "$pkg/usr/share/doc/lumen/changelog.gz"
chmod 644 "$pkg/usr/share/doc/lumen/changelog.gz"

# Files as a package wants them: nothing group- or world-writable, libraries not executable.
find "$pkg" -type d -exec chmod 755 {} +
find "$pkg/opt/lumen" -type f -exec chmod go-w {} +
find "$pkg/opt/lumen" -type f \( -name '*.so*' -o -path '*.dist-info/*' \) -exec chmod 644 {} +
chmod 755 "$pkg/opt/lumen/lumen"

installed_kb=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed "s/@VERSION@/$VERSION/; s/@MAINTAINER@/$MAINTAINER/; s/@SIZE@/$installed_kb/" \
  packaging/debian/control > "$pkg/DEBIAN/control"
mkdir -p "$OUT"
deb="$OUT/lumen_${VERSION}_amd64.deb"
dpkg-deb --root-owner-group "-Z$COMPRESS" ${LEVEL:+"-z$LEVEL"} --build "$pkg" "$deb" >/dev/null
echo "Built $deb in $(( $(date +%s) - started )) s: $(( $(stat -c %s "$deb") / 1000000 )) MB" \
  "($(( installed_kb * 1024 / 1000000 )) MB installed)"
