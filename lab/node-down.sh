#!/usr/bin/env bash
# node-down.sh NAME: stops a lab node (its nspawn process) and removes its tree unless KEEP=1.
source "$(dirname "$0")/lib.sh"
NAME=$1
PIDF=$LAB_DIR/$NAME.pid
if [ -f "$PIDF" ]; then
  pid=$(cat "$PIDF")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PIDF"
fi
# Its cgroups (node_boot), empty once it stopped.
for cg in $(node_cgroups "$NAME"); do [ ! -d "$cg" ] || find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
if [ "${KEEP:-0}" != 1 ]; then
  # The tree's /usr is an overlay (lib.sh, node_tree): unmounted before the tree goes.
  ! mountpoint -q "$LAB_DIR/nodes/$NAME/usr" || umount "$LAB_DIR/nodes/$NAME/usr" || umount -l "$LAB_DIR/nodes/$NAME/usr"
  rm -rf "$LAB_DIR/nodes/$NAME" "$LAB_DIR/nodes/$NAME.usr"
fi
