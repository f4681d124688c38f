# shellcheck shell=bash
# shellcheck disable=SC2034 # the library's variables are read by the steps that source it
#
# containerd-node's node library: the bash every step after the pre-flight sources, and the
# boot-time recovery unit runs. It reaches the node as this file, once per version, at
# $CN_DIR/lib/node-HASH.sh, HASH the first 16 hex digits of its SHA-256: the facts read at up puts
# it there when it is missing (or, with the node's facts given, the node's `lib` step copies it),
# so the state never holds its text, and versions never mix.
# Each step's command text names that path (components/scripts/lib.ts), so a change to this file
# is a change of every step that sources it in `pulumi preview`.
#
# Sections: the transaction (logging, save/put/remove, rollback); detached steps (the runner); the
# run claim; runtime detection and version rules; containerd's health; the Node API with the
# kubelet's credentials; the kubelet flag editors and the revert script, kept as text; then the
# steps: what each step's command text calls, with the values it sets (listed there).
#
# === the transaction ===
# Every file is saved before it is overwritten and every service's state is noted before it is
# touched; if the step fails anywhere, the EXIT trap puts them all back and restarts what was
# running.
# log: a detail of the step's work (a file written, a phase begun), kept on the node in the run's
# `log`; say: what a person should see (what restarted, what was carried, skipped or left alone),
# in the step's output (`err`, which `pulumi up` shows and the state keeps) and its `log`. Outside
# a detached run both go to stderr.
log() { if [ -n "${CN_RUN_DIR:-}" ]; then echo "[$STEP] $*" >>"$CN_RUN_DIR/log"; else echo "[$STEP] $*" >&2; fi; }
say() { log "$@"; [ -z "${CN_RUN_DIR:-}" ] || echo "[$STEP] $*" >&2; }
# A detached run (cn_run, below) keeps its phase and its transaction on disk, for the boot-time recovery.
phase() { PHASE="$*"; log "$PHASE"; [ -z "${CN_RUN_DIR:-}" ] || echo "$PHASE" >>"$CN_RUN_DIR/phases"; }
die() { echo "containerd-node: step '$STEP' failed during '$PHASE': $*" >&2; exit 1; }
unit_exists() { systemctl cat "$1" >/dev/null 2>&1; }
# wait_for SECONDS CMD...: polls CMD every second until it succeeds.
wait_for() { local t=$1; shift; local i=0; until "$@" >/dev/null 2>&1; do i=$((i+1)); [ "$i" -ge "$t" ] && return 1; sleep 1; done; }

txn_begin() {
  TXN=$(mktemp -d "$CN_DIR/txn/$STEP.XXXXXX")
  : >"$TXN/files"; : >"$TXN/paths"; : >"$TXN/units"
  trap 'txn_end $?' EXIT
  # A detached run: its transaction on disk for the boot-time recovery, which it installs (not a
  # change of the step's own: CHANGED, which decides restarts, does not count it).
  if [ -n "${CN_RUN_DIR:-}" ]; then
    echo "$TXN" >"$CN_RUN_DIR/txn"
    local changed_before=$CHANGED
    cn_recover_unit
    CHANGED=$changed_before
  fi
}
# save PATH: keep the current content (or its absence) for a rollback; once per path.
save() {
  local p=$1 n
  [ -n "$TXN" ] || return 0
  grep -qxF -- "$p" "$TXN/paths" && return 0
  echo "$p" >>"$TXN/paths"
  n=$(wc -l <"$TXN/paths")
  if [ -e "$p" ] || [ -L "$p" ]; then cp -a "$p" "$TXN/$n"; echo "$n present $p" >>"$TXN/files"
  else echo "$n absent $p" >>"$TXN/files"; fi
}
# note_unit NAME: remember whether NAME is active/enabled, to restore it on rollback. Units are
# restored in the order noted: note the runtime before the units that need it (kubelet last).
note_unit() {
  local u=$1
  [ -n "$TXN" ] || return 0
  grep -q "^$u " "$TXN/units" && return 0
  echo "$u $(systemctl is-active "$u" 2>/dev/null || true) $(systemctl is-enabled "$u" 2>/dev/null || true)" >>"$TXN/units"
}
# free_mib PATH: MiB free on the filesystem that holds PATH (or would: its nearest existing parent).
free_mib() { local d=$1; while [ ! -e "$d" ]; do d=$(dirname "$d"); done; df -Pm "$d" | awk 'NR==2{print $4}'; }
# staged PARTIAL CMD...: runs a staging command (download, unpack) that writes PARTIAL, before
# anything is live. If it fails, PARTIAL is removed (nothing half-written is left to fill the disk
# or be taken for complete), and a failure for want of space says so, with where and how much.
staged() {
  local partial=$1 err rc=0
  shift
  err=$("$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 0 ] && return 0
  rm -rf "$partial"
  if grep -qiE 'no space left|failure writing output|failed writing body|error on write|disk quota exceeded' <<<"$err"; then
    die "no space left on the filesystem of $(dirname "$partial") ($(free_mib "$partial") MiB free there now); nothing is live yet and the partial files were removed: free space there and run again"
  fi
  [ -z "$err" ] || printf '%s\n' "$err" >&2
  return "$rc"
}
# put PATH MODE < content: writes only when the content differs; records the change.
put() {
  local p=$1 mode=$2 tmp
  mkdir -p "$(dirname "$p")"
  tmp=$(mktemp "$p.cnode.XXXXXX")
  cat >"$tmp"; chmod "$mode" "$tmp"
  if [ -f "$p" ] && [ ! -L "$p" ] && cmp -s "$tmp" "$p"; then rm -f "$tmp"; return 0; fi
  save "$p"; mv -f "$tmp" "$p"; CHANGED="$CHANGED $p"; log "wrote $p"
}
# put_bin SRC DEST: installs a binary when it differs.
put_bin() {
  local src=$1 p=$2
  if [ -f "$p" ] && cmp -s "$src" "$p"; then return 0; fi
  save "$p"; mkdir -p "$(dirname "$p")"
  cp -f "$src" "$p.cnode.tmp" && chmod 0755 "$p.cnode.tmp" && mv -f "$p.cnode.tmp" "$p"
  CHANGED="$CHANGED $p"; log "installed $p"
}
# remove PATH: deletes a file or directory, saved first.
remove() { if [ -e "$1" ] || [ -L "$1" ]; then save "$1"; rm -rf "$1"; CHANGED="$CHANGED $1"; log "removed $1"; fi; }
changed() { local p; for p in "$@"; do case " $CHANGED " in *" $p"*) return 0;; esac; done; return 1; }

rollback() {
  echo "containerd-node: rolling back step '$STEP'" >&2
  local n state p u active enabled
  # The kubelet must not run on a half-restored runtime; it is started again below if it ran.
  if grep -q "^kubelet " "$TXN/units"; then systemctl stop kubelet 2>/dev/null || true; fi
  tac "$TXN/files" | while read -r n state p; do
    rm -rf "$p"
    if [ "$state" = present ]; then cp -a "$TXN/$n" "$p"; echo "  restored $p" >&2; else echo "  removed $p (did not exist)" >&2; fi
  done
  systemctl daemon-reload || true
  while read -r u active enabled; do
    case "$enabled" in enabled) systemctl enable "$u" >/dev/null 2>&1 || true;; disabled) systemctl disable "$u" >/dev/null 2>&1 || true;; esac
    if [ "$active" = active ]; then systemctl restart "$u" || echo "  could not restart $u" >&2
    else systemctl stop "$u" 2>/dev/null || true; fi
    echo "  $u: $(systemctl is-active "$u" 2>/dev/null || true) (was $active)" >&2
  done <"$TXN/units"
  [ -z "$ON_ROLLBACK" ] || $ON_ROLLBACK || true
}
txn_end() {
  local rc=$1
  trap - EXIT
  if [ "$rc" -ne 0 ] && [ -n "$TXN" ]; then
    rollback
    echo "containerd-node: step '$STEP' failed (exit $rc) during '$PHASE'; the node was put back as it was before this step" >&2
  fi
  [ -n "$TXN" ] && rm -rf "$TXN"
  # Ended: a reboot from here on (the step's next part, its end) finds no transaction to put back.
  [ -z "${CN_RUN_DIR:-}" ] || rm -f "$CN_RUN_DIR/txn"
  cn_claim_end "$rc"
  # Within a fleet's failure budget the node is now back as it was: the step ends successfully
  # (so the rollout goes on) and says on stdout that it failed.
  if [ "$rc" -ne 0 ] && [ -n "${ABSORB_FAILURE:-}" ]; then echo "{\"failed\":\"$STEP\"}"; exit 0; fi
  exit "$rc"
}

# === detached steps ===
# Every mutating node step runs on the node as a transient systemd unit, not in the shell of its
# SSH session, so a lost session, a killed `pulumi` or a cancelled CI runner can't cut it in half:
# it completes or rolls back on the node. The SSH side only follows it. A run is named by the step
# and the hash of its script: the next `pulumi up`, sending the same step again, finds it instead
# of starting a second one (still running: follows its log; finished: reports its result, once).
# A node rebooted during a run is rolled back at boot (containerd-node-recover.service, before
# containerd, Docker and the kubelet start), so it comes up on the runtime it had before the step;
# the next run of the step says so and runs it again.
RUNS_KEEP=20
# containerd's proxy drop-in (the proxy step writes it; its text is rendered by the package's
# proxy renderer) and its first line, which marks it as this package's: a hand-made one is never
# removed. A unit test holds both to the renderer's. No step sets PROXY_DROPIN: a unit test
# redirects the drop-in by giving it in the environment.
PROXY_DROPIN=${PROXY_DROPIN:-/etc/systemd/system/containerd.service.d/http-proxy.conf}
PROXY_DROPIN_HEAD="# Managed by containerd-node (Pulumi): containerd's proxy environment (proxy)."
# The file this library was sourced from: what cn_run starts each step's script with.
CN_LIB=${BASH_SOURCE[0]:-}
# cn_run NAME [SCRIPT_FILE]: runs the step as a transient unit, or finds its run; follows it.
# Without SCRIPT_FILE the script is the standard input (a step's command): saved to a file first
# (0600: it may hold credentials), so nothing the step runs can read the rest of it, and removed
# once the run has its own copy (or, at the latest, when the command ends). The run's copy starts
# with strict mode and this library (cn_run_head): a step's text holds only what is its own (its
# cn_begin, values and calls), since the state keeps it twice. CN_DIR reaches it from the unit.
cn_run() {
  local name=$1 script=${2:-} id dir unit
  CN_RUN_INPUT=""
  if [ -z "$script" ]; then
    CN_RUN_INPUT=$(mktemp "${TMPDIR:-/tmp}/containerd-node.XXXXXX") || return 1
    trap 'rm -f "$CN_RUN_INPUT"' EXIT
    script=$CN_RUN_INPUT
    cat >"$script" || return 1
  fi
  # The holder (the stack) is part of the name: another stack's run of the same step is not ours;
  # and CN_DIR (stateDir): the unit's name is the machine's, and a step's text does not hold it.
  id=$({ cat "$script"; echo "${CN_HOLDER:-}"; echo "$CN_DIR"; } | sha256sum | cut -c1-16)
  dir=$CN_DIR/runs/$name-$id unit=containerd-node-$name-$id
  mkdir -p "$CN_DIR/runs/done"
  if [ -f "$dir/interrupted" ]; then
    # Cut short by a reboot and rolled back at boot: said, filed, and run again now.
    echo "[$name] $(tail -n 1 "$dir/err"); running it again" >&2
    mv -f "$dir" "$CN_DIR/runs/done/$(date +%s)-${dir##*/}"
  fi
  if [ -f "$dir/rc" ]; then
    echo "[$name] found this step's run on the node, finished while no one followed it: its result" >&2
  elif [ -d "$dir" ] && systemctl is-active -q "$unit" 2>/dev/null; then
    echo "[$name] found this step still running on the node (its SSH session was lost): following it" >&2
  else
    rm -rf "$dir"; mkdir -p "$dir"
    (umask 077 && { cn_run_head; cat "$script"; } >"$dir/script") || return 1
    : >"$dir/out"; : >"$dir/err"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/started"
    cn_start "$name" "$dir" "$unit" || return 1
  fi
  [ -z "$CN_RUN_INPUT" ] || rm -f "$CN_RUN_INPUT"
  cn_follow "$name" "$dir" "$unit" </dev/null
}

