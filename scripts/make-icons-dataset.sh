#!/usr/bin/env bash
# Renders a larger colour image dataset from a Debian icon theme, offline: every distinct SVG
# icon of the theme's 64x64 folder, drawn on white at 32x32 and at 64x64, one subfolder per icon
# category (apps, devices, mimetypes, places, ... as the theme has them):
#   bash scripts/make-icons-dataset.sh [FOLDER] [THEME]   (default data/icons, Papirus)
# writes FOLDER/32/<category>/<icon>.png and FOLDER/64/<category>/<icon>.png. Icons that are
# links to another icon are rendered once, under the first category that holds the file itself.
# Installs papirus-icon-theme and librsvg2-bin (rsvg-convert) when missing. The same theme gives
# the same files; an existing folder is left alone.
set -euo pipefail
out=${1:-data/icons}
theme=${2:-Papirus}
if [[ -e $out ]]; then echo "$out exists; remove it to render again" >&2; exit 1; fi

needed=()
command -v rsvg-convert >/dev/null 2>&1 || needed+=(librsvg2-bin)
[[ $theme != Papirus || -d /usr/share/icons/Papirus ]] || needed+=(papirus-icon-theme)
if ((${#needed[@]})); then
    sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "installing ${needed[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${needed[@]}" >/dev/null
fi
source_folder=/usr/share/icons/$theme/64x64
[[ -d $source_folder ]] || { echo "$source_folder does not exist: the theme $theme has no 64x64 icons" >&2; exit 1; }

# One job per distinct icon file (links resolved), categories in sorted order.
jobs=$(mktemp)
trap 'rm -f "$jobs"' EXIT
declare -A seen=()
for category in $(find -L "$source_folder" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort); do
    while IFS= read -r icon; do
        real=$(readlink -f "$icon")
        [[ -n ${seen[$real]:-} ]] && continue
        seen[$real]=1
        name=$(basename "$icon" .svg)
        printf '%s|%s|%s\n' "$real" "$category" "$name" >> "$jobs"
    done < <(find "$source_folder/$category/" -maxdepth 1 -name '*.svg' -type f | sort)
done
[[ -s $jobs ]] || { echo "no SVG icons found under $source_folder" >&2; exit 1; }
for size in 32 64; do
    cut -d'|' -f2 "$jobs" | sort -u | while read -r category; do mkdir -p "$out/$size/$category"; done
done
xargs -P "$(nproc)" -d '\n' -n 1 bash -c '
    IFS="|" read -r file category name <<< "$0"
    for size in 32 64; do
        rsvg-convert --width "$size" --height "$size" --keep-aspect-ratio --background-color white \
            -o "'"$out"'/$size/$category/$name.png" "$file" ||
            { echo "could not render $file" >&2; exit 255; }
    done
' < "$jobs"
for size in 32 64; do
    echo "wrote $(find "$out/$size" -name '*.png' | wc -l) pictures of ${size}x${size} in $(ls "$out/$size" | wc -l) categories to $out/$size:" \
        "$(for category in $(ls "$out/$size"); do printf '%s %s, ' "$category" "$(ls "$out/$size/$category" | wc -l)"; done | sed 's/, $//')"
done
