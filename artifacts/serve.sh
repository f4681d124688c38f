#!/usr/bin/env bash
# serve.sh [PORT] | serve.sh stop: serves the artifact cache over HTTP on 127.0.0.1 (lab nodes share
# the host's network namespace, so they reach it at the same address).
set -euo pipefail
OUT=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/artifacts
PIDF=$OUT/serve.pid
if [ "${1:-}" = stop ]; then
  if [ -f "$PIDF" ]; then kill "$(cat "$PIDF")" 2>/dev/null || true; fi; rm -f "$PIDF"; exit 0
fi
PORT=${1:-18080}
# Ours only if that process serves this very directory (a pid can be reused).
if [ -f "$PIDF" ] && tr '\0' ' ' 2>/dev/null <"/proc/$(cat "$PIDF")/cmdline" | grep -qF -- "--directory $OUT"; then echo "already serving"; exit 0; fi
# Another server on the port (another checkout's, another HOME's) would serve other builds.
if curl -fs "http://127.0.0.1:$PORT/" >/dev/null 2>&1; then
  echo "artifact server: 127.0.0.1:$PORT is served by another process, not from $OUT: stop it first" >&2; exit 1
fi
setsid python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$OUT" >"$OUT/serve.log" 2>&1 </dev/null &
echo $! >"$PIDF"
for _ in $(seq 30); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && exit 0; sleep 0.2; done
echo "artifact server did not start on 127.0.0.1:$PORT:" >&2; cat "$OUT/serve.log" >&2; exit 1
