# shellcheck shell=bash
# shellcheck disable=SC2154 # the values (K, NODE, WANT, …) are set by the step text before it sources this file
# The Kubernetes-side steps' library: the drain, the verify, a fleet's health gate and the retry
# mark read, run with kubectl on the machine running `pulumi up` (nothing in Pulumi drains a node).
#
# A step's command text is its values and one call (components/scripts/kubectl.ts renders them):
# the program writes this file, named by its content hash, beside the run's kubeconfig files
# ($TMPDIR/containerd-node-UID, components/kubeconfig.ts), so its text is in no step's state and a
# new version of it is a change of every step that names it. Reads (nothing of them is kept) run
# it inline. The values every function reads:
#   K     kubectl
#   NODE  the Node's name
# and, where a fleet's failure budget applies, PLANNED: the Node's retry mark when the run was
# planned (a different mark now means an earlier step of this run failed).
#
# A cordon made by containerd-node is marked with an annotation, so the uncordon lifts only that
# cordon and a node cordoned by someone else stays cordoned. The annotations (kubectl.ts names
# them too; a unit test holds both to the same names):
CN_CORDONED=containerd-node.pulumi.com/cordoned
CN_ROLLED_BACK=containerd-node.pulumi.com/rolled-back
CN_LAST_FAILURE=containerd-node.pulumi.com/last-failure
CN_PHASE=containerd-node.pulumi.com/phase

# cn_kubeconfig_from_slot: KUBECONFIG is the file the program wrote for this step's node, named by
# CN_KUBECONFIG_SLOT (a kubeconfig given as content); the step names no directory, so the same
# stack run from another machine or user changes no step.
# run_dir: the run's own directory on this machine (components/kubeconfig.ts kubeconfigDir), where
# the program writes this library and a kubeconfig given as content, and the drain its log.
run_dir() { printf '%s' "${TMPDIR:-/tmp}/containerd-node-$(id -u)"; }
cn_kubeconfig_from_slot() {
  KUBECONFIG=$(run_dir)/kubeconfig-$CN_KUBECONFIG_SLOT
  if [ ! -r "$KUBECONFIG" ]; then
    echo "containerd-node: no kubeconfig at $KUBECONFIG: the program writes it there at pulumi up for the node's local steps, and removes it when they have run (TMPDIR must be the same for the program and the command provider)" >&2
    exit 1
  fi
  export KUBECONFIG
}

# jp_key KEY: an annotation's key as a jsonpath field (its dots escaped).
jp_key() { printf '%s' "${1//./\\.}"; }
node_get() { "$K" get node "$NODE" -o jsonpath="$1"; }
# Fields of the Node that node_read reads (jsonpath, without braces).
F_RUNTIME=.status.nodeInfo.containerRuntimeVersion
F_READY='.status.conditions[?(@.type=="Ready")].status'
F_UNSCHED=.spec.unschedulable
ann_field() { printf '.metadata.annotations.%s' "$(jp_key "$1")"; }
# node_read FIELD…: the Node's FIELDs in one read, into the array NODE_F (one value each, "" where
# the Node has none). Fails as kubectl does.
node_read() {
  local e="" f out
  for f in "$@"; do e+="{$f}{\"\\n\"}"; done
  out=$(node_get "$e") || return
  mapfile -t NODE_F <<<"$out"
}
# json_str S: S as a JSON string.
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
# node_patch SPEC ANNOTATIONS: one merge patch of the Node (a single write: all of it or none):
# SPEC is "" or the spec's JSON members ('"unschedulable":false'); ANNOTATIONS the annotations'
# JSON members ('"key":"value"', or '"key":null' to remove one).
node_patch() {
  local body="\"metadata\":{\"annotations\":{$2}}"
  if [ -n "$1" ]; then body="\"spec\":{$1},$body"; fi
  "$K" patch node "$NODE" --type=merge -p "{$body}" >/dev/null
}
# uncordon_ours PHASE: lifts the cordon containerd-node made and its mark, and sets the phase, in one write.
uncordon_ours() { node_patch '"unschedulable":false' "\"$CN_CORDONED\":null,\"$CN_PHASE\":\"$1\""; }
# runtime_now: the Node's containerRuntimeVersion, a line (nothing on it when it can't be read).
runtime_now() { node_get "{$F_RUNTIME}" || true; echo; }
set_phase() { "$K" annotate --overwrite node "$NODE" "$CN_PHASE=$1" >/dev/null || true; }

