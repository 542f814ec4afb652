#!/usr/bin/env bash
# Packs the one-folder build into dist/twinviewer-VERSION-linux-ARCH.tar.gz: the app folder, install.sh,
# the menu entry, the file-type definitions and the icons. Run by `make dist` after PyInstaller.
#
#   installer/linux/package.sh [APP_FOLDER]      (default: dist/twinviewer)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
app=${1:-$root/dist/twinviewer}
[ -x "$app/twinviewer" ] || { echo "package.sh: $app/twinviewer not found: run make dist" >&2; exit 2; }
version=$("$app/twinviewer" --version | awk '{print $2}')
name=twinviewer-$version-linux-$(uname -m)
stage=$root/dist/$name
rm -rf "$stage" "$root/dist/$name.tar.gz"
mkdir -p "$stage/share"
cp -al "$app" "$stage/app" 2>/dev/null || cp -R "$app" "$stage/app"   # hard links: no second copy on disk
# The demo twin and the examples, where a user can find them (`twinviewer render demo/demo.twin.toml ...`).
ln -s _internal/twinviewer/_assets/demo "$stage/app/demo"
ln -s _internal/twinviewer/_assets/examples "$stage/app/examples"
cp "$root/installer/linux/install.sh" "$stage/install.sh"
chmod +x "$stage/install.sh"
cp "$root/installer/linux/twinviewer.desktop" "$root/installer/linux/twinviewer-mime.xml" "$stage/share/"
cp "$root"/resources/twinviewer.{svg,png} "$root"/resources/application-x-twinviewer-*.{svg,png} "$stage/share/"
cat > "$stage/README.txt" <<TXT
TwinViewer $version for Linux ($(uname -m)): needs no Python and no network.

  ./install.sh                 install for this user (~/.local), with menu entry and file types
  sudo ./install.sh --system   install for everyone (/opt/twinviewer)
  ./install.sh --help          all options, including --prefix DIR and --uninstall
  app/twinviewer               run it from here without installing (app/twinviewer --help for commands)

The system needs an OpenGL driver (Mesa) and the X11/xcb libraries every desktop has.
TXT
tar -C "$root/dist" -czf "$root/dist/$name.tar.gz" "$name"
rm -rf "$stage"
echo "wrote dist/$name.tar.gz ($(du -m "$root/dist/$name.tar.gz" | cut -f1) MB)"
