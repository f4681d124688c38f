/**
 * The node-side library every remote step shares: logging, the per-node lock and run claim, a small transaction
 * (every file is saved before it is overwritten and every service's state is noted before it is
 * touched; if the step fails anywhere, the EXIT trap puts them all back and restarts what was
 * running), runtime detection, version matching, the Node API with the kubelet's credentials and
 * the kubelet flag editors.
 *
 * The pre-flight step writes it to the node, under a path named by its content hash; every step
 * sources it. So each step's command text (what `pulumi preview` diffs and the engine keeps per
 * resource) carries only what is that step's own, and a fleet's preview does not hold the shared
 * text once per step.
 */
import { createHash } from "crypto";
import { CORDON_ANNOTATION, PHASE_ANNOTATION, ROLLBACK_ANNOTATION } from "./kubectl";
import { FLAGS_AWK, YAML_KEY_AWK } from "./kubeletEdit";
import { heredoc, sq } from "./shell";
import { UPGRADE_DRAINS, VERSION_MATCHES } from "./versionShell";
import { RUNNER } from "./runner";
import { CLAIM } from "./claim";

const TRANSACTION = `log() { echo "[$STEP] $*" >&2; }
# A detached run (runner.ts) keeps its phase and its transaction on disk, for the boot-time recovery.
phase() { PHASE="$*"; log "$PHASE"; [ -z "\${CN_RUN_DIR:-}" ] || echo "$PHASE" >>"$CN_RUN_DIR/phases"; }
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
  if [ -n "\${CN_RUN_DIR:-}" ]; then
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
  if printf '%s' "$err" | grep -qiE 'no space left|failure writing output|failed writing body|error on write|disk quota exceeded'; then
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
  cn_claim_end "$rc"
  # Within a fleet's failure budget the node is now back as it was: the step ends successfully
  # (so the rollout goes on) and says on stdout that it failed.
  if [ "$rc" -ne 0 ] && [ -n "\${ABSORB_FAILURE:-}" ]; then echo "{\\"failed\\":\\"$STEP\\"}"; exit 0; fi
  exit "$rc"
}
`;

/** Shell that detects the runtime the node uses now, printed as `docker://X`, `containerd://X` or `none`. */
export const DETECT_RUNTIME = `detect_runtime() {
  local ep=""
  for f in /var/lib/kubelet/kubeadm-flags.env /etc/default/kubelet /etc/sysconfig/kubelet; do
    [ -f "$f" ] && ep=$(grep -o -- '--container-runtime-endpoint[= ][^ "]*' "$f" | tail -n1 | sed 's/^--container-runtime-endpoint[= ]//') && [ -n "$ep" ] && break
  done
  [ -z "$ep" ] && [ -f /var/lib/kubelet/config.yaml ] && ep=$(awk '/^containerRuntimeEndpoint:/{print $2}' /var/lib/kubelet/config.yaml | tr -d '"')
  if [ -n "$ep" ] && ! echo "$ep" | grep -qE 'dockershim|cri-dockerd'; then
    echo "containerd://$(containerd --version 2>/dev/null | awk '{print $3}' | sed 's/^v//')"
  elif systemctl is-active -q docker 2>/dev/null; then
    echo "docker://$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)"
  elif systemctl is-active -q containerd 2>/dev/null; then
    echo "containerd://$(containerd --version 2>/dev/null | awk '{print $3}' | sed 's/^v//')"
  else
    echo none
  fi
}
`;

/** Waits for containerd on SOCKET, checks it runs the declared version and that its CRI plugin loaded. */
const CHECK_CONTAINERD = `cri_ok() { "$1" --address "$2" plugins ls | awk '$2=="cri" && $NF=="ok"{f=1} END{exit !f}'; }
# server_version CTR SOCKET: the version the running containerd reports (not the binary on disk).
server_version() { "$1" --address "$2" version | awk '/Server:/{s=1} s&&/Version:/{print $2; exit}'; }
# check_containerd CTR SOCKET VERSION: prints the running version.
check_containerd() {
  local ctr=$1 sock=$2 want=$3 sv
  wait_for 60 "$ctr" --address "$sock" version || die "containerd does not answer on $sock: $(journalctl -u containerd -n 15 --no-pager 2>&1 | tail -n 15)"
  sv=$(server_version "$ctr" "$sock")
  version_matches "$sv" "$want" || die "containerd $sv is running, containerd.version declares $want"
  wait_for 30 cri_ok "$ctr" "$sock" || die "the CRI plugin is not loaded: $("$ctr" --address "$sock" plugins ls 2>&1 | awk '$2 ~ /cri/') $(journalctl -u containerd -n 10 --no-pager 2>&1 | grep -i 'failed to load' | tail -n 3)"
  echo "\${sv#v}"
}
`;

