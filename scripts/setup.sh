#!/usr/bin/env bash
# setup.sh [all|stack]: installs on a fresh machine, cached where slow, what the tests use:
#   stack: what the stack program (scripts/up.sh) and most tests need: npm packages, the lab's host
#          packages, the Pulumi CLI and the command provider, containerd 2.2.9 and runc, and the
#          lab's base node tree;
#   all:   that, then what only some tests need: the containerd releases of the upgrade tests
#          (1.7, 2.3), BuildKit and crictl's release tarballs (the `tools` tests), the lab cluster's
#          Kubernetes binaries, the Kubernetes provider, the YAML language host and the SDK
#          generator stand-in (the default).
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
if ! { [ -d node_modules/@pulumi/command ] && [ node_modules/.package-lock.json -nt package-lock.json ]; }; then
  npm ci --no-audit --no-fund --loglevel=error
fi
step "lab host packages"
bash lab/install-deps.sh
LOGS=${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/setup
mkdir -p "$LOGS"
step "lab base node tree (beside the builds; $LOGS/base.log)"
bash lab/base.sh >"$LOGS/base.log" 2>&1 &
base=$!
step "Pulumi engine (the CLI and the command provider)"
bash scripts/engine/build.sh stack
step "containerd and runc"
bash artifacts/build.sh stack >/dev/null
wait "$base" || { echo "the lab base node tree failed:"; tail -20 "$LOGS/base.log"; exit 1; }
tail -n 1 "$LOGS/base.log"
if [ "$PART" = all ]; then
  step "containerd releases of the upgrade tests, BuildKit and crictl"
  bash artifacts/build.sh all >/dev/null
  step "Kubernetes binaries"
  bash scripts/kube/build.sh
  step "Kubernetes provider, YAML language host, SDK generator"
  bash scripts/engine/build.sh all
fi
step "setup done"
