#!/usr/bin/env bash
# proxy-down.sh: stops the lab's proxy and its registry (lab/proxy-up.sh) and removes their files.
source "$(dirname "$0")/lib.sh"
P=$LAB_DIR/proxy
for f in squid.run.pid registry.pid; do
  stop_pidfile "$P/$f"
done
rm -rf "$P"
