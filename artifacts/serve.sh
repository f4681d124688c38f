#!/usr/bin/env bash
# serve.sh [PORT] | serve.sh stop: serves the artifact cache over HTTP on 127.0.0.1 (lab nodes share
# the host's network namespace, so they reach it at the same address).
set -euo pipefail
OUT=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/artifacts
PIDF=$OUT/serve.pid
if [ "${1:-}" = stop ]; then
  [ -f "$PIDF" ] && kill "$(cat "$PIDF")" 2>/dev/null || true; rm -f "$PIDF"; exit 0
fi
PORT=${1:-18080}
[ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null && { echo "already serving"; exit 0; }
setsid python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$OUT" >"$OUT/serve.log" 2>&1 </dev/null &
echo $! >"$PIDF"
for i in $(seq 30); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && exit 0; sleep 0.2; done
echo "artifact server did not start"; cat "$OUT/serve.log"; exit 1
