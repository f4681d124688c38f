#!/usr/bin/env bash
# setup.sh [all|stack]: installs everything the tests (all, the default) or only the stack program
# (stack: what scripts/up.sh needs) use on a fresh machine, cached where slow: npm packages, the
# lab's host packages, the Pulumi engine and providers, the lab cluster's Kubernetes binaries (all
# only), the containerd/runc release artifacts (built from Go modules) and the lab's base node tree.
#
# The slow builds run side by side, in lanes: each starts by downloading its modules while the
# others compile, and a link (one core) overlaps another lane's compiles. Each lane's output goes
# to a log under the cache, printed when the lane fails; every lane's time is printed.
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
# lane NAME CMD...: runs CMD in the background, its output in $LOGS/NAME.log.
pids=() names=()
lane() {
  local name=$1; shift
  ( s=$(date +%s); "$@" >"$LOGS/$name.log" 2>&1; rc=$?; echo "--- lane $name: exit $rc in $(( $(date +%s) - s ))s"; exit $rc ) &
  pids+=($!) names+=("$name")
}
step "builds, side by side"
if [ "$PART" = all ]; then
  lane engine bash scripts/engine/build.sh stack
  lane kubernetes-provider bash scripts/engine/build.sh kubernetes-binary
  lane kubernetes bash scripts/kube/build.sh
  lane artifacts bash artifacts/build.sh all
else
  lane engine bash scripts/engine/build.sh stack
  lane artifacts bash artifacts/build.sh stack
fi
lane base bash lab/base.sh
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
for n in "${failed[@]}"; do echo "--- lane $n failed; the end of $LOGS/$n.log:"; tail -40 "$LOGS/$n.log"; done
[ ${#failed[@]} = 0 ] || exit 1
for n in "${names[@]}"; do grep -h '^built \|ready' "$LOGS/$n.log" || true; done
if [ "$PART" = all ]; then
  step "Pulumi engine and providers installed"
  bash scripts/engine/build.sh
fi
step "setup done"
