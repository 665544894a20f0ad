#!/usr/bin/env bash
# Load test of `vae explore`: latency percentiles and throughput of /api/decode under wrk (Debian's
# `wrk`, a second process on loopback), each request a new random latent vector.
# Usage: bash scripts/explore-load.sh RUN [CONNECTIONS...]   (default connections: 1 8)
# Environment: DURATION (seconds per load, default 10), THREADS (wrk threads, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: bash scripts/explore-load.sh RUN [CONNECTIONS...]}
shift
connections=("${@:-1 8}")
[[ $# -eq 0 ]] && connections=(1 8)
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
server=""
trap '[[ -n "$server" ]] && kill -INT "$server" 2>/dev/null; rm -rf "$work"' EXIT
.build/release/vae explore "$run" --port 0 > "$work/server.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/server.log" || true)
    [[ -n "$url" ]] && break
    sleep 0.2
done
[[ -n "$url" ]] || { cat "$work/server.log" >&2; exit 1; }
model=$(curl -s "${url}api/model")
size=$(grep -o '"latentSize":[0-9]*' <<< "$model" | cut -d: -f2)
label=""
grep -q '"condition"' <<< "$model" && label="&label=3"
cat > "$work/decode.lua" <<LUA
math.randomseed(1)
request = function()
  local z = {}
  for i = 1, $size do z[i] = string.format("%.3f", (math.random() * 2 - 1) * 2.5) end
  return wrk.format("GET", "/api/decode?z=" .. table.concat(z, ",") .. "$label")
end
LUA
echo "$(head -1 "$work/server.log" | sed 's/ (Ctrl-C stops)//'): $size-d latent"
for count in "${connections[@]}"; do
    wrk -t "${THREADS:-1}" -c "$count" -d "${DURATION:-10}s" --latency -s "$work/decode.lua" "$url" > "$work/wrk.txt"
    percentiles=$(awk '/Latency Distribution/{on=1; next} on && /%/{printf "%s %s  ", $1, $2} /requests in/{on=0}' "$work/wrk.txt")
    rate=$(awk '/Requests\/sec/{print $2}' "$work/wrk.txt")
    errors=$(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" || true)
    echo "  $count connection(s): $rate decodes/s; latency $percentiles${errors:+; $errors}"
done
