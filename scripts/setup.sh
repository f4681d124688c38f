#!/usr/bin/env bash
# setup.sh [all|stack]: installs everything the tests (all, the default) or only the stack program
# (stack: what scripts/up.sh needs) use on a fresh machine, cached where slow: npm packages, the
# lab's host packages, the Pulumi engine and providers, the lab cluster's Kubernetes binaries (all
# only), the containerd/runc release artifacts (built from Go modules) and the lab's base node tree.
#
# The Go builds run one after the other: they share many packages (gRPC, protobuf, golang.org/x,
# the Pulumi SDK), which a later build takes from Go's build cache; side by side, each compiled them
# again and the whole took longer, not shorter. The base node tree (debootstrap: network and disk,
# little CPU) is made beside them; its output goes to a log under the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PART=${1:-all}
case $PART in all|stack) ;; *) echo "usage: $0 [all|stack]" >&2; exit 2;; esac
t0=$(date +%s)
step() { echo "--- $* ($(( $(date +%s) - t0 ))s)"; }
step "npm packages"
[ -d node_modules/@pulumi/command ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
step "lab host packages"
bash lab/install-deps.sh
LOGS=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/setup
mkdir -p "$LOGS"
step "lab base node tree (beside the builds; $LOGS/base.log)"
bash lab/base.sh >"$LOGS/base.log" 2>&1 &
base=$!
if [ "$PART" = all ]; then
  step "Pulumi engine"
  bash scripts/engine/build.sh
  step "Kubernetes binaries"
  bash scripts/kube/build.sh
else
  step "Pulumi engine (the CLI and the command provider)"
  bash scripts/engine/build.sh stack
fi
step "containerd and runc artifacts"
bash artifacts/build.sh "$PART" >/dev/null
wait "$base" || { echo "the lab base node tree failed:"; tail -20 "$LOGS/base.log"; exit 1; }
tail -n 1 "$LOGS/base.log"
step "setup done"