# cn_start NAME DIR UNIT: starts the run's unit. Its first act is to mark the run begun, so a unit
# that ended before that ran nothing and is started again (seen on a cgroup v1 node: systemd could
# not move the unit's process into its cgroup and it exited 219/CGROUP before the run began).
# DIR/tries counts the starts (a run without it was started by an older library: never started again).
cn_start() {
  local name=$1 dir=$2 unit=$3
  echo $(($(cat "$dir/tries" 2>/dev/null || echo 0) + 1)) >"$dir/tries"
  systemctl reset-failed "$unit" >/dev/null 2>&1 || true
  # The script holds the step's values (credentials too): removed as soon as it has run.
  # The unit's command line is two plain paths: systemd writes a transient unit's command to
  # /run/systemd/transient and reads it back at every daemon-reload, and a reload (anyone's
  # systemctl enable, say) between systemd-run and the start re-read "$1" and ";" mangled.
  # shellcheck disable=SC2016 # the runner's own text: $1 is its argument
  printf '%s\n' ': >"$1/begun"; bash "$1/script" >"$1/out" 2>"$1/err"; rc=$?; rm -f "$1/script"; echo "$rc" >"$1/rc.tmp"; mv -f "$1/rc.tmp" "$1/rc"' >"$dir/run"
  systemd-run --quiet --collect --unit="$unit" --description="containerd-node step $name" \
    --setenv=CN_DIR="$CN_DIR" --setenv=CN_RUN_DIR="$dir" --setenv=CN_HOLDER="${CN_HOLDER:-}" \
    /bin/bash "$dir/run" "$dir" ||
    { echo "containerd-node: step '$name': systemd-run could not start it" >&2; return 1; }
}

# cn_run_head: the lines cn_run puts before a step's script (components/scripts/lib.ts runHead, which
# a unit test holds equal, for scripts run without the runner).
cn_run_head() { printf 'set -euo pipefail\nsource %q\n' "$CN_LIB"; }

# cn_follow NAME DIR UNIT: streams the run's stderr, waits for its result, prints its stdout and
# returns its exit status. The first follower to report a result files the run under runs/done
# (so the same step sent again later runs again); a follower that loses the race reads it there.
cn_follow() {
  local name=$1 dir=$2 unit=$3 tailpid rc out gone=0 at
  tail -n +1 -F "$dir/err" >&2 2>/dev/null &
  tailpid=$!
  while [ -d "$dir" ] && [ ! -f "$dir/rc" ]; do
    # Gone only when systemd says so: a `systemctl` that could not ask it (a busy PID 1) is no answer.
    if systemctl is-active -q "$unit" 2>/dev/null; then gone=0
    else
      case $(systemctl show -p ActiveState --value "$unit" 2>/dev/null || echo unknown) in
        inactive|failed) gone=$((gone + 1));;
        *) gone=0;;
      esac
    fi
    # Gone for 5 s without a result and never begun: nothing ran, so it is started again (twice at most).
    if [ "$gone" -ge 10 ] && [ ! -f "$dir/begun" ] && [ -f "$dir/script" ] && [ "$(cat "$dir/tries" 2>/dev/null || echo 9)" -lt 3 ]; then
      # One follower starts it (another that follows the same run waits for that start).
      if mkdir "$dir/restart-$(cat "$dir/tries")" 2>/dev/null; then
        echo "[$name] its unit ended before the step began (nothing of it ran): starting it again" >&2
        journalctl -u "$unit" -n 10 --no-pager -o cat 2>/dev/null | sed 's/^/  systemd: /' >&2 || true
        cn_start "$name" "$dir" "$unit" || echo 1 >"$dir/rc"
      fi
      gone=0
    fi
    # Gone for 5 s without a result: stopped or killed from outside.
    if [ "$gone" -ge 10 ]; then
      if [ -f "$dir/begun" ] || [ ! -f "$dir/tries" ]; then
        echo "containerd-node: step '$name' ended without a result (its unit was stopped or killed); see $dir/err" >&2
      else
        echo "containerd-node: step '$name' did not begin: its unit ended before it, $(cat "$dir/tries") times (nothing of the step ran)" >&2
      fi
      # What systemd saw of the unit (how its process ended, who stopped it): the cause, here.
      journalctl -u "$unit" -n 10 --no-pager -o cat 2>/dev/null | sed 's/^/  systemd: /' >&2 || true
      echo 1 >"$dir/rc"
    fi
    sleep 0.5
  done
  sleep 0.3
  kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null
  at=$dir
  [ -f "$at/rc" ] || at=$(find "$CN_DIR/runs/done" -maxdepth 1 -name "*-${dir##*/}" | sort -n | tail -n 1)
  rc=$(cat "$at/rc" 2>/dev/null || echo 1)
  out=$(cat "$at/out" 2>/dev/null || true)
  rm -f "$at/script"
  if [ "$at" = "$dir" ] && mkdir "$dir/reported" 2>/dev/null; then
    mv -f "$dir" "$CN_DIR/runs/done/$(date +%s)-${dir##*/}"
    # shellcheck disable=SC2012 # names are ours: digits and dashes
    ls -1 "$CN_DIR/runs/done" | sort -n | head -n -"$RUNS_KEEP" | while read -r old; do rm -rf "${CN_DIR:?}/runs/done/$old"; done
  fi
  [ -z "$out" ] || printf '%s\n' "$out"
  return "$rc"
}

# cn_recover_unit: the boot-time recovery, a unit that runs before the runtimes and the kubelet
# start the newest node library's cn_recover_at_boot. Installed inside the step's transaction
# (txn_begin calls it), so a step that fails leaves no trace of it either; idempotent.
cn_recover_unit() {
  local u=/etc/systemd/system/containerd-node-recover.service link=/etc/systemd/system/multi-user.target.wants/containerd-node-recover.service script=$CN_DIR/recover.sh
  # The unit is the machine's, whatever the state directory: the runs of another one on the same
  # machine (each under its own lock, e.g. many fleet nodes standing on one machine) write it too,
  # so they take turns (a copy saved for the rollback while another run replaced the file failed).
  exec 8>>/run/containerd-node-recover.lock
  flock -w 60 8 || die "another run kept /run/containerd-node-recover.lock for 60 s"
  # shellcheck disable=SC2016 # written for later
  printf '%s\n' '#!/bin/bash' 'CN_DIR=$(cd "$(dirname "$0")" && pwd)' \
    'lib=$(ls -t "$CN_DIR"/lib/node-*.sh 2>/dev/null | head -n 1)' '[ -n "$lib" ] || exit 0' \
    'source "$lib"' 'cn_recover_at_boot' | put "$script" 0755
  printf '%s\n' "[Unit]" "Description=containerd-node: roll back a step a reboot cut short" "DefaultDependencies=no" \
    "After=local-fs.target" "Before=containerd.service docker.service docker.socket kubelet.service" \
    "[Service]" "Type=oneshot" "ExecStart=/bin/bash $script" "[Install]" "WantedBy=multi-user.target" | put "$u" 0644
  if [ "$(readlink "$link" 2>/dev/null)" != "$u" ]; then save "$link"; mkdir -p "${link%/*}"; ln -sfn "$u" "$link"; fi
  exec 8>&-
}

