#!/usr/bin/env bash
# Installs the Debian packages the project builds against, when any is missing; with --test,
# also what the tests need beyond that: a headless Chromium and Python for the browser test of
# `vae explore` (scripts/browser-test.sh), and TensorBoard's own event reader for the tests of the
# runs' event files, from PyPI into the virtual environment .build/tensorboard-python.
# Safe to run any number of times: it does nothing once everything is there.
set -euo pipefail

packages=(libopenblas-dev libdnnl-dev zlib1g-dev libpng-dev libgif-dev libturbojpeg0-dev libcairo2-dev fonts-dejavu-core libcurl4 pkg-config
          libopenmpi-dev openmpi-bin)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(chromium python3 python3-venv iproute2)
fi
tensorboard_python="$(cd "$(dirname "$0")/.." && pwd)/.build/tensorboard-python"

# TensorBoard for the tests, once the packages are there.
install_tensorboard() {
    [[ "${1:-}" == "--test" ]] || return 0
    "$tensorboard_python/bin/python3" -c "import tensorboard" >/dev/null 2>&1 && return 0
    echo "installing tensorboard into $tensorboard_python"
    rm -rf "$tensorboard_python"
    python3 -m venv "$tensorboard_python"
    "$tensorboard_python/bin/pip" install --quiet --disable-pip-version-check tensorboard
}

if ! command -v swift >/dev/null 2>&1; then
    echo "error: the Swift toolchain (6.0 or newer) is not on PATH." >&2
    echo "hint: install it from swift.org (Debian has no swift package), then run this again." >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    install_tensorboard "${1:-}"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "error: missing packages ${missing[*]}, and this user is not root and has no sudo." >&2
    exit 1
fi
echo "installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
install_tensorboard "${1:-}"
