#!/usr/bin/env bash
# Renders a small colour image dataset from Debian's Noto Color Emoji font, offline: one
# subfolder per class (faces, animals, food, plants, travel, objects, hearts, sport), each emoji
# drawn several times at a seeded random size, rotation and margin on white.
#   bash scripts/make-emoji-dataset.sh [FOLDER] [VARIANTS]   (default data/emoji, 8)
# Installs pango1.0-tools and fonts-noto-color-emoji when missing. The same arguments give the
# same files (bash's RANDOM is seeded); an existing folder is left alone.
set -euo pipefail
out=${1:-data/emoji}
variants=${2:-8}
if [[ -e $out ]]; then echo "$out exists; remove it to render again" >&2; exit 1; fi

needed=()
command -v pango-view >/dev/null 2>&1 || needed+=(pango1.0-tools)
fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || needed+=(fonts-noto-color-emoji)
if ((${#needed[@]})); then
    sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "installing ${needed[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${needed[@]}" >/dev/null
fi

declare -A classes=(
    [faces]="😀 😃 😄 😁 😆 😅 😂 🙂 🙃 😉 😊 😇 😍 😘 😋 😛 😜 🤪 😎 🤓 😏 😒 😞 😔 😟"
    [animals]="🐶 🐱 🐭 🐹 🐰 🦊 🐻 🐼 🐨 🐯 🦁 🐮 🐷 🐸 🐵 🐔 🐧 🐦 🐤 🦆 🦉 🐺 🐗 🐴 🦄"
    [food]="🍏 🍎 🍐 🍊 🍋 🍌 🍉 🍇 🍓 🍈 🍒 🍑 🥭 🍍 🥥 🥝 🍅 🍆 🥑 🥦 🥕 🌽 🌶 🥐 🍞"
    [plants]="🌵 🎄 🌲 🌳 🌴 🌱 🌿 ☘ 🍀 🎍 🎋 🍃 🍂 🍁 🍄 🌾 💐 🌷 🌹 🥀 🌺 🌸 🌼 🌻 🪴"
    [travel]="🚗 🚕 🚙 🚌 🚎 🏎 🚓 🚑 🚒 🚐 🚚 🚛 🚜 🛵 🏍 🚲 🛴 🚂 🚆 🚇 ✈ 🚀 🛸 🚁 ⛵"
    [objects]="⌚ 📱 💻 ⌨ 🖥 🖨 🖱 💽 💾 💿 📷 📹 🎥 📞 ☎ 📺 📻 🎙 ⏰ 🔋 🔌 💡 🔦 🕯 🧯"
    [hearts]="❤ 🧡 💛 💚 💙 💜 🖤 🤍 🤎 💔 ❣ 💕 💞 💓 💗 💖 💘 💝 💟 ♥ 💌 💋 🫀 💯 💢"
    [sport]="⚽ 🏀 🏈 ⚾ 🥎 🎾 🏐 🏉 🥏 🎱 🏓 🏸 🏒 🏑 🥍 🏏 ⛳ 🏹 🎣 🥊 🥋 🎽 🛹 ⛸ 🥌"
)
RANDOM=1
jobs=()
for class in $(printf '%s\n' "${!classes[@]}" | sort); do
    mkdir -p "$out/$class"
    index=0
    for emoji in ${classes[$class]}; do
        for ((v = 0; v < variants; v++)); do
            size=$((34 + RANDOM % 14))
            rotate=$((RANDOM % 31 - 15))
            margin=$((1 + RANDOM % 12))
            jobs+=("$out/$class/$(printf '%02d-%d' "$index" "$v").png|$size|$rotate|$margin|$emoji")
        done
        index=$((index + 1))
    done
done
printf '%s\n' "${jobs[@]}" | xargs -P "$(nproc)" -d '\n' -n 1 bash -c '
    IFS="|" read -r file size rotate margin emoji <<< "$0"
    pango-view --font="Noto Color Emoji $size" --rotate="$rotate" --margin="$margin" --background=white -q -o "$file" --text="$emoji" ||
        { echo "could not render $emoji into $file" >&2; exit 255; }
'
echo "wrote $(find "$out" -name '*.png' | wc -l) pictures in $(ls "$out" | wc -l) classes to $out"
