#!/bin/sh
# Installs (or removes) TwinViewer from this unpacked archive: the app folder, a `twinviewer` command, the
# desktop menu entry, the icons, and the file types (*.twin.toml projects, *.twinbundle incident bundles)
# so that double-clicking one opens it in TwinViewer. Needs no Python and no network.
#
#   ./install.sh                  per user: ~/.local/lib/twinviewer, ~/.local/bin/twinviewer, ~/.local/share
#   sudo ./install.sh --system    for everyone: /opt/twinviewer, /usr/local/bin/twinviewer, /usr/local/share
#   ./install.sh --prefix DIR     DIR/lib/twinviewer, DIR/bin/twinviewer, DIR/share
#   ./install.sh --uninstall [--system | --prefix DIR]   removes what the same install put there
#
# The installed app folder also holds uninstall.sh, which removes that installation.
set -eu

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

mode=user
prefix=""
action=install
while [ $# -gt 0 ]; do
  case "$1" in
    --system) mode=system ;;
    --user) mode=user ;;
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
              mode=prefix; prefix=$2; shift ;;
    --prefix=*) mode=prefix; prefix=${1#--prefix=} ;;
    --uninstall) action=uninstall ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

case "$mode" in
  user)
    : "${HOME:?install.sh: HOME is not set}"
    data_home=${XDG_DATA_HOME:-$HOME/.local/share}
    app_dir=$HOME/.local/lib/twinviewer; bin_dir=$HOME/.local/bin; share_dir=$data_home ;;
  system)
    app_dir=/opt/twinviewer; bin_dir=/usr/local/bin; share_dir=/usr/local/share ;;
  prefix)
    case "$prefix" in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
    app_dir=$prefix/lib/twinviewer; bin_dir=$prefix/bin; share_dir=$prefix/share ;;
esac

here=$(cd "$(dirname "$0")" && pwd)

refresh_caches() {
  # Each tool is optional: desktops without it rescan the folders themselves at the next login.
  if command -v update-mime-database >/dev/null 2>&1; then
    update-mime-database "$share_dir/mime" >/dev/null 2>&1 || true
  fi
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share_dir/applications" >/dev/null 2>&1 || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$share_dir/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t -f "$share_dir/icons/hicolor" >/dev/null 2>&1 || true
  fi
}

# The files an installation owns, relative to share_dir (one list for install and uninstall).
SHARE_FILES="applications/twinviewer.desktop
mime/packages/twinviewer.xml
icons/hicolor/scalable/apps/twinviewer.svg
icons/hicolor/256x256/apps/twinviewer.png
icons/hicolor/scalable/mimetypes/application-x-twinviewer-project.svg
icons/hicolor/256x256/mimetypes/application-x-twinviewer-project.png
icons/hicolor/scalable/mimetypes/application-x-twinviewer-bundle.svg
icons/hicolor/256x256/mimetypes/application-x-twinviewer-bundle.png"

uninstall() {
  if [ -L "$bin_dir/twinviewer" ] || [ -f "$bin_dir/twinviewer" ]; then rm -f "$bin_dir/twinviewer"; fi
  echo "$SHARE_FILES" | while read -r f; do rm -f "$share_dir/$f"; done
  if [ -d "$app_dir" ]; then
    [ -x "$app_dir/twinviewer" ] || { echo "install.sh: $app_dir is not a TwinViewer folder; left as is" >&2; exit 1; }
    rm -rf "$app_dir"
  fi
  refresh_caches
  echo "TwinViewer removed from $app_dir"
}

install_files() {
  [ -x "$here/app/twinviewer" ] || { echo "install.sh: $here/app/twinviewer is missing: unpack the whole archive" >&2; exit 1; }
  mkdir -p "$(dirname "$app_dir")" "$bin_dir" "$share_dir/applications" "$share_dir/mime/packages" \
    "$share_dir/icons/hicolor/scalable/apps" "$share_dir/icons/hicolor/256x256/apps" \
    "$share_dir/icons/hicolor/scalable/mimetypes" "$share_dir/icons/hicolor/256x256/mimetypes"
  rm -rf "$app_dir.new"
  cp -R "$here/app" "$app_dir.new"
  rm -rf "$app_dir"
  mv "$app_dir.new" "$app_dir"
  ln -sfn "$app_dir/twinviewer" "$bin_dir/twinviewer"

  # The menu entry runs the installed executable by its full path (PATH may not hold bin_dir).
  sed -e "s|^Exec=.*|Exec=\"$app_dir/twinviewer\" %f|" -e "s|^TryExec=.*|TryExec=$app_dir/twinviewer|" \
    "$here/share/twinviewer.desktop" > "$share_dir/applications/twinviewer.desktop"
  cp "$here/share/twinviewer-mime.xml" "$share_dir/mime/packages/twinviewer.xml"
  cp "$here/share/twinviewer.svg" "$share_dir/icons/hicolor/scalable/apps/twinviewer.svg"
  cp "$here/share/twinviewer.png" "$share_dir/icons/hicolor/256x256/apps/twinviewer.png"
  for t in project bundle; do
    cp "$here/share/application-x-twinviewer-$t.svg" "$share_dir/icons/hicolor/scalable/mimetypes/"
    cp "$here/share/application-x-twinviewer-$t.png" "$share_dir/icons/hicolor/256x256/mimetypes/"
  done

  # An uninstaller that remembers where this installation went.
  {
    echo "#!/bin/sh"
    echo "# Removes the TwinViewer installed in $app_dir."
    echo "set -eu"
    echo "bin_dir='$bin_dir'; share_dir='$share_dir'; app_dir='$app_dir'"
    echo "SHARE_FILES='$SHARE_FILES'"
    sed -n '/^refresh_caches() {/,/^}/p' "$0"
    sed -n '/^uninstall() {/,/^}/p' "$0"
    echo "uninstall"
  } > "$app_dir/uninstall.sh"
  chmod +x "$app_dir/uninstall.sh"

  refresh_caches
  # Make TwinViewer the default for its own types (per user; a system install leaves users' choices alone).
  if [ "$mode" = user ] && command -v xdg-mime >/dev/null 2>&1; then
    xdg-mime default twinviewer.desktop application/x-twinviewer-project application/x-twinviewer-bundle \
      >/dev/null 2>&1 || true
  fi

  echo "TwinViewer installed in $app_dir"
  echo "  command:   $bin_dir/twinviewer"
  echo "  menu:      $share_dir/applications/twinviewer.desktop"
  echo "  uninstall: $app_dir/uninstall.sh"
  case ":${PATH:-}:" in *":$bin_dir:"*) ;; *) echo "  note: $bin_dir is not on your PATH; the menu entry works anyway" ;; esac
  if [ "$mode" = prefix ]; then
    case ":${XDG_DATA_DIRS:-/usr/local/share:/usr/share}:" in
      *":$share_dir:"*) ;;
      *) echo "  note: desktops look for menu entries and file types in ~/.local/share and XDG_DATA_DIRS," \
              "not in $share_dir" ;;
    esac
  fi
}

if [ "$action" = uninstall ]; then uninstall; else install_files; fi
