#!/usr/bin/env bash
# proxy-down.sh: stops the lab's proxy and its registry (lab/proxy-up.sh) and removes their files.
source "$(dirname "$0")/lib.sh"
P=$LAB_DIR/proxy
for f in squid.run.pid registry.pid; do
  [ -f "$P/$f" ] || continue
  pid=$(cat "$P/$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
done
rm -rf "$P"
