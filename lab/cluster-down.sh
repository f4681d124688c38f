#!/usr/bin/env bash
# cluster-down.sh: stops the lab control plane started by cluster-up.sh and removes its state.
source "$(dirname "$0")/lib.sh"
C=$LAB_DIR/cluster
for p in plain-registry tls-registry kube-scheduler kube-controller-manager kube-apiserver etcd; do
  stop_pidfile "$C/$p.pid"
done
rm -rf "$C"
