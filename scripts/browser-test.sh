#!/usr/bin/env bash
# End-to-end test of `vae explore` in a real headless Chromium (Debian's `chromium`):
#   - trains a small run, starts the server on a free loopback port;
#   - sends malformed and oversized requests over a raw socket: each gets its 4xx, the server lives;
#   - opens the page with #selftest: it loads without script or console errors, moving a slider
#     changes the decoded picture, and it times 50 decodes page to picture;
#   - optionally (SCREENSHOT=file.png) takes a screenshot of the page started from test image 7;
#   - stops the server with SIGINT (Ctrl-C): it must exit 0 and say "stopped".
# Usage: bash scripts/browser-test.sh [RUN]   (RUN: an existing run or model folder; default: train
# one with the gmm sampler; `make test` also runs it on models/vq-mnist)
set -euo pipefail
cd "$(dirname "$0")/.."
vae=.build/release/vae
work=$(mktemp -d)
server=""
# Chromium's helpers (zygote, crashpad) can outlive the browser for a moment and still write to
# the profile, so the removal is retried; a folder left in /tmp does not fail a passing test.
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null
    pkill -f -- "--user-data-dir=$work/profile" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        rm -rf "$work" 2>/dev/null && return 0
        sleep 0.5
    done
    echo "browser test: could not remove $work" >&2
}
trap cleanup EXIT
fail() { echo "browser test: FAIL: $*" >&2; [[ -f "$work/server.log" ]] && sed 's/^/  server: /' "$work/server.log" >&2; exit 1; }

command -v chromium >/dev/null || fail "chromium is not installed (bash scripts/install-dependencies.sh --test)"
run=${1:-}
sampler=()
if [[ -z "$run" ]]; then
    run="$work/run"
    "$vae" train --preset pytorch-example --epochs 1 --hidden-sizes 64 --out "$run" > /dev/null
    sampler=(--sampler gmm)
fi
"$vae" explore "$run" --port 0 --test-images 2000 "${sampler[@]}" > "$work/server.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 150); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/server.log" || true)
    [[ -n "$url" ]] && break
    kill -0 "$server" 2>/dev/null || fail "the server exited before listening"
    sleep 0.2
done
[[ -n "$url" ]] || fail "the server did not print its address within 30 s"
port=${url##*:}; port=${port%/}

# Hostile requests on the real socket: each answered with its status, none stops the server.
python3 - "$port" <<'PYTHON' || fail "a hostile request was not answered as expected"
import socket, sys
port = int(sys.argv[1])
def ask(raw, timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        return s.recv(200).split(b"\r\n")[0].decode()
cases = [
    (b"\x00\xff not http\r\n\r\n", "400"),
    (b"GET /api/decode?z=" + b"1" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "4"),
    (b"GET /api/decode?z=nan HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
    (b"POST /api/encode HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n\x89PNG", "413"),
    (b"POST /api/encode HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\nnot an image", "400"),
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
]
for raw, expected in cases:
    status = ask(raw)
    parts = status.split(" ")
    code = parts[1] if len(parts) > 1 else ""
    if not code.startswith(expected):
        sys.exit(f"{raw[:40]!r}: expected {expected}, got {status!r}")
print("hostile requests: all answered (400, 4xx, 400, 413, 400, 404)")
PYTHON
kill -0 "$server" 2>/dev/null || fail "the server died on a hostile request"

chrome=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars --window-size=1100,840
        --user-data-dir="$work/profile")
# The self-test runs in real time (virtual time would make its timings meaningless), so the page
# is driven through Chromium's DevTools protocol: a minimal WebSocket client polls the verdict.
"${chrome[@]}" --remote-debugging-port=0 "${url}#selftest" 2>"$work/chromium.log" &
browser=$!
verdict=$(python3 - "$work/chromium.log" <<'PYTHON'
import base64, json, os, re, socket, struct, sys, time, urllib.request
log, deadline = sys.argv[1], time.time() + 120
port = None
while port is None and time.time() < deadline:
    found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", open(log).read())
    port = found and int(found.group(1)) or time.sleep(0.2)
if port is None: sys.exit("chromium did not open its DevTools port")
page = None
while page is None and time.time() < deadline:
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    page = next((t for t in targets if t.get("type") == "page" and "#selftest" in t.get("url", "")), None) or time.sleep(0.2)
path = page["webSocketDebuggerUrl"].split(f":{port}", 1)[1]
sock = socket.create_connection(("127.0.0.1", port), timeout=30)
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
reply = b""
while b"\r\n\r\n" not in reply: reply += sock.recv(4096)
if b" 101 " not in reply.split(b"\r\n")[0]: sys.exit("no WebSocket upgrade: " + reply.split(b"\r\n")[0].decode())
buffer = reply.split(b"\r\n\r\n", 1)[1]
def receive(count):
    global buffer
    while len(buffer) < count: buffer += sock.recv(65536)
    data, buffer = buffer[:count], buffer[count:]
    return data
def send(message):
    payload, mask = json.dumps(message).encode(), os.urandom(4)
    header = bytes([0x81]) + (bytes([0x80 | len(payload)]) if len(payload) < 126 else bytes([0x80 | 126]) + struct.pack(">H", len(payload)))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
def read():
    first, second = receive(2)
    length = second & 0x7F
    if length == 126: length = struct.unpack(">H", receive(2))[0]
    elif length == 127: length = struct.unpack(">Q", receive(8))[0]
    return json.loads(receive(length)) if first & 0x0F == 1 else read()
identifier = 0
while time.time() < deadline:
    identifier += 1
    send({"id": identifier, "method": "Runtime.evaluate", "params": {"expression": "document.body.dataset.selftest || ''", "returnByValue": True}})
    answer = read()
    while answer.get("id") != identifier: answer = read()
    verdict = answer.get("result", {}).get("result", {}).get("value", "")
    if verdict: break
    time.sleep(0.2)
else:
    sys.exit("the page wrote no self-test verdict within 120 s")
screenshot = os.environ.get("SCREENSHOT")
if screenshot and verdict.startswith("pass"):
    # The page as a person sees it, in real time: started from test image 7.
    identifier += 1
    send({"id": identifier, "method": "Runtime.evaluate", "params": {"expression": "location.hash = '#test=7'; location.reload(); 1"}})
    while read().get("id") != identifier: pass
    time.sleep(3)
    identifier += 1
    send({"id": identifier, "method": "Page.captureScreenshot", "params": {"format": "png"}})
    answer = read()
    while answer.get("id") != identifier: answer = read()
    open(screenshot, "wb").write(base64.b64decode(answer["result"]["data"]))
print(verdict)
PYTHON
) || { kill "$browser" 2>/dev/null; fail "the browser check: ${verdict:-no verdict} ($(tail -2 "$work/chromium.log"))"; }
kill "$browser" 2>/dev/null; wait "$browser" 2>/dev/null || true
[[ "$verdict" == pass* ]] || fail "the page's self-test: $verdict"
echo "browser test: $verdict"

[[ -n "${SCREENSHOT:-}" ]] && echo "browser test: wrote $SCREENSHOT"

kill -INT "$server"
status=0; wait "$server" || status=$?
server=""
[[ $status -eq 0 ]] || fail "the server exited with $status after SIGINT"
grep -q '^stopped' "$work/server.log" || fail "the server did not say it stopped"
echo "browser test: SIGINT stopped the server cleanly"