# cn_recover_at_boot: every run without a result was cut by the reboot: its transaction's files and
# its units' enablement go back, the units started or stopped as the boot would have, and its result says so.
cn_recover_at_boot() {
  local dir txn n state p u active enabled
  for dir in "$CN_DIR"/runs/*-*; do
    if [ ! -d "$dir" ] || [ -f "$dir/rc" ]; then continue; fi
    txn=$(cat "$dir/txn" 2>/dev/null || true)
    if [ -n "$txn" ] && [ -d "$txn" ]; then
      tac "$txn/files" | while read -r n state p; do
        rm -rf "$p"
        if [ "$state" = present ]; then cp -a "$txn/$n" "$p"; fi
      done
      while read -r u active enabled; do
        # And started or stopped as a boot of the node as it was would: the boot planned its starts
        # before this put the enablement back, so a unit the step had disabled would not start
        # (Docker, on a node cut after its switch disabled it), and one it had enabled would.
        # Queued, not waited for: the unit is ordered after this one.
        case "$enabled" in
          enabled) systemctl enable "$u" >/dev/null 2>&1 || true; systemctl start --no-block "$u" >/dev/null 2>&1 || true;;
          disabled) systemctl disable "$u" >/dev/null 2>&1 || true; systemctl stop --no-block "$u" >/dev/null 2>&1 || true;;
        esac
      done <"$txn/units"
      rm -rf "$txn"
      echo "containerd-node: the node rebooted during this step ($(tail -n 1 "$dir/phases" 2>/dev/null || echo "phase unknown")); at boot every file and service it had changed was put back" >>"$dir/err"
    else
      echo "containerd-node: the node rebooted during this step ($(tail -n 1 "$dir/phases" 2>/dev/null || echo "phase unknown")), outside its transactions: nothing was half-done, and what it had finished stands" >>"$dir/err"
    fi
    rm -f "$dir/script"
    touch "$dir/interrupted"
    echo 1 >"$dir/rc"
  done
}

# === the run claim ===
# Which stack's run is converting the node (components/scripts/claim.ts says why and for how long).
# Called under the node lock (fd 9) by each step's prelude.
# The claim file: holder, step, what the step is doing, since when the holder's run has the node,
# and the epoch second the claim lapses at for other holders; tab-separated, one line.
cn_utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
cn_claim_read() {
  CLAIM_HOLDER="" CLAIM_STEP="" CLAIM_STATE="" CLAIM_SINCE="" CLAIM_UNTIL=0
  [ -f "$CN_DIR/claim" ] || return 0
  IFS=$'\t' read -r CLAIM_HOLDER CLAIM_STEP CLAIM_STATE CLAIM_SINCE CLAIM_UNTIL <"$CN_DIR/claim" || true
  case "$CLAIM_UNTIL" in ''|*[!0-9]*) CLAIM_UNTIL=0;; esac
}
cn_claim_write() { # cn_claim_write STATE SINCE
  printf '%s\t%s\t%s\t%s\t%s\n' "$CN_HOLDER_NAME" "$STEP" "$1" "$2" "$(( $(date +%s) + CN_CLAIM_SECONDS ))" >"$CN_DIR/claim.tmp"
  mv -f "$CN_DIR/claim.tmp" "$CN_DIR/claim"
}
# cn_claim: at a mutating step's start. Refuses the step while another holder's claim holds; takes
# over a lapsed one, saying whose it was; keeps the start of the holder's own run.
cn_claim() {
  local now since
  CN_HOLDER_NAME=${CN_HOLDER:-a run}
  now=$(date +%s)
  cn_claim_read
  since=$CLAIM_SINCE
  if [ -n "$CLAIM_HOLDER" ] && [ "$CLAIM_HOLDER" != "$CN_HOLDER_NAME" ]; then
    if [ "$now" -lt "$CLAIM_UNTIL" ]; then
      echo "containerd-node: step '$STEP' refused: this node is being converted by $CLAIM_HOLDER (its run has had the node since $CLAIM_SINCE; its step $CLAIM_STEP $CLAIM_STATE). Run again once that run is over: its last node step releases the node; if that run died, or its last step had nothing to run, the claim lapses at $(cn_utc "$CLAIM_UNTIL") (claim $CN_DIR/claim)" >&2
      exit 1
    fi
    say "the claim of $CLAIM_HOLDER (since $CLAIM_SINCE, step $CLAIM_STEP $CLAIM_STATE) lapsed at $(cn_utc "$CLAIM_UNTIL"): this run takes the node over"
    since=""
  fi
  [ -n "$since" ] || since=$(cn_utc "$now")
  cn_claim_write running "$since"
  CN_CLAIM_SINCE=$since
}
# cn_claim_end RC: at the step's end. Done: the claim holds on for the run's next step, unless
# this is the node's last step. Failed: the run stops here for this node (its step was rolled
# back), so the claim goes.
cn_claim_end() {
  [ -n "${CN_CLAIM_SINCE:-}" ] || return 0
  if [ "$1" -eq 0 ] && [ "${CN_CLAIM_LAST:-0}" != 1 ]; then
    cn_claim_write "finished at $(cn_utc "$(date +%s)")" "$CN_CLAIM_SINCE"
  else
    cn_claim_read
    if [ "$CLAIM_HOLDER" = "$CN_HOLDER_NAME" ]; then rm -f "$CN_DIR/claim"; say "released the node (claimed since $CLAIM_SINCE)"; fi
  fi
  CN_CLAIM_SINCE=""
}

# === runtime detection and version rules ===
# detect_runtime: the runtime the node uses now, as docker://X, containerd://X or none.
detect_runtime() { cn_runtime_of "$(cn_runtime_kind)"; }
# cn_runtime_kind: containerd, docker or none, the runtime the node uses now (detect_runtime's,
# without its version). In bash alone but for systemctl: the facts read runs it at every preview.
cn_runtime_kind() {
  local ep="" f line v
  # the kubelet's --container-runtime-endpoint: its last value in the first flags file with one
  for f in /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/sysconfig/kubelet; do
    [ -f "$f" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      while [[ $line == *--container-runtime-endpoint[=\ ]* ]]; do
        line=${line#*--container-runtime-endpoint[= ]}
        v=${line%%[ \"]*}
        line=${line:${#v}}
        ep=$v
      done
    done <"$f"
    [ -z "$ep" ] || break
  done
  # else the KubeletConfiguration's containerRuntimeEndpoint (the word after it, unquoted)
  if [ -z "$ep" ] && [ -f /var/lib/kubelet/config.yaml ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case $line in containerRuntimeEndpoint:*) ;; *) continue ;; esac
      v=${line#*[[:blank:]]}
      [ "$v" != "$line" ] || continue
      v=${v#"${v%%[![:blank:]]*}"}
      v=${v%%[[:blank:]]*}
      ep+=${v//\"/}
    done </var/lib/kubelet/config.yaml
  fi
  case $ep in *dockershim* | *cri-dockerd*) ep="" ;; esac
  if [ -n "$ep" ]; then echo containerd
  elif systemctl is-active -q docker 2>/dev/null; then echo docker
  elif systemctl is-active -q containerd 2>/dev/null; then echo containerd
  else echo none
  fi
}
# cn_runtime_of KIND [VERSION_TEXT]: KIND (cn_runtime_kind's) with its version, as detect_runtime
# prints it; VERSION_TEXT: what `containerd --version` printed, when the caller ran it already
cn_runtime_of() {
  case $1 in
    containerd) echo "containerd://$(cn_containerd_version "${@:2}")" ;;
    docker) echo "docker://$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)" ;;
    *) echo none ;;
  esac
}
# cn_containerd_version [TEXT]: the version in TEXT, else in what the containerd on PATH prints for
# `containerd --version`, without its v ("" when there is none): the first line's third word
cn_containerd_version() {
  local v
  if [ $# -gt 0 ]; then v=$1; else v=$(containerd --version 2>/dev/null) || true; fi
  v=${v%%$'\n'*}
  v=${v#"${v%%[![:blank:]]*}"}; v=${v#"${v%%[[:blank:]]*}"}
  v=${v#"${v%%[![:blank:]]*}"}; v=${v#"${v%%[[:blank:]]*}"}
  v=${v#"${v%%[![:blank:]]*}"}; v=${v%%[[:blank:]]*}
  printf '%s' "${v#v}"
}
# original_runtime: the runtime the node used before containerd-node first changed it, as cn_backup
# recorded it with the original state; for a state saved by a library that did not record it,
# told from the saved service states. Nothing before the first save.
original_runtime() {
  local B=$CN_DIR/original
  if [ -s "$B/runtime" ]; then cat "$B/runtime"
  elif [ -f "$B/complete" ]; then
    if grep -q '^docker active' "$B/services" 2>/dev/null; then
      echo "docker://$(dockerd --version 2>/dev/null | sed -n 's/^Docker version \([^,]*\),.*/\1/p')"
    elif grep -q '^containerd active' "$B/services" 2>/dev/null && [ -x "$B/files/usr/local/bin/containerd" ]; then
      echo "containerd://$("$B/files/usr/local/bin/containerd" --version 2>/dev/null | awk '{print $3}' | sed 's/^v//')"
    fi
  fi
}

# cn_arch: the machine as release file names name it (amd64, arm64, …): the pre-flight's
# architecture (host_facts), and what a tarball whose binary does not run here should have been.
cn_arch() { case $HOSTTYPE in x86_64) echo amd64;; aarch64) echo arm64;; *) echo "$HOSTTYPE";; esac; }

