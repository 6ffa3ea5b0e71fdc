#!/bin/sh
# Put HydroTwin into this user's application menu and on PATH, from wherever the bundle was
# unpacked (run it from the unpacked folder: ./install-desktop-entry.sh). Writes only under
# ~/.local; remove those three files to uninstall.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$DATA/applications" "$DATA/icons/hicolor/scalable/apps" "$HOME/.local/bin"
cp "$HERE/hydrotwin.svg" "$DATA/icons/hicolor/scalable/apps/hydrotwin.svg"
sed "s|^Exec=hydrotwin|Exec=$HERE/hydrotwin|" "$HERE/hydrotwin.desktop" \
    > "$DATA/applications/hydrotwin.desktop"
ln -sf "$HERE/hydrotwin" "$HOME/.local/bin/hydrotwin"
echo "installed: $DATA/applications/hydrotwin.desktop, ~/.local/bin/hydrotwin"
