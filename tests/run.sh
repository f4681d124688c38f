#!/usr/bin/env bash
# The test command: unit tests (logic, renderers, the node-side bash), then the end-to-end suite
# (real Pulumi engine and providers, real systemd nodes over SSH). Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
source scripts/engine/env.sh
log=$(mktemp)
npx mocha --reporter spec 2>&1 | tee "$log"
unit_rc=${PIPESTATUS[0]}
# The Go modules' own tests: the stand-in command provider's (a real sshd on 127.0.0.1 and the real
# engine) and the scale benchmark's answering SSH endpoint's. Built as the set-up built the provider
# (scripts/go-env.sh, -trimpath, no cgo), so the packages it compiled are reused.
go_rc=0
for m in lab/command-provider bench/ssh-answer; do
  (cd "$m" && source "$OLDPWD/scripts/go-env.sh" && CGO_ENABLED=0 go test -trimpath -count=1 -v ./...) 2>&1 | tee -a "$log" | grep -E '^(--- |ok|FAIL|panic)'
  [ "${PIPESTATUS[0]}" = 0 ] || go_rc=1
done
bash tests/e2e/run.sh 2>&1 | tee -a "$log"
e2e_rc=${PIPESTATUS[0]}
bash lab/down.sh >/dev/null 2>&1 || true
bash artifacts/serve.sh stop || true
passed=$(awk '/^ *[0-9]+ passing/{s+=$1} /^--- PASS/{s++} END{print s+0}' "$log")
failed=$(awk '/^ *[0-9]+ failing/{s+=$1} /^--- FAIL/{s++} END{print s+0}' "$log")
[ "$unit_rc" = 0 ] && [ "$go_rc" = 0 ] && [ "$e2e_rc" = 0 ] || [ "$failed" -gt 0 ] || failed=1
# Each failure's title and its first error lines, last: a CI log cut to its tail still names them.
# A step's progress lines (`… creating (2s) …`) are left out unless they say what failed: the cause
# of a failed `pulumi up` is further down its output than the resources it began.
awk '/^ *[0-9]+ passing/{f=0} /^ *[0-9]+ failing/{f=1; print "failures:"} !f{next}
  /^  [0-9]+\) /{t=2; e=0} t>0 && NF{print; t--; next}
  /^ *at / || / (creating|updating|deleting|replacing|reading|refreshing) \([0-9]+s\)/ && !/(error|failed|refused)/{next}
  e<8 && /(Error|error:|containerd-node:|refused|failed)/{print "    " $0; e++}' "$log" | cut -c1-300
echo "command provider: $(cat "${CONTAINERD_NODE_CACHE:-$HOME/.cache/containerd-node}/engine/command-provider.txt")"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