# read_marks: RB and FA, the Node's rolled-back and last-failure annotations, and MARK, its retry
# mark ("RB", or "RB failed:FA" after a failure within a budget; kubectl.ts retryMark).
read_marks() {
  node_read "$(ann_field "$CN_ROLLED_BACK")" "$(ann_field "$CN_LAST_FAILURE")" \
    || { echo "containerd-node: cannot read node $NODE with $K (KUBECONFIG=${KUBECONFIG:-unset})" >&2; exit 1; }
  RB=${NODE_F[0]-}
  FA=${NODE_F[1]-}
  MARK=$RB
  if [ -n "$FA" ]; then MARK="$RB failed:$FA"; fi
}

# cn_retry_mark: prints the Node's retry mark (a read, at every preview and update: a new mark
# makes the drain run again, since a rollback lifted its cordon).
cn_retry_mark() { read_marks; echo "$MARK"; }

# skip_if_failed: within a failure budget, when an earlier step of this run failed, says so and
# ends the step (successfully): nothing more is done to the node.
skip_if_failed() {
  [ -n "${PLANNED+x}" ] || return 0
  read_marks
  [ "$MARK" = "$PLANNED" ] && return 0
  echo "node $NODE failed earlier in this run (${FA:-rolled back}): skipped" >&2
  echo "{\"skipped\":true,\"failure\":\"${FA:-switch}\"}"
  runtime_now
  exit 0
}

# failed STEP: ends a failed step. Within a failure budget the failure is recorded on the Node and
# the step ends successfully, so the rollout goes on; else the run fails.
failed() {
  if [ -n "${PLANNED+x}" ]; then
    "$K" annotate --overwrite node "$NODE" "$CN_LAST_FAILURE=$1 $(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null || exit 1
    set_phase "$1-failed"
    echo "containerd-node: node $NODE failed at step $1 within the failure budget; the rollout goes on" >&2
    echo "{\"failed\":\"$1\"}"
    runtime_now
    exit 0
  fi
  set_phase "$1-failed"
  exit 1
}

