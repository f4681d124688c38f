#!/usr/bin/env bash
# down.sh: stops every lab node and the lab cluster.
source "$(dirname "$0")/lib.sh"
for f in "$LAB_DIR"/*.pid; do [ -e "$f" ] && "$(dirname "$0")/node-down.sh" "$(basename "$f" .pid)"; done
"$(dirname "$0")/cluster-down.sh"