# cn_bin_memo NAME BIN CMD...: what CMD prints, CMD being a read of BIN's version (a Go binary's
# start, the dearest part of a read on a converted node), once per build of BIN: kept in
# $CN_DIR/cache/memo-NAME under BIN's path and identity (device, inode, size, modification and
# change time: a binary replaced, or rewritten in place, is another) and printed from there while
# BIN is that file. CMD's output is kept only when it exits 0 having printed something, and only
# when CN_MEMO_WRITE is 1 (the read at up, after nf_prepare: a preview writes nothing); a memo that
# can't be read or written is no memo (without CN_DIR too). Returns CMD's status, 0 from the memo.
cn_bin_memo() {
  local name=$1 bin=$2 id="" f out rc=0 lines
  shift 2
  if [ -z "${CN_DIR:-}" ]; then "$@"; return; fi
  f=$CN_DIR/cache/memo-$name
  if id=$(stat -Lc '%d %i %s %.9Y %.9Z' -- "$bin" 2>/dev/null) && [ -n "$id" ]; then
    id="$bin $id"
    if [ -f "$f" ] && mapfile -t lines <"$f" 2>/dev/null && [ "${lines[0]:-}" = "$id" ]; then
      [ "${#lines[@]}" -lt 2 ] || printf '%s\n' "${lines[@]:1}"
      return 0
    fi
  else id=""; fi
  out=$("$@") || rc=$?
  [ -z "$out" ] || printf '%s\n' "$out"
  if [ "$rc" -eq 0 ] && [ -n "$out" ] && [ -n "$id" ] && [ "${CN_MEMO_WRITE:-}" = 1 ] && [ -d "$CN_DIR/cache" ]; then
    { printf '%s\n' "$id" "$out" >"$f.$$" && mv -f "$f.$$" "$f"; } 2>/dev/null || rm -f "$f.$$"
  fi
  return "$rc"
}
# host_facts KUBELET PATH...: what the pre-flight checks about the machine (components/facts.ts
# HostFacts), one `containerd-node-host KEY VALUE` line each: the architecture (cn_arch), systemd,
# the MiB free on the filesystem of each PATH (or of its nearest existing parent), the package
# manager, runc, the kubelet's version (KUBELET 1: asked for), and the runtime before the first run
# (original_runtime). Read at every preview: bash builtins where they do, one df for every path.
host_facts() {
  local kubelet=$1 p pm=- kv=- before free dirs=(); shift
  echo "containerd-node-host arch $(cn_arch)"
  if command -v systemctl >/dev/null; then echo "containerd-node-host systemd 1"; else echo "containerd-node-host systemd 0"; fi
  for p in "$@"; do while [ ! -e "$p" ]; do p=${p%/*}; p=${p:-/}; done; dirs+=("$p"); done
  mapfile -t free < <(df -Pm "${dirs[@]}" | { read -r _; while read -r _ _ _ avail _; do echo "$avail"; done; })
  for p in "${!dirs[@]}"; do echo "containerd-node-host free ${free[$p]:-0} ${*:$((p + 1)):1}"; done
  for p in apt-get dnf yum; do if command -v "$p" >/dev/null; then pm=$p; break; fi; done
  echo "containerd-node-host package-manager $pm"
  if command -v runc >/dev/null; then echo "containerd-node-host runc 1"; else echo "containerd-node-host runc 0"; fi
  if [ "$kubelet" = 1 ] && p=$(command -v kubelet); then
    # "Kubernetes v1.30.4": the second word
    kv=$(cn_bin_memo kubelet "$p" "$p" --version 2>/dev/null) || kv=""
    case $kv in *[[:blank:]]*) kv=${kv#*[[:blank:]]}; kv=${kv%%[[:space:]]*} ;; *) kv="" ;; esac
  fi
  echo "containerd-node-host kubelet ${kv:--}"
  before=$(original_runtime)
  echo "containerd-node-host before ${before:--}"
}

# version_matches REPORTED DECLARED: "1.6" matches "1.6.20~ds1"; "v2.1.4" matches "2.1.4".
version_matches() { local got=${1#v} want=${2#v}; [ "$got" = "$want" ] && return 0; case "$got" in "$want".*|"$want"~*|"$want"-*|"$want"+*) return 0;; esac; return 1; }
# upgrade_drains RUNNING TARGET POLICY: exit 0 when the move drains the node.
upgrade_drains() {
  local from=${1#v} to=${2#v}
  case "$3" in
    always) return 0;;
    never) return 1;;
    major) [ "${from%%.*}" != "${to%%.*}" ];;
    *) echo "containerd-node: unknown upgrade.drain policy $3" >&2; return 2;;
  esac
}

# === containerd's health ===
# check_containerd waits for containerd on SOCKET, checks it runs the declared version and that
# its CRI plugin loaded.
cri_ok() { "$1" --address "$2" plugins ls | awk '$2=="cri" && $NF=="ok"{f=1} END{exit !f}'; }
# server_version CTR SOCKET: the version the running containerd reports (not the binary on disk).
server_version() { "$1" --address "$2" version | awk '/Server:/{s=1} s&&/Version:/&&v==""{v=$2} END{print v}'; }
# check_containerd CTR SOCKET VERSION: prints the running version.
check_containerd() {
  local ctr=$1 sock=$2 want=$3 sv
  wait_for 60 "$ctr" --address "$sock" version || die "containerd does not answer on $sock: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
  sv=$(server_version "$ctr" "$sock")
  version_matches "$sv" "$want" || die "containerd $sv is running, containerd.version declares $want"
  wait_for 30 cri_ok "$ctr" "$sock" || die "the CRI plugin is not loaded: $("$ctr" --address "$sock" plugins ls 2>&1 | awk '$2 ~ /cri/') $(journalctl -u containerd -n 10 --no-pager 2>&1 | grep -i 'failed to load' | tail -n 3)"
  echo "${sv#v}"
}

# === the Node API, with the kubelet's credentials ===
# The node authorizer and NodeRestriction let a kubelet read and patch its own Node: kubectl when
# the node has it, else curl with the kubeconfig's certificates. node_status prints `<runtime
# version> <Ready status>`; mark_rollback_and_uncordon lifts a cordon only if containerd-node made
# it (its annotation says so).
node_api() { # node_api KUBECONFIG NODE [MERGE_PATCH]: prints the Node as compact JSON
  # The API server pretty-prints for curl and kubectl -o json: squeeze it so that grep can match.
  node_api_raw "$@" | tr -d '\n' | sed -E 's/[[:space:]]*([][{}:,])[[:space:]]*/\1/g'
  return "${PIPESTATUS[0]}"
}
node_api_raw() {
  local kc=$1 node=$2 patch=${3:-}
  if command -v kubectl >/dev/null; then
    if [ -n "$patch" ]; then kubectl --kubeconfig "$kc" patch node "$node" --type merge -p "$patch" -o json
    else kubectl --kubeconfig "$kc" get --raw "/api/v1/nodes/$node"; fi
    # kubectl's status, said explicitly: a bare return in a trap handler (a rollback runs in the
    # EXIT trap) returns the status the trap began with, i.e. the failure being rolled back.
    return $?
  fi
  local server ca cert key tmp rc=0
  tmp=$(mktemp -d)
  kv() { awk -v k="$1" '$1==k":"{print $2; exit}' "$kc" | tr -d '"'; }
  server=$(kv server)
  if [ -n "$(kv certificate-authority-data)" ]; then kv certificate-authority-data | base64 -d >"$tmp/ca"; ca=$tmp/ca; else ca=$(kv certificate-authority); fi
  if [ -n "$(kv client-certificate-data)" ]; then kv client-certificate-data | base64 -d >"$tmp/cert"; cert=$tmp/cert; else cert=$(kv client-certificate); fi
  if [ -n "$(kv client-key-data)" ]; then kv client-key-data | base64 -d >"$tmp/key"; key=$tmp/key; else key=$(kv client-key); fi
  if [ -n "$patch" ]; then
    curl -fsS --max-time 10 --cacert "$ca" --cert "$cert" --key "$key" -X PATCH -H 'Content-Type: application/merge-patch+json' \
      --data "$patch" "$server/api/v1/nodes/$node" || rc=$?
  else
    curl -fsS --max-time 10 --cacert "$ca" --cert "$cert" --key "$key" "$server/api/v1/nodes/$node" || rc=$?
  fi
  rm -rf "$tmp"
  return $rc
}
node_status() { # node_status KUBECONFIG NODE
  local json
  json=$(node_api "$1" "$2") || return 1
  printf '%s %s\n' "$(echo "$json" | grep -o '"containerRuntimeVersion":"[^"]*"' | cut -d'"' -f4)" \
    "$(echo "$json" | grep -o '"type":"Ready","status":"[A-Za-z]*"' | cut -d'"' -f8)"
}
mark_rollback_and_uncordon() { # mark_rollback_and_uncordon KUBECONFIG NODE: marks the rollback (the next run drains again), lifts our cordon
  local json
  node_api "$1" "$2" "{\"metadata\":{\"annotations\":{\"containerd-node.pulumi.com/rolled-back\":\"$(date +%s)\",\"containerd-node.pulumi.com/phase\":\"rolled-back\"}}}" >/dev/null ||
    echo "  could not mark node $2 as rolled back: the next run may not drain it again" >&2
  json=$(node_api "$1" "$2") || { echo "  could not read node $2 to lift containerd-node's cordon" >&2; return 0; }
  grep -q '"containerd-node.pulumi.com/cordoned":"true"' <<<"$json" || { echo "  node $2 was not cordoned by containerd-node: left as it is" >&2; return 0; }
  if node_api "$1" "$2" '{"spec":{"unschedulable":null},"metadata":{"annotations":{"containerd-node.pulumi.com/cordoned":null}}}' >/dev/null; then
    echo "  node $2 uncordoned (containerd-node had cordoned it)" >&2
  else
    echo "  node $2 stays cordoned: the kubelet's credentials could not lift the cordon; run kubectl uncordon $2" >&2
  fi
}

# === programs kept as text ===
# FLAGS_AWK rewrites the `VAR="--flags ..."` line of a kubelet environment file: flags in `remove`
# are dropped, flags in `set`/`ifset` get their value, `set` flags missing from the primary file
# are appended, and every other flag stays exactly as it was. POSIX awk (mawk on Debian). Both
# `--flag=value` and `--flag value` forms are understood for named flags.
# shellcheck disable=SC2016 # programs for awk and bash, kept as text
FLAGS_AWK='
BEGIN {
  nset = split(set, sa, " ")
  for (i = 1; i <= nset; i++) { k = index(sa[i], "="); setname[i] = substr(sa[i], 1, k - 1); setv[setname[i]] = substr(sa[i], k + 1) }
  n = split(ifset, ia, " ")
  for (i = 1; i <= n; i++) { k = index(ia[i], "="); ifv[substr(ia[i], 1, k - 1)] = substr(ia[i], k + 1) }
  n = split(remove, ra, " ")
  for (i = 1; i <= n; i++) rm[ra[i]] = 1
  found = 0
}
function known(name) { return (name in setv) || (name in ifv) || (name in rm) }
function edit(val,   toks, n, i, t, name, out) {
  split("", done)
  n = split(val, toks, /[ \t]+/)
  out = ""
  for (i = 1; i <= n; i++) {
    t = toks[i]
    if (t == "") continue
    name = t
    if (index(t, "=") > 0) name = substr(t, 1, index(t, "=") - 1)
    else if (known(name) && i < n && substr(toks[i + 1], 1, 1) != "-") i++
    if (name in rm) continue
    if (name in setv) { if (name in done) continue; t = name "=" setv[name]; done[name] = 1 }
    else if (name in ifv) t = name "=" ifv[name]
    out = out (out == "" ? "" : " ") t
  }
  if (primary == 1)
    for (i = 1; i <= nset; i++)
      if (!(setname[i] in done)) { out = out (out == "" ? "" : " ") setname[i] "=" setv[setname[i]]; done[setname[i]] = 1 }
  return out
}
{
  if (match($0, "^[ \t]*(export[ \t]+)?" var "=")) {
    prefix = substr($0, 1, RLENGTH); val = substr($0, RLENGTH + 1); q = ""
    if (val ~ /^".*"[ \t]*$/) { q = "\""; sub(/^"/, "", val); sub(/"[ \t]*$/, "", val) }
    else if (val ~ /^'\''.*'\''[ \t]*$/) { q = "'\''"; sub(/^'\''/, "", val); sub(/'\''[ \t]*$/, "", val) }
    out = edit(val)
    if (q == "" && out ~ / /) q = "\""
    print prefix q out q
    found = 1
    next
  }
  print
}
END { if (!found && primary == 1) print var "=\"" edit("") "\"" }
'
# YAML_KEY_AWK sets a top-level `key: value` of a YAML file (added at the end when `add`).
# shellcheck disable=SC2016
YAML_KEY_AWK='
$0 ~ "^" key ":" { print key ": " val; f = 1; next }
{ print }
END { if (!f && add == 1) print key ": " val }
'
# REVERT_SH: the documented way back to the node as it was before containerd-node's first run
# (configure saves it with the original files; run by hand, `pulumi destroy` does not).
# shellcheck disable=SC2016
REVERT_SH='#!/bin/bash
# Puts back every file containerd-node overwrote and the services as they were before its first run.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
systemctl stop kubelet 2>/dev/null || true
while read -r state p; do
  rm -rf "$p"
  if [ "$state" = present ]; then mkdir -p "$(dirname "$p")"; cp -a "$B/files$p" "$p"; fi
done <"$B/manifest"
systemctl daemon-reload
while read -r u active enabled; do
  case "$enabled" in enabled) systemctl enable "$u" || true;; disabled) systemctl disable "$u" || true;; esac
  if [ "$active" = active ]; then systemctl restart "$u"; else systemctl stop "$u" 2>/dev/null || true; fi
done <"$B/services"
echo "reverted to the state saved in $B"
'

