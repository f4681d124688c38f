#!/usr/bin/env bash
# down.sh: stops every lab node (and removes the trees), the lab cluster and the lab proxy.
source "$(dirname "$0")/lib.sh"
for f in "$LAB_DIR"/*.pid; do [ -e "$f" ] && "$(dirname "$0")/node-down.sh" "$(basename "$f" .pid)"; done
# Trees of nodes already stopped (KEEP=1): their /usr overlay mounts go too.
for d in "$LAB_DIR"/nodes/*; do
  [ -d "$d" ] && [[ $d != *.usr ]] && "$(dirname "$0")/node-down.sh" "$(basename "$d")"
done
"$(dirname "$0")/cluster-down.sh"
"$(dirname "$0")/proxy-down.sh"