# cn_drain: cordons and drains the node unless it already runs containerd WANT, or runs another
# containerd that upgrade.drain POLICY moves in place (then nothing is done). A drain that fails
# (a PodDisruptionBudget until the timeout, an unmanaged pod without force) lifts the cordon it
# made and fails the step with nothing on the node changed. Values: WANT, POLICY, DRAIN_FLAGS
# (kubectl drain's flags, an array). Prints one JSON line.
# kubectl's own output (a line or two per pod evicted, one every 5 s while a PodDisruptionBudget
# holds an eviction back) goes to the drain's log in the run's directory, drain-NODE.log, not to
# the step's output, which the state keeps: the step says where the log is as it starts, then
# how many pods were evicted, or, when the drain failed, the log's last lines.
cn_drain() {
  local rt unsched ours was=false v start log secs n
  node_read "$F_RUNTIME" "$F_UNSCHED" "$(ann_field "$CN_CORDONED")" || { echo "containerd-node: cannot read node $NODE" >&2; exit 1; }
  rt=${NODE_F[0]-} unsched=${NODE_F[1]-} ours=${NODE_F[2]-}
  if [ "$unsched" = true ] && [ "$ours" != true ]; then was=true; fi
  case "$rt" in containerd://*)
    v=${rt#containerd://}
    if version_matches "$v" "$WANT"; then
      echo "node $NODE already runs $rt: not draining" >&2
      echo "{\"drained\":false,\"wasCordoned\":$was,\"runtime\":\"$rt\"}"
      return 0
    fi
    if ! upgrade_drains "$v" "$WANT" "$POLICY"; then
      echo "node $NODE moves from $rt to containerd $WANT in place (upgrade.drain $POLICY): not draining" >&2
      echo "{\"drained\":false,\"wasCordoned\":$was,\"runtime\":\"$rt\"}"
      return 0
    fi
    echo "node $NODE moves from $rt to containerd $WANT: draining first (upgrade.drain $POLICY)" >&2;;
  esac
  start=$(date +%s)
  log=$(run_dir)/drain-$NODE.log
  : >"$log"
  echo "draining node $NODE (kubectl's output: $log)" >&2
  # The cordon, its mark (unless someone else cordoned the node) and the phase: one write.
  if [ "$was" = false ]; then
    node_patch '"unschedulable":true' "\"$CN_CORDONED\":\"true\",\"$CN_PHASE\":\"draining\""
  else
    set_phase draining
  fi
  if ! "$K" drain "$NODE" "${DRAIN_FLAGS[@]}" >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    if [ "$was" = false ] && uncordon_ours drain-failed; then
      echo "containerd-node: draining $NODE failed (see kubectl's message above: a PodDisruptionBudget, or pods without a controller unless drain.force); the node was uncordoned and nothing on it was changed" >&2
    elif [ "$was" = false ]; then
      echo "containerd-node: draining $NODE failed (see kubectl's message above), and so did lifting its cordon: it stays cordoned (the next run lifts the cordon once it is converted); nothing on it was changed" >&2
    else
      echo "containerd-node: draining $NODE failed (see kubectl's message above); it stays cordoned as it was before the run and nothing on it was changed" >&2
    fi
    failed drain
  fi
  set_phase switching
  secs=$(( $(date +%s) - start ))
  n=$(grep -cx 'pod/.* evicted' "$log" || true)
  echo "node $NODE drained in ${secs}s: $n pod$([ "$n" = 1 ] || echo s) evicted" >&2
  echo "{\"drained\":true,\"wasCordoned\":$was,\"runtime\":\"$rt\",\"seconds\":$secs}"
}

# cn_verify: after the switch, waits (VERIFY_TIMEOUT seconds) for the Node to be Ready on
# containerd WANT; points kubeadm's kubeadm.alpha.kubernetes.io/cri-socket annotation at
# CRI_SOCKET when that is not empty (read by kubeadm upgrade up to 1.33); then lifts the cordon
# containerd-node made (a node cordoned before the run stays cordoned). Prints a JSON line with its
# duration, then the Node's containerRuntimeVersion.
cn_verify() {
  local deadline rt ready secs cur ours spec="" ann cri=false
  skip_if_failed
  set_phase verifying
  deadline=$(( $(date +%s) + VERIFY_TIMEOUT ))
  while :; do
    # (One read a round: what the wait checks, and what the write after it needs.)
    node_read "$F_RUNTIME" "$F_READY" "$(ann_field kubeadm.alpha.kubernetes.io/cri-socket)" "$(ann_field "$CN_CORDONED")" 2>/dev/null || NODE_F=()
    rt=${NODE_F[0]-} ready=${NODE_F[1]-} cur=${NODE_F[2]-} ours=${NODE_F[3]-}
    case "$rt" in containerd://*) if [ "$ready" = True ] && version_matches "${rt#containerd://}" "$WANT"; then break; fi;; esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "containerd-node: node $NODE is not Ready on containerd $WANT (runtime ${rt:-unknown}, Ready=${ready:-unknown})" >&2
      failed verify
    fi
    sleep 3
  done
  secs=$SECONDS
  # The cri-socket annotation, the cordon containerd-node made and its mark lifted, and the phase:
  # one write, all of it or none.
  ann="\"$CN_PHASE\":\"converted\""
  if [ -n "$CRI_SOCKET" ] && [ "$cur" != "$CRI_SOCKET" ]; then
    cri=true
    ann+=",\"kubeadm.alpha.kubernetes.io/cri-socket\":$(json_str "$CRI_SOCKET")"
  fi
  if [ "$ours" = true ]; then
    spec='"unschedulable":false'
    ann+=",\"$CN_CORDONED\":null"
  fi
  node_patch "$spec" "$ann"
  if [ "$cri" = true ]; then echo "cri-socket annotation: ${cur:-none} -> $CRI_SOCKET" >&2; fi
  if [ "$ours" = true ]; then
    echo "node $NODE uncordoned" >&2
  else
    echo "node $NODE was not cordoned by containerd-node: left as it is" >&2
  fi
  echo "{\"seconds\":$secs}"
  echo "$rt"
}

# gate_fail REASON: the health gate failed. Within a failure budget (Kubernetes mode) the failure
# is recorded on the Node and reported on stdout, and the gate ends successfully, so the rollout
# goes on; else the run fails.
gate_fail() {
  if [ -n "${K:-}" ] && [ -n "${PLANNED+x}" ]; then
    local f
    echo "containerd-node: health gate of $NODE failed: $*; within the failure budget, the rollout goes on" >&2
    f="gate $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    "$K" annotate --overwrite node "$NODE" "$CN_LAST_FAILURE=$f" "$CN_PHASE=gate-failed" >/dev/null || exit 1
    echo "{\"node\":\"$NODE\",\"passed\":false,\"failure\":\"$f\"}"
    exit 0
  fi
  echo "containerd-node: health gate of $NODE failed: $*" >&2
  exit 1
}

# cn_gate: a fleet's health gate after a node: the next wave starts only when every node of this
# one passed. Kubernetes mode (K set): the Node is Ready, its containerRuntimeVersion is containerd
# WANT, every DaemonSet pod on it is Running and ready; then each of PROBES (an array of commands,
# run with NODE exported, each retried until it passes), within GATE_TIMEOUT seconds in all; then
# PAUSE seconds before the next wave. Values: NODE (the Node's name, or the node's resource name in
# host mode), PROBES, GATE_TIMEOUT, PAUSE; K and WANT in Kubernetes mode.
cn_gate() {
  local deadline i rt ready phase="" bad
  export NODE
  deadline=$(( $(date +%s) + GATE_TIMEOUT ))
  if [ -n "${K:-}" ]; then
    if [ -n "${PLANNED+x}" ]; then
      read_marks
      if [ "$MARK" != "$PLANNED" ]; then
        echo "node $NODE failed earlier in this run (${FA:-switch rolled back}): not gated" >&2
        echo "{\"node\":\"$NODE\",\"passed\":false,\"failure\":\"${FA:-switch}\"}"
        exit 0
      fi
    fi
    while :; do
      node_read "$F_RUNTIME" "$F_READY" "$(ann_field "$CN_PHASE")" 2>/dev/null || NODE_F=()
      rt=${NODE_F[0]-} ready=${NODE_F[1]-} phase=${NODE_F[2]-}
      # One line per DaemonSet pod on the node: "ns/name phase ready…"; a pod is good when Running and all ready.
      bad=$("$K" get pods -A --field-selector "spec.nodeName=$NODE" -o jsonpath='{range .items[?(@.metadata.ownerReferences[0].kind=="DaemonSet")]}{.metadata.namespace}/{.metadata.name} {.status.phase} {.status.containerStatuses[*].ready}{"\n"}{end}' 2>/dev/null | awk 'NF && ($2 != "Running" || / false/) {print $1}')
      if [ "$ready" = True ] && version_matches "${rt#containerd://}" "$WANT" && [ -z "$bad" ]; then break; fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        gate_fail "Ready=${ready:-unknown}, runtime ${rt:-unknown} (want containerd $WANT), DaemonSet pods not running: ${bad:-none}"
      fi
      sleep 3
    done
  fi
  for i in "${!PROBES[@]}"; do
    until bash -c "${PROBES[$i]}" >&2; do
      if [ "$(date +%s)" -ge "$deadline" ]; then gate_fail "probe $((i + 1)) (${PROBES[$i]}) did not pass"; fi
      sleep 3
    done
  done
  # (A verify just before has set it: not written again.)
  if [ -n "${K:-}" ] && [ "$phase" != converted ]; then "$K" annotate --overwrite node "$NODE" "$CN_PHASE=converted" >/dev/null; fi
  if [ "$PAUSE" -gt 0 ]; then sleep "$PAUSE"; fi
  echo "{\"node\":\"$NODE\",\"passed\":true,\"seconds\":$SECONDS}"
}

# cn_verify_gated: a fleet node's verify and the fleet's health gate after it (Kubernetes mode; the
# values of both; cn_verify_wave runs it for each node of a wave): cn_verify, then cn_gate once the
# verify passed (or, within a failure budget, ended the node's run successfully: the gate then
# reports the node as failed), each in a subshell (their exits end only their part). The gate runs
# as its own step runs it, without errexit (its reads may fail until its deadline). Prints the
# verify's lines, the gate's JSON line, then the Node's containerRuntimeVersion last.
cn_verify_gated() {
  ( cn_verify )
  ( set +e; cn_gate )
  runtime_now
}

# wave_value NAME I: node I's value of NAME, which holds one value per node (a list of more than
# one) or one value for every node.
wave_value() {
  local all="$1[@]" vs
  vs=("${!all}")
  if [ "${#vs[@]}" -gt 1 ]; then printf '%s' "${vs[$2]}"; else printf '%s' "${vs[0]-}"; fi
}

# wave_run DIR LOG FN NAME…: runs FN for each node of a fleet's wave (NODES), AT_ONCE at a time,
# each in a subshell of its own with errexit, NODE set and each NAME that is set to its value for
# that node (wave_value). Its stdout goes to DIR/I and its exit status to DIR/I.rc (I: its index
# in NODES); its stderr to LOG-NODE.log in the run's directory, or to DIR/I.err when LOG is "".
wave_run() {
  local dir=$1 log=$2 fn=$3 i err
  shift 3
  # shellcheck disable=SC2153 # NODES is a value of the step
  for i in "${!NODES[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$AT_ONCE" ]; do wait -n || true; done
    if [ -n "$log" ]; then err=$(run_dir)/$log-${NODES[$i]}.log; else err=$dir/$i.err; fi
    (
      (
        set -e
        NODE=${NODES[$i]}
        for name in "$@"; do
          if [ -n "${!name+x}" ]; then
            v=$(wave_value "$name" "$i")
            unset "$name"
            printf -v "$name" '%s' "$v"
          fi
        done
        "$fn"
      ) >"$dir/$i" 2>"$err"
      echo "$?" >"$dir/$i.rc"
    ) &
  done
  wait
}

