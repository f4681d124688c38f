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
# The three build scripts (the engine's, containerd's and the tools', Kubernetes') run side by side,
# each logging to a file under the cache: their compiles take turns (CN_GO_LOCK, scripts/go-env.sh:
# each compile uses every core, and a later one takes from Go's build cache the packages an earlier
# one compiled), while the module downloads, code generation and tarballs of one go on beside
# another's compile. The base node tree (debootstrap: network and disk, little CPU) is made beside
# them. Each part's log is printed, without Go's download lines, when it ends.
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
export CN_GO_LOCK=$LOGS/go.lock
# part NAME COMMAND...: COMMAND in the background, its output in $LOGS/NAME.log, its exit status
# and seconds in $LOGS/NAME.end.
parts=() pids=()
part() {
  local name=$1; shift
  ( s=$(date +%s); rc=0; "$@" >"$LOGS/$name.log" 2>&1 || rc=$?; echo "$rc $(( $(date +%s) - s ))" >"$LOGS/$name.end" ) &
  parts+=("$name"); pids+=("$!")
}
step "side by side (logs in $LOGS): the lab base node tree, the Pulumi engine, containerd and runc$([ "$PART" = all ] && echo ", the upgrade tests' containerd releases, BuildKit and crictl, the Kubernetes binaries, the Kubernetes provider, the YAML language host and the SDK generator")"
rm -f "$LOGS"/*.end
part base bash lab/base.sh
part engine bash scripts/engine/build.sh "$PART"
part artifacts bash artifacts/build.sh "$PART"
[ "$PART" = stack ] || part kubernetes bash scripts/kube/build.sh
failed=()
for i in "${!parts[@]}"; do
  name=${parts[$i]}
  wait "${pids[$i]}" || true
  read -r rc secs <"$LOGS/$name.end"
  step "$name: exit $rc after ${secs}s"
  # Go's download lines left out; of the artifacts' log (it ends with artifacts.env), what was built.
  if [ "$name" = artifacts ]; then grep -E '^(built|reusing)' "$LOGS/$name.log" || true
  else grep -v '^go: \(downloading\|finding\|extracting\)' "$LOGS/$name.log" || true; fi
  [ "$rc" = 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  for name in "${failed[@]}"; do echo "set-up: $name failed ($LOGS/$name.log), its last lines:"; tail -20 "$LOGS/$name.log"; done
  exit 1
fi
step "setup done"