# === files every node writes alike, kept as templates ===
# The configure part writes these from the step's values (cn_fill): the same on every node but for
# those values, they live here rather than in each step's text, which the state keeps twice. Each
# @NAME@ is the value of NAME; the TypeScript renderers (components/render/unit.ts, crictl.ts)
# fill the same text, read from this file.
# containerd.service: Delegate=yes lets containerd manage its shims' cgroups; KillMode=process
# keeps running containers alive across a containerd restart (a config change must not kill pods).
CN_UNIT_TEMPLATE='# Managed by containerd-node (Pulumi).
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=@BIN_DIR@/containerd --config /etc/containerd/config.toml
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
LimitNOFILE=@LIMIT_NOFILE@
TasksMax=@TASKS_MAX@
OOMScoreAdjust=@OOM_SCORE_ADJUST@

[Install]
WantedBy=multi-user.target
'
# /etc/crictl.yaml: crictl talks to containerd instead of probing the dockershim socket first.
CN_CRICTL_TEMPLATE='# Managed by containerd-node (Pulumi).
runtime-endpoint: unix://@SOCKET@
image-endpoint: unix://@SOCKET@
timeout: 10
'
# cn_fill TEMPLATE: prints the template with each @NAME@ replaced by the value of NAME, in one
# pass (a value is not read again for names); a name the step did not set fails it.
cn_fill() {
  local t=$1 out="" n
  while [[ $t =~ @([A-Z_]+)@ ]]; do
    n=${BASH_REMATCH[1]}
    [ -n "${!n+set}" ] || die "the template reads $n, which the step does not set"
    out+=${t%%@"$n"@*}${!n}
    t=${t#*@"$n"@}
  done
  printf '%s' "$out$t"
}

# === the steps ===
# Each step's command text (components/scripts/steps.ts) is: a head that sources this file, a call
# of cn_begin, a block of that step's values (quoted once), the files it writes (as `put`
# heredocs), and calls of the functions below. They read the values as these variables:
#   VERSION          containerd.version as declared, e.g. 2.2.9 or 1.7
#   SOURCE           containerd.source.kind: tarball, file, package or docker
#   CONTAINERD_FROM  CONTAINERD_URL  CONTAINERD_SHA256: the containerd artifact (tarball/file):
#                    FROM is url or path; URL is the URL, or the operator's path (for messages)
#   PACKAGE          the package name (source package)
#   RUNC_FROM RUNC_URL RUNC_SHA256, CNI_FROM CNI_URL CNI_SHA256: optional artifacts, alike
#   CNI_BIN_DIR      where CNI plugins go;  BIN_DIR: where containerd's binaries are
#   LIMIT_NOFILE TASKS_MAX OOM_SCORE_ADJUST: the containerd unit's (unit.*)
#   SOCKET           containerd's socket;   ROOT: containerd's root directory
#   KUBELET          1 when a kubelet is declared;  KUBELET_CONFIG: its config file
#   PURGE            1 to purge Docker's packages;  REMOVE_DATA: 1 to remove /var/lib/docker
#   DOCKER_MODE      docker.mode: keep, stop, disable or purge
#   KUBELET_EDIT     1 when the switch edits the kubelet's flags (cn_kubelet_edit's values follow)
#   NODE_NAME KUBECONFIG VERIFY_TIMEOUT: Kubernetes mode: the Node, the kubelet's kubeconfig, and
#                    how long the switch waits for the Node to be Ready on containerd
#   SOFT_PLANNED     within a fleet's failure budget: the Node's retry mark the run was planned with
#   REGISTRIES       the certs.d hosts this package writes, space-separated
#   TLS_FILES        registry TLS files the node must have: lines "FIELD<TAB>PATH"
#   REGISTRY_AUTH    1 when config.registryAuth is set (the credentials file is kept)
#   PROXY            1 when proxy is set (its drop-in is kept; otherwise this package's is removed)
#   PROXY_TEXT       the proxy step's drop-in content (the step's text is a secret when a value is)
#   CONFIG_HEAD      the first line of a config.toml this package rendered
#   BUILDKIT_VERSION BUILDKIT_FROM BUILDKIT_URL BUILDKIT_SHA256: tools.buildkit (an artifact, as RUNC_*)
#   BUILDKIT_ADDR    buildkitd's address;  BUILDKIT_NAMESPACE: its worker's containerd namespace
#   BUILDKIT_CONFIG BUILDKIT_UNIT: its buildkitd.toml and unit
#   CRICTL_VERSION CRICTL_FROM CRICTL_URL CRICTL_SHA256: tools.crictl

# cn_begin STEP CLAIM_SECONDS CLAIM_LAST: every mutating step's start: its variables, the per-node
# lock and the run claim (components/scripts/claim.ts). The lock is taken within seconds or
# refused, naming its holder (CN_HOLDER: the stack, set by the runner's caller), the step and
# since when: a second stack converting the same node is refused, not queued. The claim then
# refuses another stack's run between this run's steps; it lapses for other stacks CLAIM_SECONDS
# after the step, and CLAIM_LAST (1: the run's last node step) ends it when the step succeeds.
cn_begin() {
  # A known environment, whatever the login's or sudo's: the PATH is the package's NODE_PATH (a
  # unit test holds them equal); containerd 1.7's ctr prints every deprecation on every call.
  umask 022
  export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS=1
  STEP=$1 PHASE=start CHANGED="" TXN=""
  # A command the rollback runs last, once files and services are back (e.g. lift a cordon).
  ON_ROLLBACK=""
  mkdir -p "$CN_DIR/txn" "$CN_DIR/cache"
  exec 9>>"$CN_DIR/lock"
  # A short wait, not none: another stack's step that is only being refused by the claim holds the
  # lock for a moment, and must not make this run's own next step fail.
  if ! flock -w 10 9; then
    echo "containerd-node: step '$STEP' refused: this node is busy with $(cat "$CN_DIR/lock.holder" 2>/dev/null || echo "another containerd-node step") (lock $CN_DIR/lock, waited 10 s); run again once it has finished" >&2
    exit 1
  fi
  echo "${CN_HOLDER:-a run}, step $STEP, since $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$CN_DIR/lock.holder"
  # The step's end (txn_end, once a transaction has begun) keeps or ends the claim.
  CN_CLAIM_SECONDS=$2 CN_CLAIM_LAST=$3
  cn_claim
  trap 'cn_claim_end $?' EXIT
}

# cn_part NAME: the start of one part of a step that runs several (host mode's converge runs
# configure, migrate-images, switch and docker-cleanup), each in a subshell of its own: the part's
# name in its log and errors, a transaction of its own (rolled back on its own, as a step is). The
# claim stays with the step: the step's own end keeps or ends it. SECONDS counts the part's own.
cn_part() { STEP=$1 PHASE=start CHANGED="" TXN="" ON_ROLLBACK="" CN_CLAIM_SINCE="" SECONDS=0; trap - EXIT; }
# cn_runtime: the last line of a step of several parts: the runtime it leaves, as configure prints it.
cn_runtime() { echo "containerd://$(check_containerd "$BIN_DIR/ctr" "$SOCKET" "$VERSION")"; }

# cn_backup: once per node, before the first change: copies every file the component may
# overwrite (and the kubelet's config file, KUBELET_CONFIG), the service states and a revert.sh
# into $CN_DIR/original. Never overwritten later, so it always describes the node as it was
# before containerd-node first touched it.
cn_backup() {
  local B=$CN_DIR/original p u
  if [ -f "$B/complete" ]; then
    log "original state already saved in $B (kept as it is)"
    return 0
  fi
  phase "saving the original state to $B"
  rm -rf "$B"; mkdir -p "$B/files"
  for p in /etc/containerd/config.toml /etc/containerd/certs.d /etc/systemd/system/containerd.service \
    /etc/systemd/system/containerd.service.d/http-proxy.conf /etc/crictl.yaml /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/sysconfig/kubelet "$KUBELET_CONFIG" \
    /usr/local/bin/containerd /usr/local/bin/containerd-shim-runc-v2 /usr/local/bin/ctr /usr/local/sbin/runc; do
    if [ -e "$p" ] || [ -L "$p" ]; then mkdir -p "$B/files$(dirname "$p")"; cp -a "$p" "$B/files$p"; echo "present $p"; else echo "absent $p"; fi
  done >"$B/manifest"
  for u in containerd docker.socket docker kubelet; do echo "$u $(systemctl is-active $u 2>/dev/null || true) $(systemctl is-enabled $u 2>/dev/null || true)"; done >"$B/services"
  detect_runtime >"$B/runtime"
  printf '%s' "$REVERT_SH" >"$B/revert.sh"
  chmod 0755 "$B/revert.sh"
  touch "$B/complete"
  say "saved; to go back by hand: $B/revert.sh"
}

# cn_cached KIND SHA256: where an artifact is kept on the node (a CopyToRemote target, for files
# given by path); cn_staged KIND SHA256: where it is unpacked.
cn_cached() { echo "$CN_DIR/cache/$1-${2:0:16}"; }
cn_staged() { echo "$CN_DIR/stage/$1-${2:0:16}"; }

# cn_fetch KIND FROM URL SHA256: puts an artifact (FROM url: downloaded; path: copied here before
# the step) in the cache and checks its SHA-256.
cn_fetch() {
  local kind=$1 from=$2 url=$3 sha=$4 file
  file=$(cn_cached "$kind" "$sha")
  if [ "$from" = url ]; then
    [ -f "$file" ] && echo "$sha  $file" | sha256sum -c --status || staged "$file" curl -fsSL --retry 3 -o "$file" "$url" || die "could not download $url"
  else
    [ -f "$file" ] || die "$file is missing: the copy from $url did not arrive"
  fi
  echo "$sha  $file" | sha256sum -c --status || die "$kind: SHA-256 of $url is $(sha256sum "$file" | cut -c1-64), expected $sha"
}

# bin_version BINARY: the third word of `BINARY --version`'s first line (containerd, buildkitd and
# crictl print their version there); nothing when it does not run.
bin_version() { "$1" --version 2>/dev/null | awk '{print $3; exit}' || true; }

# cn_stage_tarball KIND FROM URL SHA256 BINARY VERSION DECLARED LAYOUT: a release tarball (containerd's,
# a tool's) fetched and checked (cn_fetch) and unpacked under $CN_DIR/stage, once: its tree is
# moved in place only once whole and checked (a refused one is removed), so a rerun finds it there
# and neither fetches nor unpacks it again. Checked: it has BINARY (a path in it; else it is not of
# the release layout LAYOUT), which runs on this node and reports VERSION, as the input DECLARED
# declares it. Prints the staged directory.
cn_stage_tarball() {
  local kind=$1 from=$2 url=$3 sha=$4 bin=$5 want=$6 declared=$7 layout=$8 dir V why=""
  dir=$(cn_staged "$kind" "$sha")
  V=$(bin_version "$dir/$bin")
  if [ -n "$V" ] && version_matches "$V" "$want"; then
    log "${bin##*/} $V already staged in $dir"
  else
    cn_fetch "$kind" "$from" "$url" "$sha"
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    staged "$dir.tmp" tar -xzf "$(cn_cached "$kind" "$sha")" -C "$dir.tmp" || die "could not unpack the $kind tarball"
    V=$(bin_version "$dir.tmp/$bin")
    if [ ! -x "$dir.tmp/$bin" ]; then why="the $kind tarball has no $bin: expected $layout"
    elif [ -z "$V" ]; then why="the $kind tarball's $bin does not run on this node ($HOSTTYPE): expected the linux-$(cn_arch) release"
    elif ! version_matches "$V" "$want"; then why="the $kind tarball holds ${bin##*/} $V, $declared declares $want"
    fi
    # A refused tree is not left behind (it may be large).
    [ -z "$why" ] || { rm -rf "$dir.tmp"; die "$why"; }
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
    log "staged ${bin##*/} $V in $dir"
  fi
  echo "$dir"
}

# cn_stage: downloads or receives every artifact, checks its SHA-256 and stages it under
# $CN_DIR/stage (nothing live yet).
cn_stage() {
  local dir V
  case "$SOURCE" in
    tarball|file)
      phase "fetching containerd $VERSION"
      cn_stage_tarball containerd "$CONTAINERD_FROM" "$CONTAINERD_URL" "$CONTAINERD_SHA256" bin/containerd "$VERSION" containerd.version \
        "the containerd-X.Y.Z-linux-ARCH.tar.gz release layout" >/dev/null;;
    package)
      phase "installing the $PACKAGE package"
      if command -v apt-get >/dev/null; then
        dpkg -s "$PACKAGE" >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold "$PACKAGE" >&2; } || die "apt-get install $PACKAGE failed"
      else
        "$(command -v dnf || command -v yum)" install -y "$PACKAGE" >&2 || die "installing $PACKAGE failed"
      fi
      V=$(/usr/bin/containerd --version | awk '{print $3}')
      version_matches "$V" "$VERSION" || die "the $PACKAGE package installed containerd $V, containerd.version declares $VERSION";;
    docker)
      phase "checking Docker's containerd"
      V=$(/usr/bin/containerd --version | awk '{print $3}') || die "no /usr/bin/containerd from Docker's packages"
      version_matches "$V" "$VERSION" || die "Docker's containerd is $V, containerd.version declares $VERSION";;
    *) die "unknown containerd source $SOURCE";;
  esac
  if [ -n "${RUNC_FROM:-}" ]; then
    phase "fetching runc"
    cn_fetch runc "$RUNC_FROM" "$RUNC_URL" "$RUNC_SHA256"
    dir=$(cn_staged runc "$RUNC_SHA256")
    if ! cmp -s "$(cn_cached runc "$RUNC_SHA256")" "$dir/runc"; then
      mkdir -p "$dir"
      staged "$dir" install -m 0755 "$(cn_cached runc "$RUNC_SHA256")" "$dir/runc" || die "could not stage runc"
    fi
    "$dir/runc" --version >/dev/null || die "the runc binary does not run on this node"
  fi
  if [ -n "${CNI_FROM:-}" ]; then
    phase "fetching CNI plugins"
    cn_fetch cni "$CNI_FROM" "$CNI_URL" "$CNI_SHA256"
    dir=$(cn_staged cni "$CNI_SHA256")
    rm -rf "$dir" && mkdir -p "$dir"
    staged "$dir" tar -xzf "$(cn_cached cni "$CNI_SHA256")" -C "$dir" || die "could not unpack the CNI plugins"
  fi
  log "staged; nothing is live yet"
}

