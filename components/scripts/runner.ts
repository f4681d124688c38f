/**
 * Detached steps: every mutating node step runs on the node as a transient systemd unit, not in
 * the shell of its SSH session, so a lost session, a killed `pulumi` or a cancelled CI runner
 * can't cut it in half: it completes or rolls back on the node. The SSH side only follows it.
 *
 * A run is named by the step and the hash of its script: the next `pulumi up`, sending the same
 * step again, finds it instead of starting a second one (still running: follows its log;
 * finished: reports its result, once). A node rebooted during a run is rolled back at boot
 * (containerd-node-recover.service, before containerd, Docker and the kubelet start), so it comes
 * up on the runtime it had before the step; the next run of the step says so and runs it again.
 */

/** The unit that rolls back, at boot, a step a reboot cut short. */
export const RECOVER_UNIT = "containerd-node-recover.service";

/** Bash functions of the node library (they use the transaction's rollback helpers). */
export const RUNNER = `# --- detached steps (components/scripts/runner.ts)
RUNS_KEEP=20
# cn_run NAME SCRIPT_FILE: runs the step as a transient unit, or finds its run; follows it.
cn_run() {
  local name=$1 script=$2 id dir unit
  # The holder (the stack) is part of the name: another stack's run of the same step is not ours.
  id=$({ cat "$script"; echo "\${CN_HOLDER:-}"; } | sha256sum | cut -c1-16)
  dir=$CN_DIR/runs/$name-$id unit=containerd-node-$name-$id
  mkdir -p "$CN_DIR/runs/done"
  if [ -f "$dir/interrupted" ]; then
    # Cut short by a reboot and rolled back at boot: said, filed, and run again now.
    echo "[$name] $(tail -n 1 "$dir/err"); running it again" >&2
    mv -f "$dir" "$CN_DIR/runs/done/$(date +%s)-\${dir##*/}"
  fi
  if [ -f "$dir/rc" ]; then
    echo "[$name] found this step's run on the node, finished while no one followed it: its result" >&2
  elif [ -d "$dir" ] && systemctl is-active -q "$unit" 2>/dev/null; then
    echo "[$name] found this step still running on the node (its SSH session was lost): following it" >&2
  else
    rm -rf "$dir"; mkdir -p "$dir"
    install -m 0600 "$script" "$dir/script"
    : >"$dir/out"; : >"$dir/err"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/started"
    systemctl reset-failed "$unit" >/dev/null 2>&1 || true
    # The script holds the step's values (credentials too): removed as soon as it has run.
    # shellcheck disable=SC2016 # the unit's own script: $1 is its argument
    systemd-run --quiet --collect --unit="$unit" --description="containerd-node step $name" \\
      --setenv=CN_DIR="$CN_DIR" --setenv=CN_RUN_DIR="$dir" --setenv=CN_HOLDER="\${CN_HOLDER:-}" \\
      /bin/bash -c 'bash "$1/script" >"$1/out" 2>"$1/err"; rc=$?; rm -f "$1/script"; echo "$rc" >"$1/rc.tmp"; mv -f "$1/rc.tmp" "$1/rc"' _ "$dir" ||
      { echo "containerd-node: step '$name': systemd-run could not start it" >&2; return 1; }
  fi
  cn_follow "$name" "$dir" "$unit"
}

# cn_follow NAME DIR UNIT: streams the run's stderr, waits for its result, prints its stdout and
# returns its exit status. The first follower to report a result files the run under runs/done
# (so the same step sent again later runs again); a follower that loses the race reads it there.
cn_follow() {
  local name=$1 dir=$2 unit=$3 tailpid rc out gone=0 at
  tail -n +1 -F "$dir/err" >&2 2>/dev/null &
  tailpid=$!
  while [ -d "$dir" ] && [ ! -f "$dir/rc" ]; do
    if systemctl is-active -q "$unit" 2>/dev/null; then gone=0; else gone=$((gone + 1)); fi
    # Gone for 5 s without a result: stopped or killed from outside.
    if [ "$gone" -ge 10 ]; then
      echo "containerd-node: step '$name' ended without a result (its unit was stopped or killed); see $dir/err" >&2
      echo 1 >"$dir/rc"
    fi
    sleep 0.5
  done
  sleep 0.3
  kill "$tailpid" 2>/dev/null; wait "$tailpid" 2>/dev/null
  at=$dir
  [ -f "$at/rc" ] || at=$(find "$CN_DIR/runs/done" -maxdepth 1 -name "*-\${dir##*/}" | sort -n | tail -n 1)
  rc=$(cat "$at/rc" 2>/dev/null || echo 1)
  out=$(cat "$at/out" 2>/dev/null || true)
  rm -f "$at/script"
  if [ "$at" = "$dir" ] && mkdir "$dir/reported" 2>/dev/null; then
    mv -f "$dir" "$CN_DIR/runs/done/$(date +%s)-\${dir##*/}"
    # shellcheck disable=SC2012 # names are ours: digits and dashes
    ls -1 "$CN_DIR/runs/done" | sort -n | head -n -"$RUNS_KEEP" | while read -r old; do rm -rf "\${CN_DIR:?}/runs/done/$old"; done
  fi
  [ -z "$out" ] || printf '%s\n' "$out"
  return "$rc"
}

# cn_recover_unit: the boot-time recovery, a unit that runs before the runtimes and the kubelet
# start the newest node library's cn_recover_at_boot. Installed inside the step's transaction
# (txn_begin calls it), so a step that fails leaves no trace of it either; idempotent.
cn_recover_unit() {
  local u=/etc/systemd/system/${RECOVER_UNIT} link=/etc/systemd/system/multi-user.target.wants/${RECOVER_UNIT} script=$CN_DIR/recover.sh
  # shellcheck disable=SC2016 # written for later
  printf '%s\n' '#!/bin/bash' 'CN_DIR=$(cd "$(dirname "$0")" && pwd)' \
    'lib=$(ls -t "$CN_DIR"/lib/node-*.sh 2>/dev/null | head -n 1)' '[ -n "$lib" ] || exit 0' \
    'source "$lib"' 'cn_recover_at_boot' | put "$script" 0755
  printf '%s\n' "[Unit]" "Description=containerd-node: roll back a step a reboot cut short" "DefaultDependencies=no" \
    "After=local-fs.target" "Before=containerd.service docker.service docker.socket kubelet.service" \
    "[Service]" "Type=oneshot" "ExecStart=/bin/bash $script" "[Install]" "WantedBy=multi-user.target" | put "$u" 0644
  if [ "$(readlink "$link" 2>/dev/null)" != "$u" ]; then save "$link"; mkdir -p "\${link%/*}"; ln -sfn "$u" "$link"; fi
}

# cn_recover_at_boot: every run without a result was cut by the reboot: its transaction's files
# and unit enablement go back (the boot then starts what was running), and its result says so.
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
        case "$enabled" in enabled) systemctl enable "$u" >/dev/null 2>&1 || true;; disabled) systemctl disable "$u" >/dev/null 2>&1 || true;; esac
      done <"$txn/units"
      rm -rf "$txn"
      echo "containerd-node: the node rebooted during this step ($(tail -n 1 "$dir/phases" 2>/dev/null || echo "phase unknown")); at boot every file and service it had changed was put back" >>"$dir/err"
    else
      echo "containerd-node: the node rebooted during this step, before it had changed anything" >>"$dir/err"
    fi
    rm -f "$dir/script"
    touch "$dir/interrupted"
    echo 1 >"$dir/rc"
  done
}
`;
