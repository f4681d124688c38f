#!/usr/bin/env bash
# tests/e2e/run.sh [FILE...]: the end-to-end suite (default: every tests/e2e/*.e2e.ts), its files
# run side by side, E2E_JOBS at a time (default 3; on two cores a fourth made every file slower).
# Much of a file's time is waiting on nodes (boots, drains, restarts, Ready), not computing.
#
# Each file runs in a mocha process of its own with a lab of its own: its own LAB_DIR (nodes, lab
# key, known_hosts, cluster state) and, for the files that start a lab cluster, its own API server,
# etcd and registry ports, and its own TMPDIR (a test that counts the temporary files its steps
# leave sees only its own). Node names, SSH ports and kubelet ports are already distinct across
# files. One artifact server serves them all. The longest files start first.
#
# Each file's output is printed whole when it ends, with its time; then the suite's time.
# Exit status: 0 when every file passed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
JOBS=${E2E_JOBS:-3}
# Longest first (as measured beside each other; a file not listed runs after these).
ORDER=(upgrade k8s faults k8s-budget faults-more discover examples fleet buildkit convert yaml faults-boot proxy secrets sdk package)
if [ $# -gt 0 ]; then
  files=("$@")
else
  files=()
  for n in "${ORDER[@]}"; do [ -f "tests/e2e/$n.e2e.ts" ] && files+=("tests/e2e/$n.e2e.ts"); done
  for f in tests/e2e/*.e2e.ts; do
    n=$(basename "$f" .e2e.ts)
    [[ " ${ORDER[*]} " == *" $n "* ]] || files+=("$f")
  done
fi
# The whole project is type-checked once, here; the files then run transpile-only (ts-node's type
# check took more CPU in each of the eleven mocha processes than this one tsc run).
npx tsc --noEmit -p tsconfig.json || { echo "e2e: the type check (tsc --noEmit, above) failed: no file was run" >&2; exit 1; }
out=$(mktemp -d)
bash artifacts/serve.sh 18080 >/dev/null || { echo "e2e: the artifact server did not start (artifacts/serve.sh 18080, above): no file was run" >&2; exit 1; }
t0=$(date +%s)

# run_file INDEX FILE: the file's mocha in the background; its log, status and time in $out.
run_file() {
  local i=$1 f=$2 n s
  n=$(basename "$f" .e2e.ts)
  (
    s=$(date +%s)
    mkdir -p "$PWD/.lab/e2e-$n/tmp"
    TS_NODE_TRANSPILE_ONLY=true TMPDIR=$PWD/.lab/e2e-$n/tmp LAB_DIR=$PWD/.lab/e2e-$n API_PORT=$((16443 + i)) ETCD_PORT=$((12379 + 2 * i)) REGISTRY_PORT=$((5443 + i)) \
      npx mocha --no-config --require ts-node/register --extension ts --timeout 1200000 --reporter spec "$f" >"$out/$n.log" 2>&1 </dev/null
    rc=$?
    # Whatever the file's own hooks left running (a file that died midway): its nodes, its cluster.
    LAB_DIR=$PWD/.lab/e2e-$n bash lab/down.sh >/dev/null 2>&1
    echo "$(( $(date +%s) - s ))" >"$out/$n.time"
    echo "$rc" >"$out/$n.rc"
  ) &
  echo "e2e: $n started ($(( $(date +%s) - t0 ))s)"
}

# report: prints each file that ended since the last call.
report() {
  local f n
  for f in "$out"/*.rc; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .rc)
    [ -e "$out/$n.shown" ] && continue
    touch "$out/$n.shown"
    echo "=== e2e: $n ($(cat "$out/$n.time")s, exit $(cat "$f"))"
    cat "$out/$n.log"
  done
}

i=0
for f in "${files[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; report; done
  run_file "$i" "$f"
  i=$((i + 1))
done
wait
report
rc=0
for f in "${files[@]}"; do
  n=$(basename "$f" .e2e.ts)
  printf 'e2e: %-12s %5ss exit %s\n' "$n" "$(cat "$out/$n.time" 2>/dev/null || echo '?')" "$(cat "$out/$n.rc" 2>/dev/null || echo '?')"
  [ "$(cat "$out/$n.rc" 2>/dev/null)" = 0 ] || rc=1
done
echo "e2e suite took $(( $(date +%s) - t0 ))s (${#files[@]} files, $JOBS at a time)"
rm -rf "$out"
exit "$rc"
