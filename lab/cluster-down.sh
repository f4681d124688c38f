#!/usr/bin/env bash
# cluster-down.sh: stops the lab control plane started by cluster-up.sh and removes its state.
source "$(dirname "$0")/lib.sh"
C=$LAB_DIR/cluster
for p in plain-registry tls-registry kube-scheduler kube-controller-manager kube-apiserver etcd; do
  [ -f "$C/$p.pid" ] || continue
  pid=$(cat "$C/$p.pid")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
done
rm -rf "$C"
