#!/usr/bin/env bash
# Installs everything the stack and the tests need on a fresh machine, cached where slow:
# npm packages, the lab's host packages, the Pulumi engine and providers and the lab cluster's
# Kubernetes binaries (built from Go modules),
# the containerd/runc release artifacts (built from Go modules) and the lab's base node tree.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { echo "--- $* ($(( $(date +%s) - t0 ))s)"; }
step "npm packages"
[ -d node_modules/@pulumi/command ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
step "lab host packages"
bash lab/install-deps.sh
step "Pulumi engine"
bash scripts/engine/build.sh
step "Kubernetes binaries"
bash scripts/kube/build.sh
step "containerd and runc artifacts"
bash artifacts/build.sh >/dev/null
step "lab base node tree"
bash lab/base.sh
step "setup done"