# wave_rc DIR I: node I's exit status (1 when it has none).
wave_rc() { cat "$1/$2.rc" 2>/dev/null || echo 1; }

# cn_drain_wave: a fleet's wave once its nodes' configure steps are done (Kubernetes mode, one step
# a wave): every node's drain (cn_drain), AT_ONCE of the wave's nodes at a time. Values: NODES;
# WANT, POLICY and, within a failure budget, PLANNED (each one value for every node or one per
# node, see wave_value); DRAIN_FLAGS (every node's); AT_ONCE.
# Prints one JSON line per node, in NODES' order: {"node":…,"drain":<cn_drain's JSON line>} (null
# when it printed none), and each node's few lines of messages on stderr, in the same order; kubectl's
# output is each node's drain-NODE.log, as cn_drain writes it.
# Fails when a node's drain failed, naming it; the nodes this step drained are then uncordoned
# (their cordon lifted, their phase drain-undone): no switch follows in this run, and nothing on
# them was changed. Within a failure budget a node's failure is its line's report, and the step
# ends successfully.
cn_drain_wave() {
  local i dir line failed=() ours=() n=0
  dir=$(mktemp -d "$(run_dir)/wave.XXXXXX") || exit 1
  wave_run "$dir" "" cn_drain WANT POLICY PLANNED
  for i in "${!NODES[@]}"; do
    line=$(grep -m1 '^{' "$dir/$i" || true)
    printf '{"node":"%s","drain":%s}\n' "${NODES[$i]}" "${line:-null}"
    cat "$dir/$i.err" >&2
    if [ "$(wave_rc "$dir" "$i")" != 0 ]; then
      failed+=("${NODES[$i]}")
    elif [[ "$line" == *'"drained":true'* ]]; then
      n=$((n + 1))
      if [[ "$line" == *'"wasCordoned":false'* ]]; then ours+=("${NODES[$i]}"); fi
    fi
  done
  rm -rf "$dir"
  if [ "${#failed[@]}" -gt 0 ]; then
    for NODE in "${ours[@]}"; do
      if uncordon_ours drain-undone; then
        echo "node $NODE uncordoned: its wave stops here" >&2
      else
        echo "containerd-node: could not uncordon $NODE: it stays cordoned (the next run lifts the cordon once it is converted)" >&2
      fi
    done
    echo "containerd-node: ${#failed[@]} of ${#NODES[@]} nodes of this wave failed to drain: ${failed[*]}" >&2
    exit 1
  fi
  echo "${#NODES[@]} node$([ "${#NODES[@]}" = 1 ] || echo s) of this wave: $n drained (kubectl's output: $(run_dir)/drain-NODE.log)" >&2
}

# wave_verify_node: a node's verify and health gate within its wave (no pause: the wave pauses once).
wave_verify_node() {
  PAUSE=0
  cn_verify_gated
}

# cn_verify_wave: a fleet's wave once its nodes' switches are done (Kubernetes mode, one step a
# wave): every node's verify and then the fleet's health gate after it (cn_verify_gated), AT_ONCE
# of the wave's nodes at a time; then PAUSE seconds once, when every node passed. Values: NODES
# (the Nodes' names); WANT, VERIFY_TIMEOUT, CRI_SOCKET and, within a failure budget, PLANNED (each
# one value for every node or one per node, see wave_value); PROBES, GATE_TIMEOUT, PAUSE, AT_ONCE.
# AFTER (the wave's drain, a digest) is not read: it makes the step's text change whenever the
# drain runs again, so the verify that lifts its cordons runs again too.
# Prints one JSON line per node, in NODES' order: {"node":…,"verify":<cn_verify's JSON line>,
# "gate":<cn_gate's>,"runtime":<the Node's containerRuntimeVersion>} (null for a part that did not
# print one). Each node's messages go to verify-NODE.log in the run's directory, not to the step's
# output, which the state keeps; a node that failed has its last lines there on stderr too. Fails
# when a node failed, naming it (within a failure budget a node's failure is its lines' report, and
# the step ends successfully).
cn_verify_wave() {
  local i dir log out v g rt failed=()
  dir=$(mktemp -d "$(run_dir)/wave.XXXXXX") || exit 1
  wave_run "$dir" verify wave_verify_node WANT VERIFY_TIMEOUT CRI_SOCKET PLANNED
  for i in "${!NODES[@]}"; do
    out=$dir/$i
    v=$(grep -m1 '^{' "$out" || true)
    # (The gate's line without its node, which the line names already.)
    g=$(grep '^{' "$out" | sed -n '2{s/^{"node":"[^"]*",/{/;p}')
    rt=$(grep -v '^{' "$out" | tail -n 1)
    printf '{"node":"%s","verify":%s,"gate":%s,"runtime":"%s"}\n' "${NODES[$i]}" "${v:-null}" "${g:-null}" "$rt"
    if [ "$(wave_rc "$dir" "$i")" != 0 ] || { [ -z "${PLANNED+x}" ] && [[ "$g" != *'"passed":true'* ]]; }; then
      log=$(run_dir)/verify-${NODES[$i]}.log
      failed+=("${NODES[$i]}")
      echo "node ${NODES[$i]} failed (the last lines of $log):" >&2
      tail -n 5 "$log" >&2
    fi
  done
  rm -rf "$dir"
  if [ "${#failed[@]}" -gt 0 ]; then
    echo "containerd-node: ${#failed[@]} of ${#NODES[@]} nodes of this wave failed: ${failed[*]}" >&2
    exit 1
  fi
  echo "${#NODES[@]} node$([ "${#NODES[@]}" = 1 ] || echo s) verified and gated (each node's messages: $(run_dir)/verify-NODE.log)" >&2
  if [ "$PAUSE" -gt 0 ]; then sleep "$PAUSE"; fi
}

# A kubeconfig given as content: the step's environment names its file.
if [ -n "${CN_KUBECONFIG_SLOT:-}" ]; then cn_kubeconfig_from_slot; fi
