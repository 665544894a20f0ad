#!/usr/bin/env bash
# A screenshot of TensorBoard showing run folders: `tensorboard --logdir LOGDIR` on a free loopback
# port, photographed by headless Chromium once its dashboard has loaded (the README's picture).
# Usage: bash scripts/tensorboard-screenshot.sh LOGDIR OUT.png [PAGE]   (PAGE default: #timeseries;
# also #hparams, #images). Needs `bash scripts/install-dependencies.sh --test` (Chromium, TensorBoard).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: $0 LOGDIR OUT.png [PAGE]" >&2; exit 64; }
logdir=$1 out=$2 page=${3:-#timeseries}
python=${VAE_TENSORBOARD_PYTHON:-.build/tensorboard-python/bin/python3}
"$python" -c "import tensorboard" 2>/dev/null || python=python3
"$python" -c "import tensorboard" 2>/dev/null || { echo "TensorBoard is not installed (bash scripts/install-dependencies.sh --test)" >&2; exit 1; }
command -v chromium >/dev/null || { echo "chromium is not installed (bash scripts/install-dependencies.sh --test)" >&2; exit 1; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
"$python" -m tensorboard.main --logdir "$logdir" --host 127.0.0.1 --port "$port" > "$log" 2>&1 &
board=$!
trap 'kill $board 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" 2>/dev/null && break
    kill -0 $board 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.3
done
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1500,1000 --virtual-time-budget=30000 \
    --screenshot="$out" "http://127.0.0.1:$port/$page" 2>/dev/null
echo "wrote $out"