# cn_defer: sets DEFER to the running containerd's version when a kubelet runs on it and it is not
# the declared one: the move waits for the switch step, after the drain step has drained the node
# if upgrade.drain says so. Then R is $CN_DIR/pending/root, and every file the steps before the
# switch would make live goes under it instead; the node is not changed until the switch.
cn_defer() {
  DEFER="" R=""
  [ "${KUBELET:-0}" = 1 ] || return 0
  if unit_exists kubelet && systemctl is-active -q kubelet && systemctl is-active -q containerd; then
    case "$(detect_runtime)" in containerd://*)
      FROM=$(server_version ctr "$SOCKET" 2>/dev/null || true)
      if [ -n "$FROM" ] && ! version_matches "$FROM" "$VERSION"; then DEFER=${FROM#v}; fi;;
    esac
  fi
  if [ -n "$DEFER" ]; then
    R=$CN_DIR/pending/root
    say "containerd $DEFER is in use by the kubelet: the move to $VERSION is staged for the switch step"
  fi
}

# cn_configure_begin: the configure step up to its files: saves the original state, stages the
# artifacts, checks the registry TLS files, decides a deferred move, begins
# the transaction and installs the staged binaries. The step's text writes its files next
# (config.toml, registry hosts).
cn_configure_begin() {
  cn_backup
  cn_stage
  cn_defer
  cn_check_tls
  txn_begin
  note_unit containerd
  cn_install_binaries
  phase "writing config.toml and registry hosts"
}

# cn_check_tls: every registry TLS file (TLS_FILES) is on the node: containerd reads them at each
# pull, so a missing one would fail pulls from that host later.
cn_check_tls() {
  local field path
  [ -n "${TLS_FILES:-}" ] || return 0
  phase "checking the registry TLS files"
  while IFS=$'\t' read -r field path; do
    [ -f "$path" ] || die "$field: $path is not a file on the node (containerd reads it to reach that registry)"
  done <<<"$TLS_FILES"
}

# cn_install_binaries: the staged binaries to where they run (under R when the move is deferred).
cn_install_binaries() {
  local b
  phase "installing binaries"
  if [ "$SOURCE" = tarball ] || [ "$SOURCE" = file ]; then
    for b in "$(cn_staged containerd "$CONTAINERD_SHA256")"/bin/*; do put_bin "$b" "$R/usr/local/bin/$(basename "$b")"; done
  fi
  if [ -n "${RUNC_FROM:-}" ]; then put_bin "$(cn_staged runc "$RUNC_SHA256")/runc" "$R/usr/local/sbin/runc"; fi
  if [ -n "${CNI_FROM:-}" ]; then
    for b in "$(cn_staged cni "$CNI_SHA256")"/*; do [ -f "$b" ] && put_bin "$b" "$R$CNI_BIN_DIR/$(basename "$b")"; done
  fi
  return 0
}

# cn_configure_end: the configure step after the files its text writes (config.toml, registry
# hosts): writes the containerd unit and /etc/crictl.yaml from their templates; forgets registries
# it no longer manages;
# stages the move for the switch step when deferred; else makes it live: restarts containerd only
# when its binaries, config or unit changed, and checks it (running, enabled, the declared version,
# CRI loaded). Prints `containerd://VERSION` last.
cn_configure_end() {
  local r SV unit crictl
  phase "writing the containerd unit"
  unit=$(cn_fill "$CN_UNIT_TEMPLATE")
  crictl=$(cn_fill "$CN_CRICTL_TEMPLATE")
  put "$R"/etc/systemd/system/containerd.service 0644 <<<"$unit"
  put "$R"/etc/crictl.yaml 0644 <<<"$crictl"
  mkdir -p "$ROOT"
  # proxy no longer set: this package's drop-in goes (a hand-made one stays); containerd restarts below.
  if [ "$PROXY" != 1 ] && [ -f "$PROXY_DROPIN" ] && [ "$(head -n 1 "$PROXY_DROPIN")" = "$PROXY_DROPIN_HEAD" ]; then remove "$PROXY_DROPIN"; fi
  if [ -f "$CN_DIR/registries" ]; then
    while IFS= read -r r; do case " $REGISTRIES " in *" $r "*) ;; *) remove "/etc/containerd/certs.d/$r";; esac; done <"$CN_DIR/registries"
  fi
  echo "$REGISTRIES" | tr ' ' '\n' | sed '/^$/d' | put "$CN_DIR/registries" 0644
  if [ -n "$DEFER" ]; then
    printf '%s %s\n' "$DEFER" "$VERSION" | put "$CN_DIR/pending/move" 0644
    say "staged; containerd $DEFER keeps running until the switch step"
    echo "{\"staged\":\"$DEFER -> $VERSION\"}"
    echo "containerd://$DEFER"
    exit 0
  fi
  remove "$CN_DIR/pending"
  [ "${REGISTRY_AUTH:-0}" = 1 ] || remove /etc/containerd/containerd-node/registry-auth.toml
  phase "starting containerd"
  if changed /etc/systemd/system/containerd.service "$PROXY_DROPIN"; then systemctl daemon-reload; fi
  systemctl enable containerd >/dev/null 2>&1 || systemctl enable containerd
  if changed /etc/containerd/config.toml /etc/systemd/system/containerd.service "$PROXY_DROPIN" "$BIN_DIR/containerd" /usr/local/sbin/runc || ! systemctl is-active -q containerd; then
    say "restarting containerd (containers keep running: KillMode=process)"
    systemctl restart containerd || die "containerd did not start: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
  else
    say "containerd config unchanged: no restart"
  fi
  phase "checking containerd"
  SV=$(check_containerd "$BIN_DIR/ctr" "$SOCKET" "$VERSION")
  systemctl is-enabled -q containerd || die "containerd is not enabled"
  say "containerd $SV is running with CRI"
  echo "containerd://$SV"
}

# cn_proxy: the proxy step: containerd's proxy environment, PROXY_TEXT, as its drop-in
# PROXY_DROPIN, 0600 (its values may be secrets, as registry credentials are). The node's original
# state is saved first (a drop-in there may be hand-made). A changed drop-in reloads systemd, and
# containerd restarts on it here when it runs a config of this package (CONFIG_HEAD) and no move
# is staged; otherwise the configure part restarts it (or, staged under R, the switch's move).
cn_proxy() {
  cn_backup
  cn_defer
  txn_begin
  note_unit containerd
  phase "writing containerd's proxy environment"
  # From a pipe, not a here-string's temporary file (the values may be secrets), and in this shell:
  # put records the change in CHANGED.
  put "$R$PROXY_DROPIN" 0600 < <(printf '%s' "$PROXY_TEXT")
  if [ -n "$DEFER" ]; then return 0; fi
  if ! changed "$PROXY_DROPIN"; then say "$PROXY_DROPIN unchanged: no restart"; return 0; fi
  systemctl daemon-reload
  if systemctl is-active -q containerd && [ "$(head -n 1 /etc/containerd/config.toml 2>/dev/null)" = "$CONFIG_HEAD" ]; then
    say "restarting containerd for its proxy environment (containers keep running: KillMode=process)"
    systemctl restart containerd || die "containerd did not start: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
    check_containerd "$BIN_DIR/ctr" "$SOCKET" "$VERSION" >/dev/null
  else
    say "containerd starts with it once the configure step has made its config live"
  fi
}

# cn_migrate_images: imports Docker's tagged images into containerd's k8s.io namespace while
# Docker still runs, and checks each is there.
cn_migrate_images() {
  local ctr=("$BIN_DIR/ctr" --address "$SOCKET" -n k8s.io) IMAGES img HAVE out
  phase "importing Docker's images into containerd (k8s.io)"
  if ! systemctl is-active -q docker; then say "docker is not running: nothing to import"; return 0; fi
  IMAGES=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | sort -u || true)
  [ -n "$IMAGES" ] || { say "docker has no tagged images"; return 0; }
  for img in $IMAGES; do
    # ctr's progress (three lines an image) only when it fails: the step's stderr is kept in the
    # state, and the list of what was imported follows.
    out=$(docker save "$img" | "${ctr[@]}" images import - 2>&1) || die "importing $img failed: $out"
  done
  HAVE=$("${ctr[@]}" images ls -q)
  for img in $IMAGES; do
    grep -qx -e "$img" -e "docker.io/$img" -e "docker.io/library/$img" <<<"$HAVE" || die "$img is not in containerd after the import"
  done
  say "imported: $(echo "$IMAGES" | tr '\n' ' ')"
}


# buildkit_ok BUILDCTL ADDR NAMESPACE: buildkitd answers on ADDR with a containerd worker in NAMESPACE.
buildkit_ok() {
  "$1" --addr "$2" debug workers --verbose 2>/dev/null |
    awk -v ns="$3" '$1 ~ /worker\.executor:$/ && $2 == "containerd" {e=1} $1 ~ /worker\.containerd\.namespace:$/ && $2 == ns {n=1} END {exit !(e && n)}'
}

# cn_tools: the tools part (tools): BuildKit (BUILDKIT_FROM set) and crictl (CRICTL_FROM set) from
# their release tarballs, staged and checked first (nothing live yet); then, as one transaction:
# buildkitd and buildctl in /usr/local/bin, BUILDKIT_CONFIG and BUILDKIT_UNIT written, buildkit
# restarted only when one of them changed (or it is not running) and checked (a containerd worker
# in BUILDKIT_NAMESPACE answers on BUILDKIT_ADDR); crictl in /usr/local/bin unless the node has a crictl of
# its own, which is left as it is ($CN_DIR/tools/crictl marks the one this package installed).
# Paths are written under CN_ROOT (unset on a node: "/"); BUILDKIT_WAIT: seconds buildkitd has to
# answer (default 30).
cn_tools() {
  local R=${CN_ROOT:-} bk="" cr="" have unit=/etc/systemd/system/buildkit.service conf=/etc/buildkit/buildkitd.toml V
  if [ -n "${BUILDKIT_FROM:-}" ]; then
    phase "fetching BuildKit $BUILDKIT_VERSION"
    bk=$(cn_stage_tarball buildkit "$BUILDKIT_FROM" "$BUILDKIT_URL" "$BUILDKIT_SHA256" bin/buildkitd "$BUILDKIT_VERSION" tools.buildkit.version "its release layout")
    [ -x "$bk/bin/buildctl" ] || die "the buildkit tarball has no bin/buildctl: expected its release layout"
  fi
  if [ -n "${CRICTL_FROM:-}" ]; then
    have=$(command -v crictl || true)
    if [ -n "$have" ] && { [ "$have" != /usr/local/bin/crictl ] || [ ! -f "$CN_DIR/tools/crictl" ]; }; then
      say "the node has crictl at $have ($(bin_version "$have")), not installed by containerd-node: left as it is"
    else
      phase "fetching crictl $CRICTL_VERSION"
      cr=$(cn_stage_tarball crictl "$CRICTL_FROM" "$CRICTL_URL" "$CRICTL_SHA256" crictl "$CRICTL_VERSION" tools.crictl.version "its release layout")
    fi
  fi
  txn_begin
  if [ -n "$cr" ]; then
    phase "installing crictl $CRICTL_VERSION"
    put_bin "$cr/crictl" "$R/usr/local/bin/crictl"
    put "$CN_DIR/tools/crictl" 0644 <<<"$CRICTL_VERSION"
    say "crictl $CRICTL_VERSION in /usr/local/bin"
  fi
  [ -n "$bk" ] || return 0
  note_unit buildkit
  phase "installing BuildKit $BUILDKIT_VERSION"
  put_bin "$bk/bin/buildkitd" "$R/usr/local/bin/buildkitd"
  put_bin "$bk/bin/buildctl" "$R/usr/local/bin/buildctl"
  # (put in this shell, not a pipeline's: CHANGED, which decides the restart, is this shell's)
  put "$R$conf" 0644 < <(printf '%s' "$BUILDKIT_CONFIG")
  put "$R$unit" 0644 < <(printf '%s' "$BUILDKIT_UNIT")
  phase "starting BuildKit"
  if changed "$R$unit"; then systemctl daemon-reload; fi
  # The link `enable` makes, saved first: a failed first install leaves no trace of it either.
  save "$R/etc/systemd/system/multi-user.target.wants/buildkit.service"
  systemctl enable buildkit >/dev/null 2>&1 || systemctl enable buildkit
  if changed "$R$unit" "$R$conf" "$R/usr/local/bin/buildkitd" || ! systemctl is-active -q buildkit; then
    say "restarting buildkit"
    systemctl restart buildkit || die "buildkitd did not start: $(journalctl -u buildkit -n 15 --no-pager 2>&1 | tail -n 15)"
  else
    say "BuildKit unchanged: no restart"
  fi
  phase "checking BuildKit"
  wait_for "${BUILDKIT_WAIT:-30}" buildkit_ok "$R/usr/local/bin/buildctl" "$BUILDKIT_ADDR" "$BUILDKIT_NAMESPACE" ||
    die "buildkitd does not answer on $BUILDKIT_ADDR with a containerd worker in $BUILDKIT_NAMESPACE: $("$R/usr/local/bin/buildctl" --addr "$BUILDKIT_ADDR" debug workers 2>&1 | tail -n 3) $(journalctl -u buildkit -n 10 --no-pager 2>&1 | tail -n 10)"
  V=$("$R/usr/local/bin/buildkitd" --version | awk 'NR==1{v=$3} END{print v}')
  say "BuildKit $V is running with containerd's worker in $BUILDKIT_NAMESPACE ($BUILDKIT_ADDR)"
}

# cn_docker_cleanup: after verification only, what can't be rolled back: Docker's packages
# (PURGE=1), its data (REMOVE_DATA=1).
cn_docker_cleanup() {
  local PKGS
  if [ "${PURGE:-0}" = 1 ]; then
    phase "removing Docker's packages"
    PKGS=$(dpkg-query -W -f '${Package} ${Status}\n' docker.io docker-ce docker-ce-cli docker-ce-rootless-extras docker-buildx-plugin docker-compose-plugin 2>/dev/null | awk '/ installed$/{print $1}' || true)
    # shellcheck disable=SC2086 # one word per package
    if [ -n "$PKGS" ]; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKGS >&2; else say "no Docker packages installed"; fi
    systemctl is-active -q containerd || { systemctl restart containerd; }
    systemctl is-active -q containerd || die "containerd stopped while Docker's packages were removed"
  fi
  if [ "${REMOVE_DATA:-0}" = 1 ]; then
    phase "removing /var/lib/docker (docker.removeData)"
    rm -rf /var/lib/docker
  fi
  log "done"
}

# The files the kubelet's flags may be in, lines "PATH:VARIABLE" in the order `auto` tries them
# (kubeadm's, then the distributions' defaults files), and the flags only dockershim understood,
# which a 1.24+ kubelet refuses to start with (KEP-2221,
# https://github.com/kubernetes/enhancements/issues/2221). Constants of every node: the step
# gives FLAG_FILES only to use other files, and REMOVE_DOCKERSHIM=1 to drop those flags. The
# TypeScript side (components/render/kubeletFlags.ts) reads both from here.
CN_KUBELET_FLAG_FILES='/var/lib/kubelet/kubeadm-flags.env:KUBELET_KUBEADM_ARGS
/etc/default/kubelet:KUBELET_EXTRA_ARGS
/etc/sysconfig/kubelet:KUBELET_EXTRA_ARGS'
CN_DOCKERSHIM_FLAGS='--network-plugin --network-plugin-mtu --cni-bin-dir --cni-conf-dir --cni-cache-dir --docker-endpoint --image-pull-progress-deadline --experimental-dockershim-root-directory --docker-disable-shared-pid --redirect-container-streaming'

# cn_kubelet_edit: points the kubelet at containerd, through `put` (so every file is saved first),
# from the values the switch step gives: SET_FLAGS, IFSET_FLAGS (flags set; those of IFSET only
# where present), REMOVE_FLAGS (with REMOVE_DOCKERSHIM=1, CN_DOCKERSHIM_FLAGS too), PRIMARY (the
# flags file new flags go to, or auto: the first that exists), FLAG_FILES (optional, default
# CN_KUBELET_FLAG_FILES: lines "PATH:VARIABLE", the files the kubelet's flags may be in),
# KUBELET_CONFIG with CONFIG_SET (lines "KEY<TAB>VALUE<TAB>ADD": ADD 1 sets it even when absent),
# CGROUP_SYSTEMD (1: nothing else sets the cgroup driver, so the flags get --cgroup-driver=systemd),
# LOG_ROTATION (optional; lines "KEY<TAB>VALUE<TAB>FLAG": the key set in KUBELET_CONFIG when it
# exists, else FLAG=VALUE in the primary flags file).
cn_kubelet_edit() {
  local fv f var primary src k v add flag has_cgroup_flag=0 names="" remove=$REMOVE_FLAGS
  FLAG_FILES=${FLAG_FILES:-$CN_KUBELET_FLAG_FILES}
  [ "${REMOVE_DOCKERSHIM:-0}" = 0 ] || remove="$remove $CN_DOCKERSHIM_FLAGS"
  if [ "$PRIMARY" = auto ]; then
    PRIMARY=none
    while IFS= read -r fv; do [ -f "${fv%%:*}" ] && { PRIMARY=${fv%%:*}; break; }; done <<<"$FLAG_FILES"
    while IFS= read -r fv; do names="${names:+$names, }${fv%%:*}"; done <<<"$FLAG_FILES"
    [ "$PRIMARY" != none ] || die "no kubelet flags file found ($names): set kubelet.flagsLocation"
  fi
  log "kubelet flags: primary file $PRIMARY"
  while IFS= read -r fv; do
    f=${fv%%:*}; var=${fv##*:}; primary=0
    [ "$f" = "$PRIMARY" ] && primary=1
    [ -f "$f" ] || [ "$primary" = 1 ] || continue
    src=$f; [ -f "$f" ] || src=/dev/null
    awk -v var="$var" -v primary="$primary" -v set="$SET_FLAGS" -v ifset="$IFSET_FLAGS" -v remove="$remove" "$FLAGS_AWK" "$src" >"$CN_DIR/flags.tmp"
    put "$f" 0644 <"$CN_DIR/flags.tmp"
  done <<<"$FLAG_FILES"
  rm -f "$CN_DIR/flags.tmp"
  while IFS= read -r fv; do f=${fv%%:*}; if [ -f "$f" ] && grep -q -- '--cgroup-driver' "$f"; then has_cgroup_flag=1; fi; done <<<"$FLAG_FILES"
  if [ -f "$KUBELET_CONFIG" ]; then
    # Its keys, container log rotation's too (added when absent).
    while IFS=$'\t' read -r k v add; do
      [ -n "$k" ] || continue
      awk -v key="$k" -v val="$v" -v add="$add" "$YAML_KEY_AWK" "$KUBELET_CONFIG" >"$CN_DIR/yaml.tmp" && put "$KUBELET_CONFIG" 0644 <"$CN_DIR/yaml.tmp"
    done < <(printf '%s\n' "$CONFIG_SET"; printf '%s\n' "${LOG_ROTATION-}" | awk -F'\t' 'NF { print $1 "\t" $2 "\t1" }')
    rm -f "$CN_DIR/yaml.tmp"
  else
    # No config file: what it would set goes to the primary flags file. The cgroup driver only
    # when nothing sets it (the kubelet's default, cgroupfs, would not match SystemdCgroup).
    [ -z "${LOG_ROTATION-}" ] || [ "$PRIMARY" != none ] ||
      die "the kubelet has no config file ($KUBELET_CONFIG) and no flags file: set kubelet.flagsLocation for its container log rotation"
    flag=""
    if [ "$CGROUP_SYSTEMD" = 1 ] && [ "$has_cgroup_flag" = 0 ]; then flag=--cgroup-driver=systemd; fi
    flag="$flag$(printf '%s\n' "${LOG_ROTATION-}" | awk -F'\t' 'NF { printf " %s=%s", $3, $2 }')"
    if [ -n "$flag" ] && [ "$PRIMARY" != none ]; then
      while IFS= read -r fv; do if [ "${fv%%:*}" = "$PRIMARY" ]; then var=${fv##*:}; fi; done <<<"$FLAG_FILES"
      awk -v var="$var" -v primary=1 -v set="${flag# }" -v ifset= -v remove= "$FLAGS_AWK" "$PRIMARY" >"$CN_DIR/flags.tmp"
      put "$PRIMARY" 0644 <"$CN_DIR/flags.tmp"; rm -f "$CN_DIR/flags.tmp"
    fi
  fi
  return 0
}

# cn_after_rollback: after a switch's rollback in Kubernetes mode: waits for the kubelet to be Ready
# again on the previous runtime, then lifts the cordon the drain step made (the run that cordoned
# it ends here).
cn_after_rollback() {
  [ "$HAS_KUBELET" = 1 ] || return 0
  local end=$(( $(date +%s) + VERIFY_TIMEOUT )) st
  while st=$(node_status "$KUBECONFIG" "$NODE_NAME" 2>/dev/null); [ "${st##* }" != True ]; do
    [ "$(date +%s)" -lt "$end" ] || { echo "  node $NODE_NAME is not Ready again after the rollback (${st:-no answer})" >&2; break; }
    sleep 3
  done
  [ "${st##* }" != True ] || echo "  node $NODE_NAME is Ready again on ${st%% *}" >&2
  mark_rollback_and_uncordon "$KUBECONFIG" "$NODE_NAME"
}

# cn_soft_rollback: as cn_after_rollback, and records the failure on the Node (within a budget).
cn_soft_rollback() {
  cn_after_rollback
  node_api "$KUBECONFIG" "$NODE_NAME" "{\"metadata\":{\"annotations\":{\"containerd-node.pulumi.com/last-failure\":\"switch $(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}}" >/dev/null ||
    echo "  could not record the failure on node $NODE_NAME" >&2
}

# cn_move_staged: the move the configure step staged ($CN_DIR/pending), made by the switch step
# after the drain: the staged binaries, config and unit go live and containerd restarts on them
# (its containers keep running: KillMode=process). A move to another major version restarts the
# kubelet too, which reads the runtime's config (cgroup driver, RuntimeConfig) only at start.
# Inside the switch's transaction: if containerd, its CRI or the kubelet does not come up, every
# file goes back and the previous containerd and kubelet are restarted. Sets MOVED and RESTART.
cn_move_staged() {
  local MFROM MTO f dest mode SV p=$CN_DIR/pending
  MOVED=""
  [ -f "$p/move" ] || return 0
  read -r MFROM MTO <"$p/move"
  if ! version_matches "$MTO" "$VERSION"; then
    say "a staged move to containerd $MTO is not the declared $VERSION: left alone"
    return 0
  fi
  phase "moving containerd $MFROM to $MTO"
  while IFS= read -r -d '' f; do
    dest=${f#"$p"/root}
    case "$dest" in */bin/*|*/sbin/*) put_bin "$f" "$dest";; *) mode=$(stat -c %a "$f"); put "$dest" "$mode" <"$f";; esac
  done < <(find "$p/root" -type f -print0)
  systemctl daemon-reload
  systemctl restart containerd || die "containerd $MTO did not start: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
  SV=$(check_containerd "$BIN_DIR/ctr" "$SOCKET" "$VERSION")
  MOVED="$MFROM -> $SV"
  say "containerd $SV is running with CRI"
  if [ "${MFROM%%.*}" != "${SV%%.*}" ] && [ "$HAS_KUBELET" = 1 ]; then
    say "containerd moved from major version ${MFROM%%.*} to ${SV%%.*}: the kubelet restarts to read the runtime's config again"
    RESTART=1
  fi
  return 0
}

# cn_switch: moves the node onto containerd: stops the kubelet, puts Docker in its declared state
# (DOCKER_MODE), edits the kubelet's flags/config, starts the kubelet and checks it (in Kubernetes
# mode: the Node is Ready and reports containerd, read with the kubelet's own credentials). Any
# failure rolls the node back to its previous runtime, flags and services. Prints one JSON line:
# the seconds it took, and the move it made.
cn_switch() {
  local J RB FA MARK deadline ST RT READY R0 u
  if [ -n "${NODE_NAME:-}" ]; then
    ON_ROLLBACK=cn_after_rollback
    if [ -n "${SOFT_PLANNED+set}" ]; then
      # Within a fleet's failure budget: skipped when an earlier step of this run failed, i.e. the
      # Node's retry mark changed since the run was planned; a failure is put back as always,
      # recorded on the Node and absorbed.
      J=$(node_api "$KUBECONFIG" "$NODE_NAME") || die "cannot read node $NODE_NAME with the kubelet's credentials"
      RB=$(echo "$J" | grep -o '"containerd-node.pulumi.com/rolled-back":"[^"]*"' | cut -d'"' -f4 || true)
      FA=$(echo "$J" | grep -o '"containerd-node.pulumi.com/last-failure":"[^"]*"' | cut -d'"' -f4 || true)
      MARK=$RB; [ -z "$FA" ] || MARK="$RB failed:$FA"
      if [ "$MARK" != "$SOFT_PLANNED" ]; then say "node $NODE_NAME failed earlier in this run (${FA:-rolled back}): skipped"; echo '{"skipped":true}'; exit 0; fi
      ON_ROLLBACK=cn_soft_rollback
      ABSORB_FAILURE=1
    fi
  fi
  # Before the transaction: its rollback (ON_ROLLBACK) reads it, even when the transaction fails to begin.
  HAS_KUBELET=0; if unit_exists kubelet; then HAS_KUBELET=1; fi
  txn_begin
  for u in containerd docker.socket docker; do if unit_exists $u; then note_unit $u; fi; done
  if [ "$HAS_KUBELET" = 1 ]; then note_unit kubelet; fi
  phase "checking containerd"
  systemctl is-active -q containerd || die "containerd is not running"
  if [ "${KUBELET_EDIT:-0}" = 1 ] && { [ "$HAS_KUBELET" = 1 ] || [ -f /var/lib/kubelet/kubeadm-flags.env ]; }; then
    phase "pointing the kubelet at containerd"
    cn_kubelet_edit
  fi
  RESTART=0
  [ -z "$CHANGED" ] || RESTART=1
  if [ "$DOCKER_MODE" != keep ] && systemctl is-active -q docker; then RESTART=1; fi
  if [ "$HAS_KUBELET" = 1 ] && ! systemctl is-active -q kubelet; then RESTART=1; fi
  cn_move_staged
  if [ "$RESTART" = 0 ]; then
    [ -n "$MOVED" ] || say "the kubelet's flags and Docker's state are already as declared: nothing restarted"
  else
    if [ "$HAS_KUBELET" = 1 ]; then phase "stopping the kubelet"; systemctl stop kubelet; fi
    phase "docker: $DOCKER_MODE"
    case "$DOCKER_MODE" in
      keep) say "docker.mode keep: Docker stays as it is";;
      stop) systemctl stop docker.socket docker 2>/dev/null || true;;
      *) systemctl disable --now docker.socket docker >/dev/null 2>&1 || true;;
    esac
    [ "$DOCKER_MODE" = keep ] || ! systemctl is-active -q docker || die "docker is still running"
    if [ "$HAS_KUBELET" = 1 ]; then
      phase "starting the kubelet on containerd"
      systemctl daemon-reload
      systemctl start kubelet
      sleep 5
      R0=$(systemctl show -p NRestarts --value kubelet)
      sleep 5
      if ! systemctl is-active -q kubelet || [ "$(systemctl show -p NRestarts --value kubelet)" != "$R0" ]; then
        die "the kubelet does not stay up on containerd: $(journalctl -u kubelet -n 15 --no-pager 2>&1 | tail -n 15)"
      fi
    else
      say "no kubelet on this node yet: its flags are set for when it starts"
    fi
  fi
  if [ -n "${NODE_NAME:-}" ]; then
    phase "waiting for node $NODE_NAME to be Ready on containerd (${VERIFY_TIMEOUT}s)"
    deadline=$(( $(date +%s) + VERIFY_TIMEOUT ))
    while :; do
      ST=$(node_status "$KUBECONFIG" "$NODE_NAME" || true)
      RT=${ST%% *}; READY=${ST##* }
      case "$RT" in containerd://*) if version_matches "${RT#containerd://}" "$VERSION" && [ "$READY" = True ]; then break; fi;; esac
      [ "$(date +%s)" -lt "$deadline" ] || die "node $NODE_NAME is not Ready on containerd $VERSION after ${VERIFY_TIMEOUT}s (runtime ${RT:-unknown}, Ready=${READY:-unknown}); kubelet log: $(journalctl -u kubelet -n 10 --no-pager 2>&1 | tail -n 10)"
      sleep 3
    done
    say "node $NODE_NAME is Ready on $RT"
  fi
  systemctl is-active -q containerd || die "containerd stopped during the switch: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
  [ -z "$MOVED" ] || remove "$CN_DIR/pending"
  say "switched to containerd"
  echo "{\"seconds\":$SECONDS${MOVED:+,\"moved\":\"$MOVED\"}}"
}