/**
 * The Node API as the kubelet's own credentials allow it (the node authorizer and NodeRestriction
 * let a kubelet read and patch its own Node): kubectl when the node has it, else curl with the
 * kubeconfig's certificates. node_status prints `<runtime version> <Ready status>`;
 * mark_rollback_and_uncordon lifts a cordon only if containerd-node made it (its annotation says so).
 */
const NODE_API = `node_api() { # node_api KUBECONFIG NODE [MERGE_PATCH]: prints the Node as compact JSON
  # The API server pretty-prints for curl and kubectl -o json: squeeze it so that grep can match.
  node_api_raw "$@" | tr -d '\\n' | sed -E 's/[[:space:]]*([][{}:,])[[:space:]]*/\\1/g'
  return "\${PIPESTATUS[0]}"
}
node_api_raw() {
  local kc=$1 node=$2 patch=\${3:-}
  if command -v kubectl >/dev/null; then
    if [ -n "$patch" ]; then kubectl --kubeconfig "$kc" patch node "$node" --type merge -p "$patch" -o json
    else kubectl --kubeconfig "$kc" get --raw "/api/v1/nodes/$node"; fi
    return
  fi
  local server ca cert key tmp rc=0
  tmp=$(mktemp -d)
  kv() { awk -v k="$1" '$1==k":"{print $2; exit}' "$kc" | tr -d '"'; }
  server=$(kv server)
  if [ -n "$(kv certificate-authority-data)" ]; then kv certificate-authority-data | base64 -d >"$tmp/ca"; ca=$tmp/ca; else ca=$(kv certificate-authority); fi
  if [ -n "$(kv client-certificate-data)" ]; then kv client-certificate-data | base64 -d >"$tmp/cert"; cert=$tmp/cert; else cert=$(kv client-certificate); fi
  if [ -n "$(kv client-key-data)" ]; then kv client-key-data | base64 -d >"$tmp/key"; key=$tmp/key; else key=$(kv client-key); fi
  if [ -n "$patch" ]; then
    curl -fsS --max-time 10 --cacert "$ca" --cert "$cert" --key "$key" -X PATCH -H 'Content-Type: application/merge-patch+json' \\
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
  printf '%s %s\\n' "$(echo "$json" | grep -o '"containerRuntimeVersion":"[^"]*"' | cut -d'"' -f4)" \\
    "$(echo "$json" | grep -o '"type":"Ready","status":"[A-Za-z]*"' | cut -d'"' -f8)"
}
mark_rollback_and_uncordon() { # mark_rollback_and_uncordon KUBECONFIG NODE: marks the rollback (the next run drains again), lifts our cordon
  local json
  node_api "$1" "$2" "{\\"metadata\\":{\\"annotations\\":{\\"${ROLLBACK_ANNOTATION}\\":\\"$(date +%s)\\",\\"${PHASE_ANNOTATION}\\":\\"rolled-back\\"}}}" >/dev/null ||
    echo "  could not mark node $2 as rolled back: the next run may not drain it again" >&2
  json=$(node_api "$1" "$2") || { echo "  could not read node $2 to lift containerd-node's cordon" >&2; return 0; }
  echo "$json" | grep -q '"${CORDON_ANNOTATION}":"true"' || { echo "  node $2 was not cordoned by containerd-node: left as it is" >&2; return 0; }
  if node_api "$1" "$2" '{"spec":{"unschedulable":null},"metadata":{"annotations":{"${CORDON_ANNOTATION}":null}}}' >/dev/null; then
    echo "  node $2 uncordoned (containerd-node had cordoned it)" >&2
  else
    echo "  node $2 stays cordoned: the kubelet's credentials could not lift the cordon; run kubectl uncordon $2" >&2
  fi
}
`;

/** The documented way back to the pre-containerd-node state (run by hand; pulumi destroy does not). */
export const REVERT_SH = `#!/bin/bash
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
`;

/** The whole library, as written to the node. */
export const NODE_LIB = `# containerd-node node library (written by the preflight step; sourced by every step)
${TRANSACTION}${RUNNER}${CLAIM}${DETECT_RUNTIME}${VERSION_MATCHES}${UPGRADE_DRAINS}${CHECK_CONTAINERD}${NODE_API}# shellcheck disable=SC2016 # programs for awk and bash, kept as text
FLAGS_AWK=${sq(FLAGS_AWK)}
# shellcheck disable=SC2016
YAML_KEY_AWK=${sq(YAML_KEY_AWK)}
# shellcheck disable=SC2016
REVERT_SH=${sq(REVERT_SH)}
`;

/** The library's path on the node, relative to CN_DIR: named by content, so versions never mix. */
export const NODE_LIB_FILE = `lib/node-${createHash("sha256").update(NODE_LIB).digest("hex").slice(0, 16)}.sh`;

