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
# A file may name set-up pieces it needs beyond the stack (scripts/setup.sh) in a line
# `// e2e-needs: PIECE...`. With SETUP_READY=DIR (tests/run.sh builds those pieces beside the
# suite), a file starts once DIR has a mark for each of them; the first file in order whose
# pieces are ready takes a free slot. DIR/failed (the set-up's exit status) fails the files still
# waiting, naming the set-up's log (SETUP_LOG). Without SETUP_READY everything is taken as built.
#
# Each file's output is printed whole when it ends, with its time; then the suite's time.
# Exit status: 0 when every file passed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
JOBS=${E2E_JOBS:-3}
# Longest first (as measured beside each other; a file not listed runs after these).
ORDER=(upgrade k8s faults k8s-budget faults-more discover examples fleet convert secrets package)
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
    TMPDIR=$PWD/.lab/e2e-$n/tmp LAB_DIR=$PWD/.lab/e2e-$n API_PORT=$((16443 + i)) ETCD_PORT=$((12379 + 2 * i)) REGISTRY_PORT=$((5443 + i)) \
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

# needs FILE: the set-up pieces FILE waits for.
needs() { sed -n 's|^// e2e-needs: \([a-z][a-z -]*[a-z]\).*|\1|p' "$1" | head -1; }
# ready FILE: every piece FILE needs is built.
ready() {
  local p
  [ -n "${SETUP_READY:-}" ] || return 0
  for p in $(needs "$1"); do [ -e "$SETUP_READY/$p" ] || return 1; done
}
# set_up_failed FILE: the set-up ended without building a piece FILE waits for; FILE is failed.
set_up_failed() {
  local n
  n=$(basename "$1" .e2e.ts)
  { echo "e2e: $n was not run: the set-up of what it needs ($(needs "$1")) failed (exit $(cat "$SETUP_READY/failed"))"
    [ -z "${SETUP_LOG:-}" ] || { echo "the end of $SETUP_LOG:"; tail -20 "$SETUP_LOG"; }; } >"$out/$n.log"
  echo 0 >"$out/$n.time"
  echo 1 >"$out/$n.rc"
}

# The index of a file (its ports) is its place in the list, whenever it starts.
declare -A index
i=0
for f in "${files[@]}"; do index[$f]=$i; i=$((i + 1)); done
pending=("${files[@]}")
while [ ${#pending[@]} -gt 0 ]; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; report; done
  next=""
  for f in "${pending[@]}"; do ready "$f" && { next=$f; break; }; done
  if [ -z "$next" ]; then
    if [ -e "$SETUP_READY/failed" ]; then
      for f in "${pending[@]}"; do set_up_failed "$f"; done
      pending=()
    else
      sleep 2; report
    fi
    continue
  fi
  run_file "${index[$next]}" "$next"
  rest=()
  for f in "${pending[@]}"; do [ "$f" = "$next" ] || rest+=("$f"); done
  pending=("${rest[@]}")
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
