#!/usr/bin/env bash
# Put Photosift in the desktop's application menu for this user (freedesktop.org menus: GNOME, KDE, ...).
#
#     packaging/linux/install-desktop-entry.sh [PATH_TO_PHOTOSIFT]
#
# PATH_TO_PHOTOSIFT defaults to the `photosift` on PATH; give the one in your virtual environment
# (e.g. .venv/bin/photosift) when it is not on PATH. Writes only under $XDG_DATA_HOME (~/.local/share).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
program="${1:-$(command -v photosift || true)}"
if [[ -z "$program" || ! -x "$program" ]]; then
    echo "install-desktop-entry: no photosift program found; pass its path, e.g. .venv/bin/photosift" >&2
    exit 2
fi
program="$(cd "$(dirname "$program")" && pwd)/$(basename "$program")"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$data/applications" "$data/icons/hicolor/scalable/apps"
cp "$here/../../resources/icons/photosift.svg" "$data/icons/hicolor/scalable/apps/photosift.svg"
# Exec is the absolute path: a virtual environment's bin folder is rarely on the desktop session's PATH.
sed "s|^Exec=photosift\$|Exec=\"$program\"|" "$here/photosift.desktop" > "$data/applications/photosift.desktop"
echo "installed $data/applications/photosift.desktop (runs $program)"