// The variables the library reads (STEP, PHASE, TXN, CHANGED, ON_ROLLBACK) are set by each step's
// prelude: shellcheck sees the step without the library, hence the SC2034 directives.
function header(step: string): string {
    return `set -euo pipefail
umask 022
# containerd 1.7's ctr prints every deprecation on every call: the pre-flight reads them itself.
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS=1
# shellcheck disable=SC2034
STEP=${step}
CN_DIR=\${CN_DIR:-/var/lib/containerd-node}
CN_LIB=$CN_DIR/${NODE_LIB_FILE}
`;
}

/** What a step holds on the node while it runs (see claim.ts). */
type Hold =
    /** Nothing: the read-only pre-flight. */
    | { kind: "none" }
    /**
     * The node lock and the run claim, which lapses for other stacks `seconds` after the step;
     * `last`: the run's last node step, which ends the claim when it succeeds.
     */
    | { kind: "claim"; seconds: number; last: boolean };

/**
 * The step's variables and what it holds. The per-node lock is taken within seconds or refused, naming
 * its holder (CN_HOLDER: the stack, set by the runner's caller), the step and since when: a second
 * stack converting the same node is refused, not queued. The claim then refuses another stack's
 * run between this run's steps.
 */
function state(hold: Hold): string {
    const lock = `exec 9>>"$CN_DIR/lock"
# A short wait, not none: another stack's step that is only being refused by the claim holds the
# lock for a moment, and must not make this run's own next step fail.
if ! flock -w 10 9; then
  echo "containerd-node: step '$STEP' refused: this node is busy with $(cat "$CN_DIR/lock.holder" 2>/dev/null || echo "another containerd-node step") (lock $CN_DIR/lock, waited 10 s); run again once it has finished" >&2
  exit 1
fi
echo "\${CN_HOLDER:-a run}, step $STEP, since $(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$CN_DIR/lock.holder"
`;
    let held = "";
    switch (hold.kind) {
        case "none":
            break;
        case "claim":
            // The step's end (txn_end, once a transaction has begun) keeps or ends the claim.
            held = `${lock}# shellcheck disable=SC2034 # read by the library's cn_claim
CN_CLAIM_SECONDS=${hold.seconds} CN_CLAIM_LAST=${hold.last ? 1 : 0}
cn_claim
trap 'cn_claim_end $?' EXIT
`;
            break;
        default: {
            const never: never = hold;
            throw new Error(`unknown hold ${JSON.stringify(never)}`);
        }
    }
    return `# shellcheck disable=SC2034
PHASE=start
# shellcheck disable=SC2034
CHANGED=""
# shellcheck disable=SC2034
TXN=""
# A command the rollback runs last, once files and services are back (e.g. lift a cordon).
# shellcheck disable=SC2034
ON_ROLLBACK=""
mkdir -p "$CN_DIR/txn" "$CN_DIR/cache"
${held}`;
}

const SOURCE_LIB = `source "$CN_LIB"
`;

/** The step's header and the node library, sourced from the file the pre-flight wrote. */
function sourced(step: string): string {
    return `${header(step)}[ -f "$CN_LIB" ] || { echo "containerd-node: step '${step}': the node library $CN_LIB is missing (the preflight step writes it and it has been removed since): replace the node's preflight step (pulumi up --replace URN)" >&2; exit 1; }
${SOURCE_LIB}`;
}

/**
 * What every mutating step starts with: strict bash, the library, the per-node lock and the run
 * claim, which holds for other stacks `claim.seconds` after the step; the run's `last` node step
 * ends it (claim.ts).
 */
export function prelude(step: string, claim: { seconds: number; last: boolean }): string {
    return `${sourced(step)}${state({ kind: "claim", ...claim })}`;
}

/**
 * The pre-flight step's start: writes the library to the node (content-addressed, so once per
 * version; a file in containerd-node's own directory is the only thing the pre-flight writes),
 * then as `prelude` without the lock: it changes nothing, and a rerun's pre-flight must not be
 * refused while the step a lost session left running still holds it.
 */
export function preflightPrelude(): string {
    return `${header("preflight")}if [ ! -f "$CN_LIB" ]; then
  mkdir -p "$(dirname "$CN_LIB")"
  t=$(mktemp "$CN_LIB.XXXXXX")
${heredoc(`  cat >"$t"`, NODE_LIB)}
  chmod 0644 "$t"; mv -f "$t" "$CN_LIB"
fi
${SOURCE_LIB}${state({ kind: "none" })}`;
}

/** The library inline, no file needed (tests): as `prelude`, a step that is not the run's last. */
export function standalonePrelude(step: string): string {
    return `${header(step)}${NODE_LIB}${state({ kind: "claim", seconds: 900, last: false })}`;
}
